/**
 * The tests' data (activities/test-data.ts): what the baseline test run read and gate 1's
 * reproduction runs did not; a fix that changes such a file is refused by the patch engine, a file
 * the application reads too (its configuration) stays the fix's to change.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyProposal } from '../../activities/patch-engine';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { incidentPaths } from '../../activities/incident-paths';
import { baselineResultsFile, readsOf, reproductionReadsFile, testDataOf } from '../../activities/test-data';

const read = (p: string) => ({ kind: 'read', fields: { path: p } });

test("a run's reads: workspace files only, once each, without the tools' own settings", () => {
  assert.deepEqual(
    readsOf([
      read('/workspace/json_testcases/gcd.jsonl'),
      read('/workspace/json_testcases/../json_testcases/gcd.jsonl'),
      read('/workspace/pyproject.toml'),
      read('/workspace/setup.cfg'),
      read('/etc/ssl/openssl.cnf'),
      read('/workspace/config/rates.json'),
      { kind: 'test', fields: { path: '/workspace/not-a-read.json' } },
    ]),
    ['config/rates.json', 'json_testcases/gcd.jsonl'],
  );
});

function incident() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-testdata-'));
  const paths = incidentPaths({ artifactsDir: path.join(root, 'artifacts'), workDir: path.join(root, 'work') }, 'i-1');
  return { root, paths };
}

test("test data is what the tests read and the reproduction did not; unknown without either side's record", async (t) => {
  const { root, paths } = incident();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  assert.equal(await testDataOf(paths), null, 'no baseline run yet');
  const baseline = baselineResultsFile(paths);
  fs.mkdirSync(path.dirname(baseline), { recursive: true });
  fs.writeFileSync(
    baseline,
    JSON.stringify({ tests: {}, reads: ['json_testcases/gcd.jsonl', 'config/rates.json', 'README.md'] }),
  );
  assert.equal(await testDataOf(paths), null, "no record of the reproduction's reads");
  const attempt = paths.attempt('reproduce', 1);
  fs.mkdirSync(attempt, { recursive: true });
  fs.writeFileSync(reproductionReadsFile(attempt), JSON.stringify(['config/rates.json']));
  assert.deepEqual([...((await testDataOf(paths)) ?? [])].sort(), ['README.md', 'json_testcases/gcd.jsonl']);
  // A second attempt's reads count too: whatever any reproduction read is the application's.
  const second = paths.attempt('reproduce', 2);
  fs.mkdirSync(second, { recursive: true });
  fs.writeFileSync(reproductionReadsFile(second), JSON.stringify(['README.md']));
  assert.deepEqual([...((await testDataOf(paths)) ?? [])], ['json_testcases/gcd.jsonl']);
});

test("the patch engine refuses a change to the tests' data, allows the same file unchanged and the application's data", async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-testdata-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const dirs = { baseline: path.join(root, 'baseline'), workspace: path.join(root, 'workspace') };
  for (const dir of Object.values(dirs)) {
    fs.mkdirSync(path.join(dir, 'json_testcases'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'json_testcases', 'gcd.jsonl'), '[[3, 12], 3]\n');
    fs.writeFileSync(path.join(dir, 'config', 'rates.json'), '{"EUR": 1}\n');
  }
  const testData = new Set(['json_testcases/gcd.jsonl']);
  const imports = { roots: ['.'], installed: new Set<string>() };
  const tampered = await applyProposal(
    dirs,
    [{ path: 'json_testcases/gcd.jsonl', content: '[[3, 12], 12]\n' }],
    DEFAULT_PATCH_POLICY,
    imports,
    testData,
  );
  assert.equal(tampered.ok, false);
  assert.match(tampered.ok ? '' : tampered.reason, /json_testcases\/gcd\.jsonl: the repository's tests read this file/);
  assert.equal(fs.readFileSync(path.join(dirs.workspace, 'json_testcases', 'gcd.jsonl'), 'utf8'), '[[3, 12], 3]\n');
  const config = await applyProposal(
    dirs,
    [
      { path: 'json_testcases/gcd.jsonl', content: '[[3, 12], 3]\n' },
      { path: 'config/rates.json', content: '{"EUR": 1, "USD": 1.1}\n' },
    ],
    DEFAULT_PATCH_POLICY,
    imports,
    testData,
  );
  assert.equal(config.ok, true, config.ok ? '' : config.reason);
  assert.deepEqual(config.ok ? config.changedFiles : [], ['config/rates.json']);
});
