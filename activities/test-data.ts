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

/** The repository-relative paths of a run's data records of one kind ('read', 'module'), once each. */
export function workspacePathsOf(data: DataRecord[], kind: string): string[] {
  const out = new Set<string>();
  for (const d of data) {
    if (d.kind !== kind || typeof d.fields.path !== 'string') continue;
    const rel = workspaceRelative(d.fields.path);
    if (rel !== null) out.add(rel);
  }
  return [...out].sort();
}

/** The repository-relative files a run read, from its data records (tool settings left out). */
export const readsOf = (data: DataRecord[]): string[] =>
  workspacePathsOf(data, 'read').filter((rel) => !TOOL_SETTINGS.has(rel));

/** Write what several runs saw, all of them together, sorted. */
export async function writeUnion(file: string, runs: string[][]): Promise<void> {
  await writeFileAtomic(file, JSON.stringify([...new Set(runs.flat())].sort(), null, 1));
}

/** Where gate 1's runs of one reproduce attempt leave what they read. */
export const reproductionReadsFile = (attemptDir: string) => path.join(attemptDir, 'reads.json');

/** Keep what a reproduce attempt's runs read (each run's readsOf, all of them together). */
export async function saveReproductionReads(attemptDir: string, runs: string[][]): Promise<void> {
  await writeUnion(reproductionReadsFile(attemptDir), runs);
}

/** The baseline test run's results (activities/test-runs.ts writes them; `reads` since this check). */
export const baselineResultsFile = (paths: IncidentPaths) =>
  path.join(paths.artifactDir, 'attempts', 'tests-baseline', 'tests.json');

export async function jsonOrNull<T>(file: string): Promise<T | null> {
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
  const reproduced = await reproductionRecords(paths, reproductionReadsFile);
  if (!reproduced) return null;
  return new Set(baseline.reads.filter((r) => !reproduced.has(r)));
}

/**
 * What gate 1's runs saw, over every reproduce attempt: the union of each attempt's `fileOf` list, or
 * null when no attempt left one.
 */
export async function reproductionRecords(
  paths: IncidentPaths,
  fileOf: (attemptDir: string) => string,
): Promise<Set<string> | null> {
  const attempts = path.join(paths.artifactDir, 'attempts');
  const names = await fs.readdir(attempts).catch(() => [] as string[]);
  let all: Set<string> | null = null;
  for (const name of names.filter((n) => n.startsWith('reproduce-'))) {
    const seen = await jsonOrNull<string[]>(fileOf(path.join(attempts, name)));
    if (seen) all = new Set([...(all ?? []), ...seen]);
  }
  return all;
}
