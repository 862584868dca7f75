import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY, refusePath } from '../../activities/patch-policy';
import { gitApplyCheck, hashTree } from '../support/remediation-harness';

function workspacePair() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-patch-'));
  const baseline = path.join(root, 'baseline');
  const workspace = path.join(root, 'workspace');
  for (const dir of [baseline, workspace]) {
    fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pkg', 'mod.py'), 'def f():\n    return 1\n');
  }
  return { root, baseline, workspace };
}

const REFUSED: [string, RegExp][] = [
  ['/etc/passwd', /absolute paths are refused/],
  ['../outside.py', /'\.\.' would leave the repository/],
  ['pkg/../../x.py', /'\.\.' would leave the repository/],
  ['pkg//mod.py', /not normalized/],
  ['.git/config', /version-control data/],
  ['sitecustomize.py', /start-up hooks/],
  ['pkg/evil.pth', /start-up hooks/],
  ['conftest.py', /test-runner configuration/],
  ['tests/test_mod.py', /test files are refused/],
  ['pkg/mod_test.py', /test files are refused/],
  ['.github/workflows/ci.yml', /CI configuration/],
  ['C:/x.py', /absolute paths/],
  ['pkg\\mod.py', /forward slashes/],
];
for (const [p, why] of REFUSED) {
  test(`the patch policy refuses ${p}`, () => {
    assert.match(refusePath(p, DEFAULT_PATCH_POLICY) ?? 'ALLOWED', why);
  });
}

test('the patch policy allows ordinary source paths, and test files only when widened', () => {
  assert.equal(refusePath('pkg/mod.py', DEFAULT_PATCH_POLICY), null);
  assert.equal(refusePath('pkg/new_module.py', DEFAULT_PATCH_POLICY), null);
  assert.equal(refusePath('tests/test_mod.py', { ...DEFAULT_PATCH_POLICY, allowTestChanges: true }), null);
});

test('a valid proposal is written and its diff applies to the baseline with git apply', async () => {
  const { baseline, workspace } = workspacePair();
  const out = await applyProposal(
    { baseline, workspace },
    [
      { path: 'pkg/mod.py', content: 'def f():\n    return 2\n' },
      { path: 'pkg/new.py', content: 'X = 1\n' },
    ],
    DEFAULT_PATCH_POLICY,
  );
  assert.ok(out.ok);
  assert.deepEqual(out.changedFiles, ['pkg/mod.py', 'pkg/new.py']);
  assert.equal(fs.readFileSync(path.join(workspace, 'pkg/mod.py'), 'utf8'), 'def f():\n    return 2\n');
  const diffFile = path.join(os.tmpdir(), `opsguard-${process.pid}.diff`);
  fs.writeFileSync(diffFile, out.diff);
  const check = gitApplyCheck(baseline, diffFile);
  assert.ok(check.ok, check.output);
});

test('one refused path refuses the whole proposal and writes nothing', async () => {
  const { baseline, workspace } = workspacePair();
  const before = hashTree(workspace);
  const out = await applyProposal(
    { baseline, workspace },
    [
      { path: 'pkg/mod.py', content: 'def f():\n    return 2\n' },
      { path: 'conftest.py', content: 'import pytest\n' },
    ],
    DEFAULT_PATCH_POLICY,
  );
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.reason : '', /conftest\.py: test-runner configuration/);
  assert.equal(hashTree(workspace), before);
});

test('writing through a symlink in the workspace is refused', async () => {
  const { root, baseline, workspace } = workspacePair();
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(workspace, 'linked'));
  fs.symlinkSync(path.join(outside, 'target.py'), path.join(workspace, 'pkg', 'link.py'));
  for (const p of ['linked/x.py', 'pkg/link.py']) {
    const out = await applyProposal({ baseline, workspace }, [{ path: p, content: 'x = 1\n' }], DEFAULT_PATCH_POLICY);
    assert.equal(out.ok, false, p);
    assert.match(!out.ok ? out.reason : '', /is a symlink; writing through symlinks is refused/);
  }
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside');
});

test('binary content and no-op proposals are refused', async () => {
  const { baseline, workspace } = workspacePair();
  const bin = await applyProposal(
    { baseline, workspace },
    [{ path: 'pkg/x.py', content: 'a\0b' }],
    DEFAULT_PATCH_POLICY,
  );
  assert.match(!bin.ok ? bin.reason : '', /binary content/);
  const noop = await applyProposal(
    { baseline, workspace },
    [{ path: 'pkg/mod.py', content: 'def f():\n    return 1\n' }],
    DEFAULT_PATCH_POLICY,
  );
  assert.match(!noop.ok ? noop.reason : '', /changes nothing/);
});
