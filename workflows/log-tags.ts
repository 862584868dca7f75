/**
 * The tags of the lines operators read (the seed's `[STATE] reproduce_attempt_1`, `[DOCKER]
 * exit_code=1`, ...). Lines that start with one are always printed by the worker, whatever the log
 * level (worker/create-worker.ts); everything else follows OPSGUARD_LOG_LEVEL.
 */
export const TAG = {
  state: '[STATE]',
  classify: '[CLASSIFY]',
  environment: '[ENV]',
  docker: '[DOCKER]',
  gate1: '[GATE1]',
  gate2: '[GATE2]',
  tests: '[TESTS]',
  patch: '[PATCH]',
  success: '[SUCCESS]',
  end: '[END]',
  approval: '[APPROVAL]',
  delivery: '[DELIVERY]',
  move: '[MOVE]',
} as const;

/** True for a line an operator must see. */
export function isOperatorLine(message: string): boolean {
  return Object.values(TAG).some((t) => message.startsWith(`${t} `));
}
