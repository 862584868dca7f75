/**
 * The workspace at scale (issue 14, item 2), figures not assertions:
 *   npx tsx bench/workspace-scale.ts [files=50000] [megabytes=500] [runs=3]
 * Prints a table and writes bench/results/workspace-scale.json.
 *
 * A generated repository (Python packages of equal-sized modules, the bug in one file) is given to an
 * incident the way setupWorkspace does it (copyTree: the pristine baseline copied, the workspace hard
 * links to it) and restored after a failed attempt (restoreWorkspace: hard links again), side by side
 * with `cp -r` of the same tree, alternating, page cache warm for both. Disk is what `du` counts for
 * the incident's folder (hard links once). The whole setupWorkspace activity (with the secret scan
 * and the content digest it also reads the tree for) is timed once. Then the isolation the design
 * relies on is checked on this tree: a fix written into the workspace leaves the baseline and the
 * original alone, and an edit to the original after setup is not seen by the incident.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyTree } from '../activities/copy-tree';
import { incidentPaths, writeFileAtomic } from '../activities/incident-paths';
import { restoreWorkspace, setupWorkspace } from '../activities/workspace';
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
const repoMiB = du(repo);
console.log(
  `generated ${FILES} files, ${repoMiB.toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

const time = async (fn: () => unknown) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const roots = { artifactsDir: path.join(tmp, 'artifacts'), workDir: path.join(tmp, 'work') };
const samples = { cp: [] as number[], setupCopy: [] as number[], restore: [] as number[] };
let incidentMiB = 0;
for (let r = 0; r < RUNS; r++) {
  const dest = path.join(tmp, `cp-${r}`);
  samples.cp.push(await time(() => execFileSync('cp', ['-r', repo, dest])));
  fs.rmSync(dest, { recursive: true, force: true });
  const p = incidentPaths(roots, `inc-${r}`);
  samples.setupCopy.push(
    await time(async () => {
      await copyTree(repo, p.baseline);
      await copyTree(p.baseline, p.workspace, { hardLinks: true });
    }),
  );
  await writeFileAtomic(
    path.join(p.workspace, 'pkg0', 'sub0', 'mod_0.py'),
    'def average(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n',
  );
  samples.restore.push(await time(() => restoreWorkspace(p)));
  incidentMiB = du(p.workDir);
  fs.rmSync(p.workDir, { recursive: true, force: true });
}

// The whole activity once (secret scan and content digest read the tree too).
const whole = await time(() =>
  setupWorkspace(
    { ...roots, repositories: { roots: [tmp], maxBytes: 4 * 2 ** 30, promptFileBytes: 100_000 } },
    { incidentId: 'inc-whole', repoPath: repo, errorLog: 'ZeroDivisionError: division by zero' },
  ),
);

// Isolation on this tree.
const p = incidentPaths(roots, 'inc-whole');
const original = fs.readFileSync(buggy, 'utf8');
await writeFileAtomic(path.join(p.workspace, 'pkg0', 'sub0', 'mod_0.py'), 'FIXED\n');
fs.writeFileSync(buggy, `${original}# edited after the incident started\n`);
const isolation = {
  fixNotInBaseline: fs.readFileSync(path.join(p.baseline, 'pkg0', 'sub0', 'mod_0.py'), 'utf8') === original,
  fixNotInOriginal: !fs.readFileSync(buggy, 'utf8').includes('FIXED'),
  laterEditNotSeen: fs.readFileSync(path.join(p.baseline, 'pkg0', 'sub0', 'mod_0.py'), 'utf8') === original,
};
fs.rmSync(tmp, { recursive: true, force: true });

const s = { cp: summary(samples.cp), setupCopy: summary(samples.setupCopy), restore: summary(samples.restore) };
const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, node: process.version, filesystem: 'ext4 (no reflinks)' },
  files: FILES,
  repoMiB: Math.round(repoMiB),
  runs: RUNS,
  ms: s,
  ratioToCp: {
    setup: Math.round((s.setupCopy.p50 / s.cp.p50) * 100) / 100,
    restore: Math.round((s.restore.p50 / s.cp.p50) * 100) / 100,
  },
  incidentDiskMiB: Math.round(incidentMiB),
  wholeSetupActivityMs: Math.round(whole),
  isolation,
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'workspace-scale.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log('work | p50 s | p95 s | vs cp -r');
console.log(`cp -r | ${(s.cp.p50 / 1000).toFixed(2)} | ${(s.cp.p95 / 1000).toFixed(2)} | 1`);
console.log(
  `incident workspace (baseline copy + hard-linked workspace) | ${(s.setupCopy.p50 / 1000).toFixed(2)} | ${(s.setupCopy.p95 / 1000).toFixed(2)} | ${report.ratioToCp.setup}`,
);
console.log(
  `restore after a failed attempt (hard links) | ${(s.restore.p50 / 1000).toFixed(2)} | ${(s.restore.p95 / 1000).toFixed(2)} | ${report.ratioToCp.restore}`,
);
console.log(
  `disk per incident ${report.incidentDiskMiB} MiB for a ${report.repoMiB} MiB repository; the whole setupWorkspace activity ${(whole / 1000).toFixed(1)} s; isolation ${JSON.stringify(isolation)}`,
);
console.log(`target: <= 0.1x cp -r, disk O(files changed) per incident`);
console.log(`written: ${path.relative(PROJECT_ROOT, out)}`);
