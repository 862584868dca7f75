import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { runInSandbox } from '../sandbox/run-container';
import type { SandboxMount, SandboxResult } from '../sandbox/run-container';
import type { SandboxLimits } from '../sandbox/limits';
import { parseTraceback, tail } from '../workflows/traceback';
import type { RunSummary, TestRunSummary } from '../workflows/incident-types';
import { sha256, writeFileAtomic } from './incident-paths';
import type { IncidentPaths } from './incident-paths';
import { isTestFile } from './workspace';
import { listFiles } from './copy-tree';

export const WORKSPACE_IN_CONTAINER = '/workspace';
export const SCRIPT_IN_CONTAINER = '/opsguard/reproduction.py';

/** The container's whole environment. Nothing of the worker's (keys, tokens) is passed in. */
const SANDBOX_ENV = {
  HOME: '/tmp',
  PYTHONPATH: WORKSPACE_IN_CONTAINER,
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};

/** Inside an activity: heartbeat while the container runs, and stop it when cancelled. */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside a worker (a script or a bench)
  }
}

async function run(
  docker: Docker,
  args: {
    image: string;
    argv: string[];
    mounts: SandboxMount[];
    limits: SandboxLimits;
    incidentId: string;
    purpose: string;
  },
): Promise<SandboxResult> {
  const ctx = activityContext();
  const beat = ctx ? setInterval(() => ctx.heartbeat(), 5000) : undefined;
  try {
    return await runInSandbox(docker, {
      image: args.image,
      argv: args.argv,
      workdir: WORKSPACE_IN_CONTAINER,
      mounts: args.mounts,
      env: SANDBOX_ENV,
      limits: args.limits,
      incidentId: args.incidentId,
      purpose: args.purpose,
      signal: ctx?.cancellationSignal,
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/no such image/i.test(message)) {
      throw ApplicationFailure.nonRetryable(
        `The sandbox image ${args.image} does not exist on the Docker engine; run 'npm run setup' or set OPSGUARD_SANDBOX_IMAGE`,
        'SandboxImageMissing',
      );
    }
    throw err; // a daemon hiccup: Temporal retries the activity
  } finally {
    clearInterval(beat);
  }
}

/** Save full output as artifacts and summarise the run for the workflow (tails only). */
async function summarise(result: SandboxResult, dir: string, prefix = ''): Promise<RunSummary> {
  const stdoutPath = path.join(dir, `${prefix}stdout.txt`);
  const stderrPath = path.join(dir, `${prefix}stderr.txt`);
  await writeFileAtomic(stdoutPath, result.stdout);
  await writeFileAtomic(stderrPath, result.stderr);
  const tb = parseTraceback(result.stderr);
  const repoFrame = tb?.frames.filter((f) => f.file.startsWith(`${WORKSPACE_IN_CONTAINER}/`)).at(-1);
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    oomKilled: result.oomKilled,
    durationMs: result.durationMs,
    imageId: result.imageId,
    limits: {
      memoryMb: result.limits.memoryMb,
      cpus: result.limits.cpus,
      timeoutSeconds: result.limits.timeoutSeconds,
      pids: result.limits.pids,
    },
    warnings: result.warnings,
    exception: tb?.exceptionType
      ? {
          type: tb.exceptionType,
          message: tb.message.slice(0, 500),
          innermostRepoFrame: repoFrame
            ? { file: repoFrame.file.slice(WORKSPACE_IN_CONTAINER.length + 1), func: repoFrame.func }
            : null,
        }
      : null,
    stdoutTail: tail(result.stdout, 1500),
    stderrTail: tail(result.stderr, 2500),
    stdoutPath,
    stderrPath,
    outputTruncated: result.stdoutTruncated || result.stderrTruncated,
  };
}

/**
 * Run the reproduction script, pinned by its hash, in a fresh container: the workspace and the
 * script are mounted read-only, so neither the script nor a patch can change the other.
 */
export async function runReproduction(
  docker: Docker,
  paths: IncidentPaths,
  args: {
    incidentId: string;
    scriptPath: string;
    scriptSha256: string;
    outDir: string;
    image: string;
    limits: SandboxLimits;
    purpose: string;
  },
): Promise<RunSummary> {
  const script = await fs.readFile(args.scriptPath);
  if (sha256(script) !== args.scriptSha256) {
    throw ApplicationFailure.nonRetryable(
      `The reproduction script ${args.scriptPath} no longer matches its recorded hash`,
      'ArtifactTampered',
    );
  }
  const result = await run(docker, {
    image: args.image,
    argv: ['python3', SCRIPT_IN_CONTAINER],
    mounts: [
      { hostPath: paths.workspace, containerPath: WORKSPACE_IN_CONTAINER, readOnly: true },
      { hostPath: args.scriptPath, containerPath: SCRIPT_IN_CONTAINER, readOnly: true },
    ],
    limits: args.limits,
    incidentId: args.incidentId,
    purpose: args.purpose,
  });
  return await summarise(result, args.outDir);
}

/** The repository's tests: `testCommand` when given, else pytest where test files exist. */
export async function runRepoTests(
  docker: Docker,
  paths: IncidentPaths,
  args: { incidentId: string; testCommand?: string[]; outDir: string; image: string; limits: SandboxLimits },
): Promise<TestRunSummary> {
  let command = args.testCommand;
  if (!command) {
    const files = await listFiles(paths.workspace);
    if (!files.some(isTestFile))
      return {
        ran: false,
        command: [],
        reason: 'no test files (test_*.py, *_test.py) in the repository',
        passed: true,
      };
    command = ['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider'];
  }
  const result = await run(docker, {
    image: args.image,
    argv: command,
    mounts: [{ hostPath: paths.workspace, containerPath: WORKSPACE_IN_CONTAINER, readOnly: true }],
    limits: args.limits,
    incidentId: args.incidentId,
    purpose: 'tests',
  });
  const summary = await summarise(result, args.outDir, 'tests-');
  return { ran: true, command, run: summary, passed: result.exitCode === 0 && !result.timedOut };
}
