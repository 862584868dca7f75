/**
 * The tests' support modules (activities/test-support.ts): modules the baseline test run loaded, gate
 * 1's reproduction did not, outside the reproduction's top-level folders, and imported by no
 * application file. A fix that changes one is refused by the patch engine; a module the application
 * imports, or one beside the code under repair, stays the fix's to change.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { incidentPaths } from '../../activities/incident-paths';
import { baselineResultsFile } from '../../activities/test-data';
import {
  importedByApplication,
  importStatements,
  modulesOf,
  reproductionModulesFile,
  testSupportCandidates,
} from '../../activities/test-support';

const loaded = (p: string) => ({ kind: 'module', fields: { path: p } });

test("a run's modules: the repository's only, once each, normalised; other records ignored", () => {
  assert.deepEqual(
    modulesOf([
      loaded('/workspace/python_testcases/load_testdata.py'),
      loaded('/workspace/python_testcases/../python_testcases/load_testdata.py'),
      loaded('/workspace/.venv/lib/python3.11/site-packages/six.py'),
      loaded('/usr/lib/python3.11/json/__init__.py'),
      loaded('/workspace/python_programs/gcd.py'),
      { kind: 'read', fields: { path: '/workspace/json_testcases/gcd.jsonl' } },
    ]),
    ['python_programs/gcd.py', 'python_testcases/load_testdata.py'],
  );
});

function incident() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-testsupport-'));
  const paths = incidentPaths({ artifactsDir: path.join(root, 'artifacts'), workDir: path.join(root, 'work') }, 'i-1');
  return { root, paths };
}

function writeBaseline(paths: ReturnType<typeof incidentPaths>, modules: string[] | undefined) {
  const file = baselineResultsFile(paths);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ tests: {}, ...(modules ? { modules } : {}) }));
}

function writeReproduction(paths: ReturnType<typeof incidentPaths>, attempt: number, modules: string[]) {
  const dir = paths.attempt('reproduce', attempt);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(reproductionModulesFile(dir), JSON.stringify(modules));
}

test('candidates: loaded by the tests, not by the reproduction, outside its top-level folders; unknown without records', async (t) => {
  const { root, paths } = incident();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  assert.equal(await testSupportCandidates(paths), null, 'no baseline run yet');
  writeBaseline(paths, undefined);
  assert.equal(await testSupportCandidates(paths), null, 'a baseline run from before modules were recorded');
  writeBaseline(paths, [
    'conftest.py',
    'load_testdata.py',
    'python_programs/bucketsort.py',
    'python_programs/gcd.py',
    'python_testcases/helpers.py',
    'python_testcases/test_gcd.py',
  ]);
  assert.equal(await testSupportCandidates(paths), null, "no record of the reproduction's modules");
  writeReproduction(paths, 1, []);
  assert.equal(await testSupportCandidates(paths), null, 'a reproduction that loaded nothing of the repository');
  writeReproduction(paths, 1, ['python_programs/bucketsort.py']);
  assert.deepEqual(
    [...((await testSupportCandidates(paths)) ?? [])].sort(),
    ['conftest.py', 'load_testdata.py', 'python_testcases/helpers.py', 'python_testcases/test_gcd.py'],
    "python_programs/gcd.py is beside the code under repair: the application's",
  );
  // A second attempt's modules count too; one at the root makes the root the application's.
  writeReproduction(paths, 2, ['settings.py']);
  assert.deepEqual([...((await testSupportCandidates(paths)) ?? [])].sort(), [
    'python_testcases/helpers.py',
    'python_testcases/test_gcd.py',
  ]);
});

test('import statements: single, parenthesized, continued, aliased, importlib calls; other lines not', () => {
  const source = [
    'import os, sys',
    'from load_testdata import load_json_testcases',
    'from .helpers import (',
    '    make_case,',
    '    expected_for,',
    ')',
    'from pkg.sub import \\',
    '    thing as other',
    "mod = importlib.import_module('pkg.plugins.' + name)",
    'x = load_testdata  # a name, not an import',
    '    import json  # indented, inside a function',
  ].join('\n');
  assert.deepEqual(importStatements(source), [
    'import os, sys',
    'from load_testdata import load_json_testcases',
    'from .helpers import (     make_case,     expected_for, )',
    'from pkg.sub import \\     thing as other',
    "mod = importlib.import_module('pkg.plugins.' + name)",
    '    import json  # indented, inside a function',
  ]);
});

function repo(files: Record<string, string>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-testsupport-repo-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('imported by the application: an import from a non-test file counts; tests, conftest and the module itself do not', async (t) => {
  const root = repo({
    'load_testdata.py': 'import json\n',
    'conftest.py': 'from load_testdata import load_json_testcases\n',
    'python_testcases/test_gcd.py': 'from load_testdata import load_json_testcases\n',
    'tests/helpers/factory.py': 'import load_testdata\n',
    'python_programs/gcd.py': 'def gcd(a, b):\n    return a\n',
    'app/reports.py': 'from app import (\n    totals,\n)\n',
    'app/totals.py': 'X = 1\n',
    'app/loader/__init__.py': 'X = 1\n',
    'app/cli.py': "import importlib\nloader = importlib.import_module('app.loader')\n",
  });
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  assert.equal(await importedByApplication(root, 'load_testdata.py'), false, 'only tests import it');
  assert.equal(await importedByApplication(root, 'app/totals.py'), true, 'a parenthesized import in app code');
  assert.equal(await importedByApplication(root, 'app/loader/__init__.py'), true, 'a package, by importlib');
  assert.equal(await importedByApplication(root, 'python_programs/gcd.py'), false);
  fs.writeFileSync(path.join(root, 'python_programs', 'runner.py'), 'from load_testdata import load_json_testcases\n');
  assert.equal(await importedByApplication(root, 'load_testdata.py'), true, 'now an application file imports it');
});

test('the patch engine refuses a change to a test support module and takes one the application imports', async (t) => {
  const base = {
    'load_testdata.py': 'def load(name):\n    return []\n',
    'python_testcases/test_gcd.py': 'from load_testdata import load\n',
    'python_programs/gcd.py': 'def gcd(a, b):\n    return a\n',
    'python_programs/util.py': 'X = 1\n',
    'python_programs/main.py': 'from python_programs import util\n',
  };
  const dirs = { baseline: repo(base), workspace: repo(base) };
  t.after(() => Object.values(dirs).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const candidates = new Set(['load_testdata.py', 'python_programs/util.py']);
  const imports = { roots: ['.'], installed: new Set<string>() };
  const tampered = await applyProposal(
    dirs,
    [
      { path: 'python_programs/gcd.py', content: 'def gcd(a, b):\n    return b\n' },
      { path: 'load_testdata.py', content: 'def load(name):\n    return [[0, 0]]\n' },
    ],
    DEFAULT_PATCH_POLICY,
    imports,
    null,
    candidates,
  );
  assert.equal(tampered.ok, false);
  assert.match(tampered.ok ? '' : tampered.reason, /load_testdata\.py: only the repository's tests use this module/);
  assert.equal(
    fs.readFileSync(path.join(dirs.workspace, 'python_programs', 'gcd.py'), 'utf8'),
    base['python_programs/gcd.py'],
  );
  const honest = await applyProposal(
    dirs,
    [
      { path: 'python_programs/gcd.py', content: 'def gcd(a, b):\n    return b\n' },
      { path: 'python_programs/util.py', content: 'X = 2\n' },
      { path: 'load_testdata.py', content: base['load_testdata.py'] },
    ],
    DEFAULT_PATCH_POLICY,
    imports,
    null,
    candidates,
  );
  assert.equal(honest.ok, true, honest.ok ? '' : honest.reason);
  assert.deepEqual(honest.ok ? honest.changedFiles : [], ['python_programs/gcd.py', 'python_programs/util.py']);
  const allowed = await applyProposal(
    dirs,
    [{ path: 'load_testdata.py', content: 'def load(name):\n    return [[0, 0]]\n' }],
    { ...DEFAULT_PATCH_POLICY, allowTestChanges: true },
    imports,
    null,
    null,
  );
  assert.equal(allowed.ok, true, 'the operator may allow test changes (then no candidates are computed)');
});
