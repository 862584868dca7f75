/**
 * The worker's workflow bundle, built once per version of the workflow code and kept in
 * `.build/workflows/<hash>.js`. Bundling (webpack) in the worker process leaves about 165 MiB in its
 * heap for the process's life (bench/throughput.ts); built in a child process, the worker only
 * loads the file. The hash covers every file under workflows/, package-lock.json (the bundled
 * libraries) and the modules the bundler preloads (worker-memory.ts), so changed code
 * never runs from a stale bundle. Two workers starting at once each build to a temporary file and
 * rename it into place.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowBundlePath } from '@temporalio/worker';
import { PROJECT_ROOT } from './project-root';
import { SHARED_WORKFLOW_MODULES } from './worker-memory';

const BUNDLE_DIR = path.join(PROJECT_ROOT, '.build', 'workflows');

/** The hash of the workflow code and the locked libraries the bundle holds. */
async function workflowCodeHash(): Promise<string> {
  const h = createHash('sha256');
  const dir = path.join(PROJECT_ROOT, 'workflows');
  const files = (await fs.readdir(dir, { recursive: true })).map(String).sort();
  for (const rel of files) {
    const file = path.join(dir, rel);
    if (!(await fs.stat(file)).isFile()) continue;
    h.update(`${rel}\0`).update(await fs.readFile(file));
  }
  h.update(await fs.readFile(path.join(PROJECT_ROOT, 'package-lock.json')).catch(() => Buffer.alloc(0)));
  // The bundler's options too: a bundle built with other preloaded modules is another bundle.
  h.update(JSON.stringify(SHARED_WORKFLOW_MODULES.map((m) => path.relative(PROJECT_ROOT, m))));
  return h.digest('hex').slice(0, 16);
}

/** The bundle's path: built now (in a child process) if this version of the code has none yet. */
export async function prebuiltWorkflowBundle(log: (line: string) => void): Promise<WorkflowBundlePath> {
  const codePath = path.join(BUNDLE_DIR, `${await workflowCodeHash()}.js`);
  if (await fs.stat(codePath).catch(() => null)) return { codePath };
  await fs.mkdir(BUNDLE_DIR, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot write the workflow bundle for this code version to ${BUNDLE_DIR} (${err.code}): start a worker once as the user owning ${PROJECT_ROOT}, which builds it, then workers of other users find it there`,
    );
  });
  const started = Date.now();
  const temporary = `${codePath}.tmp-${randomBytes(4).toString('hex')}`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'worker', 'build-workflow-bundle.ts'), temporary],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`building the workflow bundle failed (exit ${code}); see the lines above`);
  await fs.rename(temporary, codePath);
  log(
    `[WORKER] built the workflow bundle in ${((Date.now() - started) / 1000).toFixed(1)} s (${path.relative(PROJECT_ROOT, codePath)})`,
  );
  return { codePath };
}
