/**
 * A fix may not add a top-level module that shadows the standard library, the test runner or an
 * installed package: the repository's folders come first on sys.path, so it would replace the real one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { installedImportNames, shadowingRefusal, STDLIB_MODULES } from '../../activities/module-shadowing';

test('new top-level modules that shadow are refused, with the module named; a module the repository has is its own', async () => {
  const baseline = new Set(['reports/__init__.py', 'reports/stats.py', 'src/app/__init__.py', 'calendar.py']);
  const has = async (rel: string) => baseline.has(rel) || [...baseline].some((f) => f.startsWith(`${rel}/`));
  const installed = new Set(['hypothesis', 'numpy', 'yaml']);
  const at = (rel: string, roots = ['.']) => shadowingRefusal(rel, roots, installed, has);
  assert.match(
    (await at('decimal.py')) ?? '',
    /new top-level module 'decimal' .* shadow Python's standard library module 'decimal'/,
  );
  assert.match((await at('statistics/__init__.py')) ?? '', /standard library module 'statistics'/);
  assert.match((await at('hypothesis/__init__.py')) ?? '', /the installed package 'hypothesis'/);
  assert.match((await at('pytest.py')) ?? '', /the test runner 'pytest'/);
  assert.match(
    (await at('src/yaml.py', ['.', 'src'])) ?? '',
    /under src\/\) would shadow the installed package 'yaml'/,
  );
  assert.equal(await at('src/yaml.py'), null, 'src/ is not on sys.path here: src.yaml is no shadow');
  assert.equal(await at('reports/decimal.py'), null, 'inside a package: reports.decimal');
  assert.equal(await at('calendar.py'), null, 'the repository has it already');
  assert.equal(await at('money.py'), null, 'a new module with a name of its own');
  assert.ok(STDLIB_MODULES.has('json') && STDLIB_MODULES.has('tomllib') && !STDLIB_MODULES.has('numpy'));
});

test("the installed import names are a flat target folder's modules and packages, not its metadata", async () => {
  const site = await fs.mkdtemp(path.join(os.tmpdir(), 'opsguard-site-'));
  try {
    for (const d of ['yaml', 'hypothesis', 'PyYAML-6.0.2.dist-info', '__pycache__', 'bin'])
      await fs.mkdir(path.join(site, d));
    for (const f of ['six.py', '_cffi_backend.cpython-311-x86_64-linux-gnu.so', 'distutils-precedence.pth']) {
      await fs.writeFile(path.join(site, f), '');
    }
    assert.deepEqual(await installedImportNames(site), ['_cffi_backend', 'hypothesis', 'six', 'yaml']);
    assert.deepEqual(await installedImportNames(null), []);
  } finally {
    await fs.rm(site, { recursive: true, force: true });
  }
});

test('the patch engine refuses a fix that adds a fake test library, writing nothing', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsguard-shadow-'));
  try {
    const baseline = path.join(dir, 'baseline');
    const workspace = path.join(dir, 'workspace');
    for (const root of [baseline, workspace]) {
      await fs.mkdir(path.join(root, 'reports'), { recursive: true });
      await fs.writeFile(path.join(root, 'reports', 'stats.py'), 'def median(v):\n    return sorted(v)[len(v) // 2]\n');
    }
    const outcome = await applyProposal(
      { baseline, workspace },
      [
        { path: 'reports/stats.py', content: 'def median(v):\n    return 110\n' },
        { path: 'hypothesis/__init__.py', content: 'def given(*a, **k):\n    return lambda f: lambda *x, **y: None\n' },
      ],
      DEFAULT_PATCH_POLICY,
      { roots: ['.'], installed: new Set(['hypothesis']) },
    );
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.reason, /hypothesis\/__init__\.py: a new top-level module 'hypothesis'/);
    assert.equal(
      await fs.readFile(path.join(workspace, 'reports', 'stats.py'), 'utf8'),
      'def median(v):\n    return sorted(v)[len(v) // 2]\n',
    );
    await assert.rejects(fs.stat(path.join(workspace, 'hypothesis')), 'nothing was written');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
