import os from 'node:os';

/** Who is deciding at this terminal: OPSGUARD_USER, else the login name. */
export function operatorName(): string {
  return process.env.OPSGUARD_USER ?? process.env.USER ?? os.userInfo().username;
}
