/**
 * A worker's start-up checks, on real worker processes: a folder it cannot write refuses the start
 * with the variable to change; an engine that does not answer, a missing sandbox image, an image
 * without python3, a model service that refuses the key or lacks the model are each said in one
 * line, and the worker still starts (queries and approvals need none of them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startTestServer } from './support/temporal';
import { startWorkerProcess } from './support/worker-process';

/** Start a worker with `env`; return its output once it polls or exits. */
async function start(env: Record<string, string>): Promise<{ polled: boolean; code: number | null; output: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-start-'));
  const w = startWorkerProcess({ OPSGUARD_TASK_QUEUE: `start-${randomUUID()}`, OPSGUARD_HOME: tmp, ...env });
  const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
  const polled = await Promise.race([w.polling.then(() => true), exited.then(() => false)]);
  await w.kill();
  return { polled, code: w.child.exitCode, output: w.output() };
}

/** A model service stand-in answering GET /models with `status` and `body`. */
async function modelService(status: number, body: unknown): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('a worker refuses to start on a folder it cannot write, naming the variable', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-start-')), 'a-file');
  fs.writeFileSync(file, '');
  const r = await start({ OPSGUARD_ARTIFACTS_DIR: path.join(file, 'artifacts') });
  assert.equal(r.polled, false);
  assert.equal(r.code, 2, r.output);
  assert.match(
    r.output,
    /OPSGUARD_ARTIFACTS_DIR \(.*a-file\/artifacts\) is not a folder this worker can write: ENOTDIR/,
  );
  assert.doesNotMatch(r.output, /\n\s+at /, 'one line, no stack trace');
});

test('a worker whose Temporal does not answer says where it looked, in one line, and exits', async () => {
  const r = await start({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
  assert.equal(r.polled, false);
  assert.equal(r.code, 2, r.output);
  assert.match(r.output, /Temporal is not reachable at 127\.0\.0\.1:1 \(.*\)\. Start it .* or set TEMPORAL_ADDRESS/);
  assert.doesNotMatch(r.output, /\n\s+at /, 'one line, no stack trace');
});

test('an engine that does not answer, a missing image, an image without python3: said at start, one line each', async () => {
  const server = await startTestServer();
  const empty = `opsguard-test/no-python:${process.pid}`;
  execFileSync('bash', ['-c', `tar cf - -T /dev/null | docker import - ${empty}`]);
  try {
    const noEngine = await start({ DOCKER_HOST: 'unix:///tmp/opsguard-no-such-engine.sock' });
    assert.ok(noEngine.polled, noEngine.output);
    assert.match(
      noEngine.output,
      /\[WORKER\] the Docker engine does not answer at unix:\/\/\/tmp\/opsguard-no-such-engine\.sock/,
    );

    const missing = await start({ OPSGUARD_SANDBOX_IMAGE: 'opsguard-test/no-such-image:1' });
    assert.ok(missing.polled, missing.output);
    assert.match(
      missing.output,
      /\[WORKER\] the sandbox image opsguard-test\/no-such-image:1 is not on the Docker engine/,
    );

    const noPython = await start({ OPSGUARD_SANDBOX_IMAGE: empty });
    assert.ok(noPython.polled, noPython.output);
    assert.match(
      noPython.output,
      new RegExp(`\\[WORKER\\] the sandbox image ${empty.replace(/[/.]/g, '\\$&')} does not run python3`),
    );

    const fine = await start({});
    assert.doesNotMatch(fine.output, /Docker engine does not answer|sandbox image/, 'nothing said when all is well');
  } finally {
    execFileSync('docker', ['rmi', '-f', empty]);
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});

test('a model service that refuses the key, or lacks the model, is said at start', async () => {
  const server = await startTestServer();
  const refusing = await modelService(401, { error: { message: 'Incorrect API key provided' } });
  const other = await modelService(200, { object: 'list', data: [{ id: 'gpt-4o' }, { id: 'o3' }] });
  try {
    const refused = await start({
      OPENAI_BASE_URL: refusing.url,
      OPENAI_API_KEY: 'sk-wrong',
      OPSGUARD_MODEL: 'gpt-4o',
    });
    assert.ok(refused.polled, refused.output);
    assert.match(
      refused.output,
      /\[WORKER\] the model service at .* refused the key \(HTTP 401\): check OPENAI_API_KEY/,
    );
    assert.ok(!refused.output.includes('sk-wrong'), 'the key is never printed');

    const unknown = await start({ OPENAI_BASE_URL: other.url, OPENAI_API_KEY: 'sk-test', OPSGUARD_MODEL: 'gpt-4.1' });
    assert.match(
      unknown.output,
      /\[WORKER\] the model service at .* has no model 'gpt-4\.1' \(it has gpt-4o, o3\): check OPSGUARD_MODEL/,
    );
  } finally {
    await refusing.close();
    await other.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
