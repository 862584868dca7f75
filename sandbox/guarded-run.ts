/**
 * A guarded run: one of OpsGuard's Python entry points (sandbox/runner/) in a fresh container, with
 * a fresh random key written on its stdin, its spec and scripts mounted read-only, and one host file
 * mounted writable for its records. The key stays in this function: it is not in argv, the environment, a
 * file, Temporal's history or any artifact; the records are checked against it before anyone reads them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { SandboxLimits } from './limits';
import { SandboxContainer } from './run-container';
import type { SandboxMount, SandboxResult } from './run-container';
import { verifyRecords } from './run-records';
import { settleOwedRemovals } from './owed-removals';
import { sandboxRunSlots } from './run-slots';
import type { VerifiedRecords } from './run-records';

/** Where things are inside the container. */
export const IN_CONTAINER = {
  workspace: '/workspace',
  runner: '/opsguard/runner',
  spec: '/opsguard/spec.json',
  records: '/opsguard/records',
  scripts: '/opsguard/scripts',
  /** The prepared dependencies (a flat pip --target folder), read-only. */
  deps: '/opsguard/deps',
} as const;

/**
 * Our runner, pytest plugin and guard, on the host: mounted read-only, outside the workspace. Found
 * from this module's location: beside it when run from source, under sandbox/ of the nearest folder
 * above when run from the command line's bundle.
 */
export const RUNNER_ON_HOST = (() => {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'runner'), path.join(dir, 'sandbox', 'runner')]) {
      if (existsSync(path.join(candidate, 'opsguard_guard.py'))) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`OpsGuard's runner (sandbox/runner/) is not above ${start}`);
  }
})();

/** The container's whole environment. Nothing of the worker's (keys, tokens) is passed in. */
export const SANDBOX_ENV = {
  HOME: '/tmp',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};

export type GuardedEntry = 'opsguard_runner.py' | 'opsguard_tests.py';

/** A run's environment on the host: the prepared dependencies and the repository's import paths. */
export interface RunEnvironment {
  /** The prepared site folder on the host (null: nothing installed). */
  depsDir: string | null;
  /** Repository-relative folders put first on sys.path ('.', 'src'). */
  pythonPaths: string[];
  /** Non-secret variables from the repository profile (OpsGuard's own win). */
  env: Record<string, string>;
}

/** The container paths of a run's sys.path entries. */
export function containerPythonPaths(environment: RunEnvironment | undefined): string[] {
  if (!environment) return [IN_CONTAINER.workspace];
  return environment.pythonPaths.map((p) => (p === '.' ? IN_CONTAINER.workspace : `${IN_CONTAINER.workspace}/${p}`));
}

/** The mounts and spec fields a run's environment adds. */
export function environmentMounts(environment: RunEnvironment | undefined): SandboxMount[] {
  return environment?.depsDir
    ? [{ hostPath: environment.depsDir, containerPath: IN_CONTAINER.deps, readOnly: true }]
    : [];
}

export interface GuardedRunSpec {
  entry: GuardedEntry;
  image: string;
  limits: SandboxLimits;
  /** The workspace on the host (mounted read-only at /workspace). */
  workspace: string;
  /** A folder of this run's own on the host: spec.json and records are written there. */
  runDir: string;
  /** Files copied into the read-only /opsguard/scripts (reproduction scripts), by file name. */
  scripts?: { hostPath: string; name: string }[];
  /** The entry point's spec (changed files, script, test options...); workspace and records are added. */
  spec: Record<string, unknown>;
  environment?: RunEnvironment;
  incidentId?: string;
  purpose?: string;
  signal?: AbortSignal;
}

export interface GuardedRunResult {
  sandbox: SandboxResult;
  records: VerifiedRecords;
  /** The records file on the host (kept as evidence). */
  recordsPath: string;
}

/** What a guarded run's container is made from: everything but the run's spec, scripts and key. */
export interface GuardedContainerTemplate {
  entry: GuardedEntry;
  image: string;
  limits: SandboxLimits;
  workspace: string;
  environment?: RunEnvironment;
  incidentId?: string;
  purpose?: string;
}

export function templateOf(run: GuardedRunSpec): GuardedContainerTemplate {
  const { entry, image, limits, workspace, environment, incidentId, purpose } = run;
  return { entry, image, limits, workspace, environment, incidentId, purpose };
}

/**
 * A guarded run's container and its slot: a host folder holding the three things mounted into it,
 * spec.json (read-only), records (the one writable file) and scripts/ (read-only). The container is
 * started: its runner waits on stdin for the run key, and reads nothing else before it.
 */
export interface GuardedSlot {
  sandbox: SandboxContainer;
  dir: string;
}

const slotFiles = (dir: string) => ({
  spec: path.join(dir, 'spec.json'),
  records: path.join(dir, 'records'),
  scripts: path.join(dir, 'scripts'),
});

export async function createGuardedSlot(
  docker: Docker,
  template: GuardedContainerTemplate,
  dir: string,
  holdSeconds = 0,
): Promise<GuardedSlot> {
  const files = slotFiles(dir);
  await fs.mkdir(files.scripts, { recursive: true });
  await fs.writeFile(files.spec, '');
  // The container's user (nobody) may append to this one file; the folder it is in stays ours.
  await fs.writeFile(files.records, '');
  await fs.chmod(files.records, 0o666);
  const mounts: SandboxMount[] = [
    { hostPath: template.workspace, containerPath: IN_CONTAINER.workspace, readOnly: true },
    { hostPath: RUNNER_ON_HOST, containerPath: IN_CONTAINER.runner, readOnly: true },
    { hostPath: files.spec, containerPath: IN_CONTAINER.spec, readOnly: true },
    { hostPath: files.records, containerPath: IN_CONTAINER.records, readOnly: false },
    { hostPath: files.scripts, containerPath: IN_CONTAINER.scripts, readOnly: true },
    ...environmentMounts(template.environment),
  ];
  const sandbox = await SandboxContainer.create(
    docker,
    {
      image: template.image,
      // -I: isolated mode, so PYTHONPATH and files in the workspace cannot shadow the runner's imports.
      // It also ignores PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE, hence -u and -B.
      argv: ['python3', '-I', '-u', '-B', `${IN_CONTAINER.runner}/${template.entry}`],
      env: { ...template.environment?.env, ...SANDBOX_ENV },
      workdir: IN_CONTAINER.workspace,
      mounts,
      limits: template.limits,
      incidentId: template.incidentId,
      purpose: template.purpose,
      stdin: '', // the key comes at release; until then the runner waits on stdin
    },
    holdSeconds,
  );
  await sandbox.start();
  return { sandbox, dir };
}

/** Something that may hold a started container for this run (warm-containers.ts). */
export interface GuardedSlotSource {
  take(template: GuardedContainerTemplate): Promise<GuardedSlot | null>;
}

/**
 * Run one guarded run: a container made ahead for it (`warm`) when there is one, else a fresh one
 * now. Either way the spec and scripts are written into its slot, then the key, which releases it.
 * The run's folder keeps spec.json and records as evidence.
 */
export async function runGuarded(
  docker: Docker,
  run: GuardedRunSpec,
  warm?: GuardedSlotSource,
): Promise<GuardedRunResult> {
  await fs.mkdir(run.runDir, { recursive: true });
  // The engine answers again after an outage: what could not be removed then goes now, beside this run.
  void settleOwedRemovals();
  const release = await sandboxRunSlots()?.take(run.signal);
  try {
    return await runGuardedInSlot(docker, run, warm);
  } finally {
    release?.();
  }
}

async function runGuardedInSlot(
  docker: Docker,
  run: GuardedRunSpec,
  warm?: GuardedSlotSource,
): Promise<GuardedRunResult> {
  const slot = (await warm?.take(templateOf(run))) ?? (await createGuardedSlot(docker, templateOf(run), run.runDir));
  const files = slotFiles(slot.dir);
  const key = randomBytes(32);
  try {
    // Written in place: the container's mount is this file, not this path.
    await fs.writeFile(
      files.spec,
      JSON.stringify(
        {
          ...run.spec,
          workspace: IN_CONTAINER.workspace,
          records: IN_CONTAINER.records,
          sys_path: containerPythonPaths(run.environment),
          ...(run.environment?.depsDir ? { deps_dir: IN_CONTAINER.deps, thirdparty_dirs: [IN_CONTAINER.deps] } : {}),
        },
        null,
        2,
      ),
    );
    for (const s of run.scripts ?? []) await fs.copyFile(s.hostPath, path.join(files.scripts, s.name));
    const sandbox = await slot.sandbox.run({ stdin: `${key.toString('hex')}\n`, signal: run.signal });
    const recordsPath = path.join(run.runDir, 'records');
    if (slot.dir !== run.runDir) {
      await fs.copyFile(files.spec, path.join(run.runDir, 'spec.json'));
      await fs.copyFile(files.records, recordsPath);
    }
    const records = verifyRecords(await fs.readFile(recordsPath), key);
    return { sandbox, records, recordsPath };
  } finally {
    key.fill(0);
    await slot.sandbox.remove();
    if (slot.dir !== run.runDir) await fs.rm(slot.dir, { recursive: true, force: true });
  }
}
