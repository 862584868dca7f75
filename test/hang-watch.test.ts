/**
 * The runner's hang watch (sandbox/runner/opsguard_runner.py, armed by `hang_after_seconds` for a hang
 * incident) on real Docker: a loop in the repository's code is stopped where it is and the stop is
 * signed; code that swallows the stop is stopped again; an early alarm, or the script's own exception
 * class named like ours, is not a hang; a script that finishes is not stopped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runGuarded } from '../sandbox/guarded-run';
import type { GuardedRunResult } from '../sandbox/guarded-run';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { dockerFromEnv } from '../sandbox/docker-client';
import { summariseReproductionRun } from '../activities/run-summary';
import { ownContainers, sandboxImage, TEST_RUN_ID } from './support/docker';

const docker = dockerFromEnv();
const SCRIPT = '/opsguard/scripts/reproduction.py';

/** A bitcount whose loop never ends for n > 0, and a helper it calls every turn. */
const LOOPING = [
  'def step(n):',
  '    return n ^ (n - 1)',
  '',
  '',
  'def bitcount(n):',
  '    count = 0',
  '    while n:',
  '        n = step(n)',
  '        count += 1',
  '    return count',
  '',
].join('\n');

interface Ran {
  result: GuardedRunResult;
  dir: string;
  ws: string;
  hang: { after_seconds: number } | undefined;
  exception: { type: string; frames: { file: string; func: string }[] } | undefined;
}

async function run(script: string, hangAfterSeconds: number | null = 2, timeoutSeconds = 30): Promise<Ran> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-hang-'));
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(path.join(ws, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'pkg', '__init__.py'), '');
  fs.writeFileSync(path.join(ws, 'pkg', 'bits.py'), LOOPING);
  const file = path.join(dir, 'reproduction.py');
  fs.writeFileSync(file, script);
  const result = await runGuarded(docker, {
    entry: 'opsguard_runner.py',
    image: sandboxImage(),
    limits: { ...DEFAULT_LIMITS, timeoutSeconds },
    workspace: ws,
    runDir: path.join(dir, 'run'),
    scripts: [{ hostPath: file, name: 'reproduction.py' }],
    incidentId: TEST_RUN_ID,
    purpose: 'hang-watch-test',
    spec: {
      script: SCRIPT,
      scripts: [SCRIPT],
      changed_files: [],
      changed_lines: {},
      ...(hangAfterSeconds ? { hang_after_seconds: hangAfterSeconds } : {}),
    },
  });
  const details = (result.records.end?.details ?? {}) as {
    hang?: { after_seconds: number };
    exception?: { type: string; frames: { file: string; func: string }[] };
  };
  return { result, dir, ws, hang: details.hang, exception: details.exception ?? undefined };
}

test("a loop in the repository's code is stopped where it is, and the stop is signed with the stack", async (t) => {
  const r = await run('from pkg.bits import bitcount\n\nprint(bitcount(127))\n');
  t.after(() => fs.rmSync(r.dir, { recursive: true, force: true }));
  assert.ok(r.result.records.end, r.result.records.problem);
  assert.equal(r.result.records.end.header.ran_to_end, false);
  assert.deepEqual(r.hang, { after_seconds: 2 });
  assert.equal(r.exception?.type, 'OpsGuardHang');
  const funcs = r.exception?.frames.map((f) => f.func) ?? [];
  assert.ok(!funcs.includes('_on_alarm'), `the watch's own frame is not where the program was: ${funcs.join(' > ')}`);
  assert.ok(['bitcount', 'step'].includes(funcs.at(-1) ?? ''), funcs.join(' > '));
  assert.ok(!r.result.sandbox.timedOut, 'stopped by the watch, not killed at the container deadline');
  // As the gates read it: the repository frames it was stopped in, bitcount among them.
  const summary = await summariseReproductionRun(r.result, {
    workspace: r.ws,
    dir: path.join(r.dir, 'summary'),
    keepTails: true,
  });
  assert.equal(summary.hang?.afterSeconds, 2);
  assert.ok(
    summary.hang?.repoStack.some((f) => f.file === 'pkg/bits.py' && f.func === 'bitcount'),
    JSON.stringify(summary.hang),
  );
});

test('code that swallows the stop (except BaseException) is stopped again a second later, and it still counts', async (t) => {
  const r = await run(
    [
      'from pkg.bits import bitcount',
      '',
      'try:',
      '    bitcount(127)',
      'except BaseException:',
      '    pass',
      'print("swallowed once")',
      'bitcount(128)',
      '',
    ].join('\n'),
  );
  t.after(() => fs.rmSync(r.dir, { recursive: true, force: true }));
  assert.ok(r.result.records.end, r.result.records.problem);
  assert.match(r.result.sandbox.stdout, /swallowed once/);
  assert.deepEqual(r.hang, { after_seconds: 2 });
  assert.equal(r.exception?.type, 'OpsGuardHang');
});

test("an early alarm (the script's own SIGALRM) and an exception class of the script's named OpsGuardHang are not a hang", async (t) => {
  const early = await run(
    ['import signal', 'signal.raise_signal(signal.SIGALRM)', 'print("still here")', ''].join('\n'),
    5,
  );
  t.after(() => fs.rmSync(early.dir, { recursive: true, force: true }));
  assert.ok(early.result.records.end, early.result.records.problem);
  assert.equal(early.result.records.end.header.ran_to_end, true, early.result.sandbox.stderr);
  assert.equal(early.hang, undefined);

  const forged = await run(
    ['class OpsGuardHang(BaseException):', '    pass', '', 'raise OpsGuardHang("stopped, honestly")', ''].join('\n'),
  );
  t.after(() => fs.rmSync(forged.dir, { recursive: true, force: true }));
  assert.ok(forged.result.records.end, forged.result.records.problem);
  assert.equal(forged.exception?.type, 'OpsGuardHang');
  assert.equal(forged.hang, undefined, 'the runner signs a hang only for its own stop');
});

test('a script that finishes is not stopped; without hang_after_seconds nothing is armed', async (t) => {
  const quick = await run('from pkg.bits import bitcount\n\nprint(bitcount(0))\n');
  t.after(() => fs.rmSync(quick.dir, { recursive: true, force: true }));
  assert.equal(quick.result.records.end?.header.ran_to_end, true, quick.result.sandbox.stderr);
  assert.equal(quick.hang, undefined);

  const unarmed = await run('from pkg.bits import bitcount\n\nprint(bitcount(127))\n', null, 4);
  t.after(() => fs.rmSync(unarmed.dir, { recursive: true, force: true }));
  // Not a hang incident: the same loop runs on until the container's deadline kills it, unsigned.
  assert.equal(unarmed.result.sandbox.timedOut, true);
  assert.equal(unarmed.result.records.end, null);
  assert.equal(unarmed.hang, undefined);
});

test('every container of these runs was removed', async () => {
  assert.deepEqual(await ownContainers(docker), []);
});
