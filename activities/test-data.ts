/**
 * The repository's test data: files other than Python source that its tests read and the reproduction
 * does not (JSON cases beside the programs, expected outputs, fixtures outside `tests/`). A fix may
 * not change them (unless the operator allows test changes): the tests are the fix's judges, and
 * their data is part of them. The patch policy already refuses test files by name; this finds the
 * data wherever it lives, by what the runs read.
 *
 * What was read comes from the guard (sandbox/runner/opsguard_guard.py records each workspace file a
 * run opens for reading, once). The tests' reads are the baseline run's (before any patch, in
 * tests.json); the reproduction's are gate 1's runs (`reads.json` in each reproduce attempt's folder).
 * A file both read is the application's data (a configuration the code loads): a fix may change it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DataRecord } from '../sandbox/run-records';
import { workspaceRelative } from '../workflows/repo-paths';
import type { IncidentPaths } from './incident-paths';
import { writeFileAtomic } from './incident-paths';

/** Files the tools read for themselves (pytest's and coverage's settings): never the tests' data. */
const TOOL_SETTINGS = new Set([
  'pyproject.toml',
  'setup.cfg',
  'tox.ini',
  'pytest.ini',
  '.pytest.ini',
  'pytest.toml',
  '.pytest.toml',
  '.coveragerc',
]);

/** The repository-relative files a run read, from its data records (tool settings left out). */
export function readsOf(data: DataRecord[]): string[] {
  const out = new Set<string>();
  for (const d of data) {
    if (d.kind !== 'read' || typeof d.fields.path !== 'string') continue;
    const rel = workspaceRelative(d.fields.path);
    if (rel !== null && !TOOL_SETTINGS.has(rel)) out.add(rel);
  }
  return [...out].sort();
}

/** Where gate 1's runs of one reproduce attempt leave what they read. */
export const reproductionReadsFile = (attemptDir: string) => path.join(attemptDir, 'reads.json');

/** Keep what a reproduce attempt's runs read (each run's readsOf, all of them together). */
export async function saveReproductionReads(attemptDir: string, runs: string[][]): Promise<void> {
  const all = new Set(runs.flat());
  await writeFileAtomic(reproductionReadsFile(attemptDir), JSON.stringify([...all].sort(), null, 1));
}

/** The baseline test run's results (activities/test-runs.ts writes them; `reads` since this check). */
export const baselineResultsFile = (paths: IncidentPaths) =>
  path.join(paths.artifactDir, 'attempts', 'tests-baseline', 'tests.json');

async function jsonOrNull<T>(file: string): Promise<T | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/**
 * The incident's test data, or null when it is not known: no baseline run with per-test results (a
 * custom test command, no tests), or no record of what the reproduction read.
 */
export async function testDataOf(paths: IncidentPaths): Promise<Set<string> | null> {
  const baseline = await jsonOrNull<{ reads?: string[] }>(baselineResultsFile(paths));
  if (!baseline?.reads) return null;
  const attempts = path.join(paths.artifactDir, 'attempts');
  const names = await fs.readdir(attempts).catch(() => [] as string[]);
  const reproduced = new Set<string>();
  let seen = false;
  for (const name of names.filter((n) => n.startsWith('reproduce-'))) {
    const reads = await jsonOrNull<string[]>(reproductionReadsFile(path.join(attempts, name)));
    if (!reads) continue;
    seen = true;
    for (const r of reads) reproduced.add(r);
  }
  if (!seen) return null;
  return new Set(baseline.reads.filter((r) => !reproduced.has(r)));
}
