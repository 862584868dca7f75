/**
 * A clean baseline test run, shared by the incidents on one tree: one bad deploy raises many
 * incidents on the same commit at once (an incident storm), and each would run the whole suite
 * before its fix. The first runs it; the others, within BASELINE_RUN_REUSE_MS, take its results.
 *
 * Only a clean run is shared: complete (pytest returned, the signed end record covers every result),
 * exit status 0, no test failed, errored or timed out, nothing failed to collect. Taking such a run
 * can never make a verdict more lenient: the regression gate holds every test that passed before to
 * pass after, so a run where every test passed holds the patch to all of them, while a fresh run
 * could only hold it to fewer (a flaky test failing this time). Nothing fails in it, so no test can be
 * a fail-to-pass candidate either way. A run that is not clean is never kept: each incident runs its
 * own, and the flaky or failing tests are judged on its own evidence.
 *
 * It is taken only for the same run: the same baseline tree (shared-baseline.ts, keyed by the
 * folder's path and file identities), the workspace still that tree file for file, the same image
 * (by id, not tag), the same prepared environment, pytest arguments, per-test deadline and limits,
 * and the same runner and result code. A custom testCommand is never shared. The incident's own
 * attempt folder gets a copy of the run's files (results, records, output), and its evidence says
 * whose run it was and when (TestRunSummary.reusedFrom).
 *
 * Kept in `<workDir>/.baselines/<tree>/tests/<key>/`, so a tree's collection removes them with it.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { RunEnvironment } from '../sandbox/guarded-run';
import type { SandboxLimits } from '../sandbox/limits';
import type { TestRunSummary } from '../workflows/incident-types';
import { sourceVersion } from '../worker/source-version';
import type { IncidentPaths } from './incident-paths';
import { writeFileAtomic } from './incident-paths';

/** How long a clean baseline run is taken by other incidents on the same tree. */
export const BASELINE_RUN_REUSE_MS = 15 * 60 * 1000;
const ENTRY = 'entry.json';

/** What a baseline run is, for sharing: everything that can change its results. */
export interface BaselineRunRequest {
  image: string;
  testCommand?: string[];
  environment?: RunEnvironment;
  testArgs?: string[];
  perTestSeconds: number;
  limits: SandboxLimits;
}

export interface BaselineRunShare {
  key: string;
  /** Where a clean run of this request on this tree is kept. */
  dir: string;
}

interface Entry {
  incidentId: string;
  finishedAt: string;
  /** The summary, its paths relative to the run's folder. */
  summary: TestRunSummary;
  files: string[];
}

/** Where this incident's baseline run may be shared, or why it may not. */
export async function baselineRunShare(
  docker: Docker,
  paths: IncidentPaths,
  req: BaselineRunRequest,
): Promise<{ share: BaselineRunShare } | { why: string }> {
  if (req.testCommand) return { why: 'a custom test command' };
  const tree = await fs.realpath(paths.baseline).catch(() => null);
  if (!tree) return { why: 'no baseline tree' };
  const folder = path.dirname(tree);
  if (path.basename(folder).startsWith('private-')) return { why: "the repository's tree is this incident's alone" };
  if (!(await sameLinkedTree(paths.workspace, tree))) return { why: 'the workspace is no longer its baseline' };
  const imageId = (await docker.getImage(req.image).inspect()).Id;
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        tree: path.basename(folder),
        imageId,
        environment: req.environment ?? null,
        testArgs: req.testArgs ?? [],
        perTestSeconds: req.perTestSeconds,
        limits: req.limits,
        code: codeVersion(),
      }),
    )
    .digest('hex')
    .slice(0, 32);
  return { share: { key, dir: path.join(folder, 'tests', key) } };
}

/**
 * A clean run kept for this share and younger than BASELINE_RUN_REUSE_MS, copied into `outDir`,
 * with its summary pointing there; null when there is none.
 */
export async function takeBaselineRun(
  share: BaselineRunShare,
  outDir: string,
  now = Date.now(),
): Promise<TestRunSummary | null> {
  let entry: Entry;
  try {
    entry = JSON.parse(await fs.readFile(path.join(share.dir, ENTRY), 'utf8')) as Entry;
  } catch {
    return null;
  }
  const age = now - Date.parse(entry.finishedAt);
  if (!(age >= 0 && age < BASELINE_RUN_REUSE_MS)) return null;
  await fs.mkdir(outDir, { recursive: true });
  for (const name of entry.files) await fs.copyFile(path.join(share.dir, name), path.join(outDir, name));
  return {
    ...withPaths(entry.summary, (name) => path.join(outDir, name)),
    reusedFrom: { incidentId: entry.incidentId, finishedAt: entry.finishedAt },
  };
}

/** The summary with its files (results, output) at `where(path)`: relative when kept, in the taker's folder when taken. */
function withPaths(summary: TestRunSummary, where: (p: string) => string): TestRunSummary {
  const at = (p: string | undefined) => (p === undefined ? undefined : where(p));
  const run = summary.run && {
    ...summary.run,
    stdoutPath: at(summary.run.stdoutPath),
    stderrPath: at(summary.run.stderrPath),
  };
  return { ...summary, resultsPath: at(summary.resultsPath), ...(run ? { run } : {}) } as TestRunSummary;
}

/** Whether a baseline run may be shared: it ran whole and every test it collected passed or was skipped. */
export function isCleanBaselineRun(summary: TestRunSummary): boolean {
  const c = summary.counts;
  return (
    summary.ran &&
    summary.perTest &&
    summary.completeness === 'complete' &&
    summary.passed &&
    !!c &&
    c.failed === 0 &&
    c.error === 0 &&
    c.timeout === 0 &&
    (summary.collectErrors ?? []).length === 0
  );
}

/** Keep a clean run of `outDir` for the other incidents on its tree; false when it is not clean. */
export async function keepBaselineRun(
  share: BaselineRunShare,
  outDir: string,
  summary: TestRunSummary,
  incidentId: string,
): Promise<boolean> {
  if (!isCleanBaselineRun(summary)) return false;
  const files = (await fs.readdir(outDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  const entry: Entry = {
    incidentId,
    finishedAt: new Date().toISOString(),
    summary: withPaths(summary, (p) => path.relative(outDir, p)),
    files,
  };
  // Whole or not at all: written beside, then renamed in (over an older entry, renamed away first).
  const staging = `${share.dir}.staging-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(staging, { recursive: true });
  try {
    for (const name of files) await fs.copyFile(path.join(outDir, name), path.join(staging, name));
    await writeFileAtomic(path.join(staging, ENTRY), JSON.stringify(entry));
    const old = `${share.dir}.old-${randomBytes(4).toString('hex')}`;
    await fs.rename(share.dir, old).then(
      () => fs.rm(old, { recursive: true, force: true }),
      () => undefined,
    );
    await fs.rename(staging, share.dir);
  } catch {
    // Another incident kept the same run just now, or the tree went: nothing is lost but the sharing.
    await fs.rm(staging, { recursive: true, force: true });
  }
  return true;
}

/**
 * The workspace is the baseline tree, file for file: the same names, each file the same inode (its
 * hard link), each symlink the same target. Anything else (a file rewritten, added or removed) is not.
 * One find(1) walk of each (a repository of 100,000 files in well under a second, and nothing on the
 * worker's event loop but reading their output: the activity's heartbeats keep going).
 */
export async function sameLinkedTree(a: string, b: string): Promise<boolean> {
  const [la, lb] = await Promise.all([linkListing(a), linkListing(b)]);
  if (la === null || lb === null || la.length !== lb.length) return false;
  la.sort();
  lb.sort();
  return la.every((entry, i) => entry === lb[i]);
}

/** Every entry under `root`: folders by name, the rest by type, device and inode, name and link target. */
function linkListing(root: string): Promise<string[] | null> {
  return new Promise((resolve) => {
    const args = [
      root,
      '-mindepth',
      '1',
      '(',
      '-type',
      'd',
      '-printf',
      'd %P\\0',
      ')',
      '-o',
      '-printf',
      '%y %D:%i %P\\t%l\\0',
    ];
    const child = spawn('find', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      if (code !== 0) return resolve(null);
      const entries = Buffer.concat(chunks).toString('utf8').split('\0');
      entries.pop(); // after the last NUL
      resolve(entries);
    });
  });
}

/** The runner and the code that turns its records into results: a kept run of other code is not taken. */
const codeVersion = sourceVersion([
  ...['opsguard_tests.py', 'opsguard_pytest.py', 'opsguard_guard.py', 'opsguard_source.py'].map(
    (name) => `sandbox/runner/${name}`,
  ),
  ...['test-runs.ts', 'baseline-test-reuse.ts', 'run-summary.ts'].map((name) => `activities/${name}`),
]);
