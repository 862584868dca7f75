/** An error the user can fix (bad input, a service not running). Printed without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    /** Process exit code: 2 for bad usage/input, 3 for an unreachable service, 4 for not found. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
