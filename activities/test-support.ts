/**
 * The repository's test support: Python modules its tests use that are not the application, like a
 * `load_testdata.py` beside the programs that loads each test's expected values. A fix may not change
 * them (unless the operator allows test changes): a helper that rewrote the expected values as it
 * loads them would make every test pass. The patch policy refuses test files by name and test-data.ts
 * refuses the files the tests read; this finds the modules, wherever they live and whatever their names.
 *
 * A module is test support when all of these hold, each one a way of being the application:
 * - the baseline test run loaded it and none of gate 1's reproduction runs did (the guard records
 *   each of the repository's modules a run loads: sandbox/runner/opsguard_guard.py);
 * - it is in no top-level folder the reproduction loaded a module from (a module of the package
 *   under repair, or at the root beside one, stays the fix's to change);
 * - no Python file of the repository other than a test imports it (read from the files, at the time
 *   of a fix that changes it: a module the application imports is the application's).
 * Each step leans towards letting the fix through: the check refuses only a module nothing but the
 * tests touch.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DataRecord } from '../sandbox/run-records';
import type { IncidentPaths } from './incident-paths';
import { isTestPath } from './patch-policy';
import { baselineResultsFile, jsonOrNull, reproductionRecords, workspacePathsOf, writeUnion } from './test-data';

/** The repository-relative Python modules a run loaded, from its data records. */
export const modulesOf = (data: DataRecord[]): string[] => workspacePathsOf(data, 'module');

/** Where gate 1's runs of one reproduce attempt leave the modules they loaded. */
export const reproductionModulesFile = (attemptDir: string) => path.join(attemptDir, 'modules.json');

/** Keep the modules a reproduce attempt's runs loaded (all of them together). */
export const saveReproductionModules = (attemptDir: string, runs: string[][]) =>
  writeUnion(reproductionModulesFile(attemptDir), runs);

/** The first folder of a repository path, '' for a file at the root. */
const topFolder = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '');

/**
 * The modules the tests loaded that the reproduction did not, outside every top-level folder it loaded
 * from: the candidates for test support (importedByApplication decides). Null when not known: no
 * baseline run with module records, no record of gate 1's, or a reproduction that loaded nothing of
 * the repository (then nothing tells the application apart).
 */
export async function testSupportCandidates(paths: IncidentPaths): Promise<Set<string> | null> {
  const baseline = await jsonOrNull<{ modules?: string[] }>(baselineResultsFile(paths));
  if (!baseline?.modules) return null;
  const reproduced = await reproductionRecords(paths, reproductionModulesFile);
  if (!reproduced?.size) return null;
  const tops = new Set([...reproduced].map(topFolder));
  return new Set(baseline.modules.filter((m) => !reproduced.has(m) && !tops.has(topFolder(m))));
}

const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', 'site-packages', '__pycache__', '.tox', '.venv', 'venv']);
/** At most this many Python files are read for importers; past it, the module counts as imported. */
const MAX_FILES_SCANNED = 20_000;
const MAX_FILE_BYTES = 1024 * 1024;

/** The import statements of a Python file, each joined into one line (parentheses and backslashes). */
export function importStatements(source: string): string[] {
  const out: string[] = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const dynamic = /\b(?:import_module|__import__)\s*\(/.test(line);
    if (!dynamic && !/^\s*(?:from|import)\s/.test(line)) continue;
    let statement = line;
    let depth = (line.match(/\(/g) ?? []).length - (line.match(/\)/g) ?? []).length;
    while ((depth > 0 || statement.trimEnd().endsWith('\\')) && i + 1 < lines.length) {
      const next = lines[++i] ?? '';
      statement += ` ${next}`;
      depth += (next.match(/\(/g) ?? []).length - (next.match(/\)/g) ?? []).length;
    }
    out.push(statement);
  }
  return out;
}

/**
 * Whether a Python file of the repository other than a test (or `rel` itself) imports the module at
 * `rel`: an import statement, or an importlib/__import__ call, naming it. Matched by the module's own
 * name as a word, so it errs towards "imported" (a same-named module elsewhere counts too).
 */
export async function importedByApplication(root: string, rel: string): Promise<boolean> {
  const parts = rel.replace(/\.py$/, '').split('/');
  const name = parts.at(-1) === '__init__' ? parts.at(-2) : parts.at(-1);
  if (!name) return true;
  const word = new RegExp(`(?<![\\w])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w])`);
  let scanned = 0;
  const walk = async (dir: string): Promise<boolean> => {
    const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const child = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(e.name) && (await walk(child))) return true;
        continue;
      }
      if (!e.isFile() || !e.name.endsWith('.py') || child === rel || e.name === 'conftest.py' || isTestPath(child))
        continue;
      if (++scanned > MAX_FILES_SCANNED) return true;
      const stat = await fs.stat(path.join(root, child)).catch(() => null);
      if (!stat || stat.size > MAX_FILE_BYTES) continue;
      const text = await fs.readFile(path.join(root, child), 'utf8').catch(() => '');
      if (importStatements(text).some((s) => word.test(s))) return true;
    }
    return false;
  };
  return await walk('');
}
