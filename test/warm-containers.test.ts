/**
 * Warm containers (sandbox/warm-containers.ts) on real Docker: containers made and started before the
 * answer exists run it once it does (a file written into the workspace after they started is seen);
 * a workspace replaced since (as a restore does) makes the run use a fresh container instead; a
 * different template is never served; held containers go at release, at hold expiry and at close.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runGuarded } from '../sandbox/guarded-run';
import type { GuardedContainerTemplate, GuardedRunSpec } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { dockerFromEnv } from '../sandbox/docker-client';
import { WarmContainers } from '../sandbox/warm-containers';
import { ownContainers, sandboxImage, TEST_RUN_ID } from './support/docker';

const docker = dockerFromEnv();
const SCRIPT = '/opsguard/scripts/reproduction.py';
const REPRODUCTION = `from pkg.mod import f\nassert f([3, 1, 2]) == [1, 2, 3], f([3, 1, 2])\nprint("sorted")\n`;
const BUGGY = 'def f(x):\n    return sorted(x)[::-1]\n';
const FIXED = 'def f(x):\n    return sorted(x)\n';

function incidentFolder(mod: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-warm-'));
  const ws = path.join(dir, 'workspace');
  fs.mkdirSync(path.join(ws, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'pkg', '__init__.py'), '');
  fs.writeFileSync(path.join(ws, 'pkg', 'mod.py'), mod);
  const script = path.join(dir, 'reproduction.py');
  fs.writeFileSync(script, REPRODUCTION);
  const template: GuardedContainerTemplate = {
    entry: 'opsguard_runner.py',
    image: sandboxImage(),
    limits: DEFAULT_LIMITS,
    workspace: ws,
    incidentId: TEST_RUN_ID,
    purpose: 'warm-test',
  };
  const spec = (n: number): GuardedRunSpec => ({
    ...template,
    runDir: path.join(dir, `run-${n}`),
    scripts: [{ hostPath: script, name: 'reproduction.py' }],
    spec: { script: SCRIPT, scripts: [SCRIPT] },
  });
  return { dir, ws, template, spec, slots: path.join(dir, 'slots') };
}

/** Wait until this test process has `n` containers, all started (they are made in the background). */
async function untilOwn(n: number): Promise<void> {
  const settled = async () => {
    const own = await ownContainers(docker);
    return own.length === n && own.every((c) => c.State === 'running');
  };
  for (let i = 0; i < 200 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await ownContainers(docker)).length, n, `${n} containers of this test`);
}

test('containers made before the answer run it: the fix written after they started is what runs', async () => {
  const f = incidentFolder(BUGGY);
  const warm = new WarmContainers(docker, { max: 8, holdSeconds: 120 });
  try {
    warm.prepare(f.template, 2, f.slots);
    warm.prepare(f.template, 2, f.slots); // topping up: two are held already, none more is made
    assert.equal(warm.size, 2);
    await untilOwn(2);
    const running = await ownContainers(docker);
    assert.ok(
      running.every((c) => c.State === 'running'),
      `started, waiting for their run key: ${JSON.stringify(running.map((c) => [c.State, c.Status]))}`,
    );

    // The answer arrives: the fix is written into the workspace (replaced whole, as the patch engine does).
    fs.writeFileSync(path.join(f.ws, 'pkg', 'mod.py.tmp'), FIXED);
    fs.renameSync(path.join(f.ws, 'pkg', 'mod.py.tmp'), path.join(f.ws, 'pkg', 'mod.py'));
    const r = await runGuarded(docker, f.spec(1), warm);
    assert.ok(r.records.end, r.records.problem);
    assert.equal(r.records.end.header.ran_to_end, true, r.sandbox.stderr);
    assert.match(r.sandbox.stdout, /sorted/);
    assert.deepEqual(warm.counts, { prepared: 2, used: 1, discarded: 0 });
    // No container was made for the run: the one used is gone, the other still waits.
    assert.equal((await ownContainers(docker)).length, 1);
    // The run's folder keeps its evidence; the slot is gone.
    assert.deepEqual(fs.readdirSync(f.spec(1).runDir).sort(), ['records', 'spec.json']);
    const written = JSON.parse(fs.readFileSync(path.join(f.spec(1).runDir, 'spec.json'), 'utf8')) as { script: string };
    assert.equal(written.script, SCRIPT);
    assert.equal(fs.readdirSync(f.slots).length, 1);

    await warm.release(TEST_RUN_ID);
    assert.equal(warm.size, 0);
    assert.deepEqual(await ownContainers(docker), []);
    assert.deepEqual(fs.readdirSync(f.slots), []);
  } finally {
    await warm.close();
  }
});

test('a workspace replaced after its containers started, or another template, gets a fresh container', async () => {
  const f = incidentFolder(FIXED);
  const warm = new WarmContainers(docker, { max: 8, holdSeconds: 120 });
  try {
    warm.prepare(f.template, 1, f.slots);
    await untilOwn(1);
    // Another template (other limits): nothing held is served for it.
    assert.equal(await warm.take({ ...f.template, limits: { ...DEFAULT_LIMITS, memoryMb: 256 } }), null);
    assert.equal(warm.size, 1);

    // A restore replaces the workspace folder: the started container still has the old one mounted.
    const staging = `${f.ws}.staging`;
    fs.cpSync(f.ws, staging, { recursive: true });
    fs.writeFileSync(path.join(staging, 'pkg', 'mod.py'), BUGGY);
    fs.rmSync(f.ws, { recursive: true });
    fs.renameSync(staging, f.ws);
    const r = await runGuarded(docker, f.spec(1), warm);
    assert.deepEqual(warm.counts, { prepared: 1, used: 0, discarded: 1 });
    assert.ok(r.records.end, r.records.problem);
    // The run saw the folder as it is now (the bug), not the one the discarded container had.
    assert.equal(r.records.end.header.ran_to_end, false);
    assert.match(r.sandbox.stderr, /AssertionError: \[3, 2, 1\]/);
    assert.deepEqual(await ownContainers(docker), []);
  } finally {
    await warm.close();
  }
});

test('held containers go when their hold ends and when the pool closes; a closed pool makes none', async () => {
  const f = incidentFolder(BUGGY);
  const warm = new WarmContainers(docker, { max: 2, holdSeconds: 2 });
  try {
    warm.prepare(f.template, 5, f.slots);
    assert.equal(warm.size, 2, 'at most max held');
    await untilOwn(2);
    await new Promise((r) => setTimeout(r, 3000));
    await untilOwn(0);
    assert.equal(warm.size, 0);
    assert.equal(warm.counts.discarded, 2);

    warm.prepare({ ...f.template, purpose: 'other' }, 1, f.slots);
    await untilOwn(1);
    await warm.close();
    assert.deepEqual(await ownContainers(docker), []);
    warm.prepare(f.template, 1, f.slots);
    assert.equal(warm.size, 0, 'a closed pool makes nothing');
  } finally {
    await warm.close();
  }
});
