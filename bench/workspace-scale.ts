/**
 * The workspace at scale (issue 14, item 2), figures not assertions:
 *   npx tsx bench/workspace-scale.ts [files=50000] [megabytes=500] [runs=3]
 * Prints a table and writes bench/results/workspace-scale.json.
 *
 * A generated repository (Python packages of equal-sized modules, the bug in one file) is given to
 * incidents by the real setupWorkspace activity, side by side with `cp -r` of the same tree,
 * alternating, `sync` before each timed step (so no step pays for the one before it's writeback),
 * page cache warm for both. Each round: `cp -r`; the first incident on the tree in a fresh work
 * folder (it copies the tree once into the shared baseline and scans it); a second incident on the
 * same tree (the case that repeats: nothing copied, a hard-linked workspace); a restore after a
 * failed attempt. Disk is what `du` counts for an incident's folder after the baseline is counted
 * (hard links once), and the baseline once per tree. The second incident's time is split into its
 * parts (the tree state walk, the hard-link farm, the rest). Then the isolation the design relies on
 * is checked on this tree: a fix written into the workspace leaves the baseline, the original and
 * the other incident alone, and an edit to the original after setup is not seen by the incident.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linkTree } from '../activities/copy-tree';
import { BASELINES_DIR } from '../activities/shared-baseline';
import { RACY_SECONDS, treeState } from '../activities/tree-state';
import { setTimeout as sleep } from 'node:timers/promises';
import { incidentPaths, writeFileAtomic } from '../activities/incident-paths';
import { restoreWorkspace, setupWorkspace } from '../activities/workspace';
import type { WorkspaceInfo } from '../workflows/incident-types';
import { PROJECT_ROOT } from '../worker/settings';
import { summary } from './stats';

const FILES = Number(process.argv[2] ?? 50_000);
const MEGABYTES = Number(process.argv[3] ?? 500);
const RUNS = Number(process.argv[4] ?? 3);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-workspace-'));
const repo = path.join(tmp, 'repo');
const perFile = Math.floor((MEGABYTES * 1024 * 1024) / FILES);
const line = '    total = total + value  # accumulate the running figure for the report\n';
const body = (i: number) => {
  const head = `"""Module ${i}."""\n\n\ndef figure_${i}(values):\n    total = 0\n    for value in values:\n`;
  return (
    (head + line.repeat(Math.max(0, Math.ceil((perFile - head.length - 20) / line.length)))).slice(0, perFile - 20) +
    '\n    return total\n'
  );
};
const started = performance.now();
for (let i = 0; i < FILES; i++) {
  const dir = path.join(repo, `pkg${Math.floor(i / 500)}`, `sub${Math.floor(i / 50) % 10}`);
  if (i % 50 === 0) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `mod_${i}.py`), body(i));
}
const buggy = path.join(repo, 'pkg0', 'sub0', 'mod_0.py');
fs.writeFileSync(buggy, 'def average(xs):\n    return sum(xs) / len(xs)\n');
const du = (p: string) => Number(execFileSync('du', ['-sk', p], { encoding: 'utf8' }).split('\t')[0]) / 1024;
/** MiB `du` gives `p` once the folders before it are counted (a hard link is counted once). */
const duAfter = (counted: string[], p: string) =>
  Number(
    execFileSync('du', ['-sk', ...counted, p], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)
      ?.split('\t')[0],
  ) / 1024;
const sync = () => execFileSync('sync');
const repoMiB = du(repo);
console.log(
  `generated ${FILES} files, ${repoMiB.toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

// Older than the racy window, as a checkout is by the time an incident on it starts.
await sleep((RACY_SECONDS + 0.5) * 1000);

const time = async <T>(fn: () => Promise<T> | T): Promise<[number, T]> => {
  sync();
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
};
const limits = { roots: [tmp], maxBytes: 4 * 2 ** 30, promptFileBytes: 100_000 };
const LOG = `Traceback (most recent call last):\n  File "/srv/app/pkg0/sub0/mod_0.py", line 2, in average\n    return sum(xs) / len(xs)\nZeroDivisionError: division by zero\n`;
const samples = {
  cp: [] as number[],
  first: [] as number[],
  next: [] as number[],
  restore: [] as number[],
  commit: [] as number[],
  state: [] as number[],
  links: [] as number[],
};
let disk = { baselineMiB: 0, nextIncidentMiB: 0, afterFixMiB: 0, commitBaselineMiB: 0 };
let infos: WorkspaceInfo[] = [];
let commitInfo: WorkspaceInfo['baseline'];
for (let r = 0; r < RUNS; r++) {
  const dest = path.join(tmp, `cp-${r}`);
  samples.cp.push((await time(() => execFileSync('cp', ['-r', repo, dest])))[0]);
  fs.rmSync(dest, { recursive: true, force: true });
  const roots = {
    artifactsDir: path.join(tmp, `artifacts-${r}`),
    workDir: path.join(tmp, `work-${r}`),
    repositories: limits,
  };
  const setup = (id: string) => setupWorkspace(roots, { incidentId: id, repoPath: repo, errorLog: LOG });
  const [firstMs, first] = await time(() => setup('first'));
  const [nextMs, next] = await time(() => setup('next'));
  samples.first.push(firstMs);
  samples.next.push(nextMs);
  infos = [first, next];
  // The second incident's two big parts, alone.
  samples.state.push((await time(() => treeState(repo)))[0]);
  const spare = path.join(roots.workDir, 'spare-links');
  samples.links.push((await time(() => linkTree(path.join(roots.workDir, 'next', 'baseline'), spare)))[0]);
  fs.rmSync(spare, { recursive: true, force: true });
  const p = incidentPaths(roots, 'next');
  const baselines = path.join(roots.workDir, BASELINES_DIR);
  const nextIncidentMiB = duAfter([baselines], p.workDir);
  await writeFileAtomic(
    path.join(p.workspace, 'pkg0', 'sub0', 'mod_0.py'),
    'def average(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n',
  );
  disk = {
    baselineMiB: du(baselines),
    nextIncidentMiB,
    afterFixMiB: duAfter([baselines], p.workDir),
    commitBaselineMiB: 0,
  };
  samples.restore.push((await time(() => restoreWorkspace(p)))[0]);
  // A new commit of the same folder: one file added, past the racy window (as a checkout is).
  fs.writeFileSync(path.join(repo, 'pkg0', 'sub0', `added_${r}.py`), `def added_${r}():\n    return ${r}\n`);
  await sleep((RACY_SECONDS + 0.5) * 1000);
  const [commitMs, commit] = await time(() => setup('commit'));
  samples.commit.push(commitMs);
  commitInfo = commit.baseline;
  disk.commitBaselineMiB = duAfter(
    [path.join(baselines, first.baseline?.key ?? '')],
    path.join(baselines, commit.baseline?.key ?? ''),
  );
  if (r < RUNS - 1) fs.rmSync(roots.workDir, { recursive: true, force: true });
}

// Isolation on this tree (the last round's two incidents).
const work = path.join(tmp, `work-${RUNS - 1}`);
const [a, b] = [
  incidentPaths({ artifactsDir: '', workDir: work }, 'first'),
  incidentPaths({ artifactsDir: '', workDir: work }, 'next'),
];
const original = fs.readFileSync(buggy, 'utf8');
await writeFileAtomic(path.join(a.workspace, 'pkg0', 'sub0', 'mod_0.py'), 'FIXED\n');
fs.writeFileSync(buggy, `${original}# edited after the incident started\n`);
const rel = path.join('pkg0', 'sub0', 'mod_0.py');
const isolation = {
  fixNotInBaseline: fs.readFileSync(path.join(a.baseline, rel), 'utf8') === original,
  fixNotInOriginal: !fs.readFileSync(buggy, 'utf8').includes('FIXED'),
  fixNotInOtherIncident: fs.readFileSync(path.join(b.workspace, rel), 'utf8') === original,
  laterEditNotSeen: fs.readFileSync(path.join(b.baseline, rel), 'utf8') === original,
  baselineReadOnly: (fs.statSync(path.join(a.baseline, rel)).mode & 0o222) === 0,
};
fs.rmSync(tmp, { recursive: true, force: true });

const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)])) as Record<
  keyof typeof samples,
  ReturnType<typeof summary>
>;
const ratio = (x: number) => Math.round((x / s.cp.p50) * 1000) / 1000;
const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, node: process.version, filesystem: 'ext4 (no reflinks)' },
  files: FILES,
  repoMiB: Math.round(repoMiB),
  runs: RUNS,
  ms: s,
  ratioToCp: {
    setup: ratio(s.next.p50),
    firstOnTree: ratio(s.first.p50),
    newCommit: ratio(s.commit.p50),
    restore: ratio(s.restore.p50),
  },
  incidentDiskMiB: Math.round(disk.nextIncidentMiB * 10) / 10,
  disk: Object.fromEntries(Object.entries(disk).map(([k, v]) => [k, Math.round(v * 10) / 10])),
  baselines: [...infos.map((i) => i.baseline), commitInfo],
  isolation,
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'workspace-scale.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
const sec = (x: number) => (x / 1000).toFixed(2);
const row = (what: string, k: keyof typeof samples, vs = true) =>
  console.log(`${what} | ${sec(s[k].p50)} | ${sec(s[k].p95)} | ${vs ? ratio(s[k].p50) : ''}`);
console.log('work | p50 s | p95 s | vs cp -r');
row('cp -r', 'cp');
row('an incident on a tree seen before (setupWorkspace: state walk, hard-linked workspace)', 'next');
row('  of which the tree state walk (find)', 'state', false);
row('  of which the hard-link farm (cp -al)', 'links', false);
row('the first incident on a tree (setupWorkspace: copies it once into the shared baseline, scans it)', 'first');
row(
  'the first incident on a new commit (one file added): unchanged files linked from the earlier baseline, one read',
  'commit',
);
row('restore after a failed attempt (hard links)', 'restore');
console.log(
  `disk: the shared baseline ${disk.baselineMiB.toFixed(0)} MiB once per tree; an incident on it ${disk.nextIncidentMiB.toFixed(1)} MiB (its folders and link entries), ${disk.afterFixMiB.toFixed(1)} MiB after a fix of one file; a new commit's baseline ${disk.commitBaselineMiB.toFixed(1)} MiB more; isolation ${JSON.stringify(isolation)}`,
);
console.log('target: <= 0.1x cp -r, disk O(files changed) per incident');
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
