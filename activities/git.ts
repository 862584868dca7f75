/**
 * Running git on the operator's repository, the one way: plumbing commands with a private index
 * (GIT_INDEX_FILE), so the working tree, the index and HEAD are never touched; no optional locks (a
 * read never rewrites the index); the repository's hooks and fsmonitor switched off (the worker never
 * runs code the repository controls); never a prompt for credentials. Credentials, when a command
 * needs them, come in `secretEnv` (environment only: never argv, never a file).
 */
import { spawn } from 'node:child_process';
import { searchPath } from '../worker/settings';

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
}

export interface GitOptions {
  /** Extra environment: GIT_INDEX_FILE, author and committer, dates. */
  env?: Record<string, string>;
  /** Environment holding credentials; kept out of every error message. */
  secretEnv?: Record<string, string>;
  input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 from `rev-parse --verify -q`). */
  okCodes?: number[];
  timeoutMs?: number;
}

/** What every git command runs with: nothing from the repository gets to execute. */
const SAFE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'credential.helper='];

export async function git(
  cwd: string,
  args: string[],
  opts: GitOptions = {},
): Promise<{ stdout: string; exitCode: number }> {
  const env: NodeJS.ProcessEnv = {
    PATH: searchPath(), // only PATH, to find git: nothing else of the worker's environment
    HOME: '/nonexistent', // no user-level configuration (~/.gitconfig) shapes what OpsGuard writes
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
    ...opts.env,
    ...opts.secretEnv,
  };
  const child = spawn('git', [...SAFE_CONFIG, ...args], {
    cwd,
    env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // git may exit before reading it all; its exit code says why
    child.stdin.end(opts.input);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  const stdout = Buffer.concat(out).toString('utf8');
  if (exitCode === 0 || (exitCode !== null && opts.okCodes?.includes(exitCode))) return { stdout, exitCode };
  let stderr = Buffer.concat(err).toString('utf8');
  for (const value of Object.values(opts.secretEnv ?? {})) if (value) stderr = stderr.split(value).join('[REDACTED]');
  throw new GitError(args, exitCode, stderr);
}

/** The trimmed output of a git command (a sha, a ref, a path). */
export async function gitLine(cwd: string, args: string[], opts: GitOptions = {}): Promise<string> {
  return (await git(cwd, args, opts)).stdout.trim();
}
