/**
 * Import failures (workflows/import-errors.ts, activities/import-target.ts, the classifier's
 * classify-v3 rules) on tracebacks Python 3.11 printed for a small service (test/fixtures/import-errors,
 * paths moved under /srv): whose module failed decides code, infra or unclassified; the rules before
 * classify-v3 leave every one unclassified, as incidents recorded then ran.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { locateInRepo } from '../../activities/frame-location';
import { importTarget } from '../../activities/import-target';
import { classifyError, sameClassification } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import { importedModuleName } from '../../workflows/import-errors';
import { parseTraceback } from '../../workflows/traceback';

const LOGS = path.join(import.meta.dirname, '..', 'fixtures', 'import-errors');
/** The service's files (as the worker lists the repository). */
const FILES = [
  'bin/serve.py',
  'shop/__init__.py',
  'shop/api.py',
  'shop/compat.py',
  'shop/config.py',
  'shop/customers.py',
  'shop/orders.py',
  'shop/pricing.py',
  'shop/reports.py',
  'tests/test_api.py',
];

function classify(name: string, opts: { files?: string[]; before?: 'v2' | 'v3' } = {}) {
  const files = opts.files ?? FILES;
  const log = fs.readFileSync(path.join(LOGS, `${name}.log`), 'utf8');
  const traceback = parseTraceback(log);
  assert.ok(traceback, `${name}: a traceback`);
  const frames: LocatedFrame[] = traceback.frames.map((f) => ({ ...f, repoPath: locateInRepo(f.file, files) }));
  const target = importTarget(traceback.exceptionType, traceback.message, files);
  return classifyError({
    errorLog: log,
    traceback,
    frames,
    repoDefinesException: false,
    ...(target ? { importTarget: target } : {}),
    ...(opts.before === 'v3' ? { rulesBeforeV3: true } : opts.before === 'v2' ? { rulesBeforeV2: true } : {}),
  });
}

test('the module an import error names', () => {
  assert.equal(importedModuleName("No module named 'shop.exporters'"), 'shop.exporters');
  assert.equal(
    importedModuleName("cannot import name 'render_price' from 'shop.pricing' (/srv/shop/shop/pricing.py)"),
    'shop.pricing',
  );
  assert.equal(
    importedModuleName(
      "cannot import name 'Order' from partially initialized module 'shop.orders' (most likely due to a circular import) (/srv/shop/shop/orders.py)",
    ),
    'shop.orders',
  );
  assert.equal(importedModuleName('attempted relative import with no known parent package'), null);
});

test('where the module is: the longest prefix the repository has, at its root or under src/', () => {
  assert.deepEqual(importTarget('ModuleNotFoundError', "No module named 'shop.exporters'", FILES), {
    module: 'shop.exporters',
    repoPrefix: 'shop',
  });
  assert.deepEqual(importTarget('ImportError', "cannot import name 'x' from 'shop.pricing' (/p)", FILES), {
    module: 'shop.pricing',
    repoPrefix: 'shop.pricing',
  });
  assert.deepEqual(importTarget('ImportError', "cannot import name 'x' from 'core.util' (/p)", ['src/core/util.py']), {
    module: 'core.util',
    repoPrefix: 'core.util',
  });
  assert.deepEqual(importTarget('ModuleNotFoundError', "No module named 'ujson'", FILES), {
    module: 'ujson',
    repoPrefix: null,
  });
  assert.deepEqual(importTarget('ImportError', "cannot import name 'Mapping' from 'collections' (/usr/lib/x)", FILES), {
    module: 'collections',
    repoPrefix: null,
    standardLibrary: true,
  });
  // A folder of data named like the module is not a package: only Python files count.
  assert.equal(importTarget('ModuleNotFoundError', "No module named 'docs'", ['docs/index.md'])?.repoPrefix, null);
  assert.equal(importTarget('KeyError', "No module named 'shop'", FILES), null, 'only import errors');
});

test('where the module is, past the conventional folders: the one other folder holding its package; never vendored or test code', () => {
  const mnf = (name: string, files: string[]) =>
    importTarget('ModuleNotFoundError', `No module named '${name}'`, files);
  assert.deepEqual(mnf('shop.exporters', ['python/shop/__init__.py', 'python/shop/orders.py', 'setup.py']), {
    module: 'shop.exporters',
    repoPrefix: 'shop',
  });
  assert.deepEqual(
    importTarget(
      'ImportError',
      "cannot import name 'Order' from 'billing.orders' (/srv/app/services/api/billing/orders.py)",
      ['services/api/billing/__init__.py', 'services/api/billing/orders.py', 'services/web/app.py'],
    ),
    { module: 'billing.orders', repoPrefix: 'billing.orders' },
  );
  // A single module file under another folder.
  assert.equal(mnf('legacy_tools', ['scripts/legacy_tools.py'])?.repoPrefix, 'legacy_tools');
  // The shallowest folder wins, and a conventional one before any other.
  assert.equal(mnf('shop.x', ['a/b/shop/x.py', 'a/shop/y.py'])?.repoPrefix, 'shop');
  assert.equal(mnf('shop.x', ['python/shop/x.py', 'src/shop/y.py'])?.repoPrefix, 'shop', 'src/ has shop, not shop.x');
  // Someone else's code, or the tests', is not the repository's package.
  assert.equal(mnf('requests', ['vendor/requests/__init__.py', 'app/main.py'])?.repoPrefix, null);
  assert.equal(mnf('requests', ['pkg/_vendor/requests/api.py'])?.repoPrefix, null);
  assert.equal(mnf('requests', ['.venv/lib/python3.11/site-packages/requests/api.py'])?.repoPrefix, null);
  assert.equal(mnf('shop', ['tests/fixtures/shop/__init__.py'])?.repoPrefix, null);
  // Deeper than three folders is not a source folder.
  assert.equal(mnf('shop', ['a/b/c/d/shop/__init__.py'])?.repoPrefix, null);
});

const CASES: [string, 'code' | 'infra' | 'unclassified', RegExp, string?][] = [
  ['api', 'code', /shop\.pricing does not define what the code imports/, 'shop/api.py:<module>'],
  ['circular', 'code', /two of the repository's modules import each other/, 'shop/customers.py:<module>'],
  [
    'missing-submodule',
    'code',
    /imports shop\.exporters, which its own package shop does not have/,
    'shop/reports.py:<module>',
  ],
  [
    'stdlib-name',
    'code',
    /standard library does not have: it was written for another Python/,
    'shop/compat.py:<module>',
  ],
  ['missing-package', 'infra', /ujson is not a module of the repository: the deployment lacks the package/],
  [
    'not-on-path',
    'unclassified',
    /shop is a module of the repository, yet it was not found: how the service was started/,
  ],
];

for (const [name, kind, reason, location] of CASES) {
  test(`${name}.log: ${kind}${location ? ` at ${location}` : ''}; before classify-v3, unclassified as it was`, () => {
    const c = classify(name);
    assert.equal(c.kind, kind, c.reason);
    assert.match(c.reason, reason);
    if (location) {
      assert.ok(c.kind === 'code');
      assert.equal(`${c.location.file}:${c.location.func}`, location);
    }
    if (c.kind === 'infra') assert.deepEqual(c.signals, ['missing or incompatible package']);
    for (const before of ['v3', 'v2'] as const) {
      const old = classify(name, { before });
      assert.equal(old.kind, 'unclassified', `${before}: ${old.reason}`);
      assert.equal(
        sameClassification(old, c),
        kind === 'unclassified',
        'the workflow keeps the old rules where they differ',
      );
    }
  });
}
