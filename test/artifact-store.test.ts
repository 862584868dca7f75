/**
 * Artifacts that outlive the worker's host: S3-compatible storage (activities/artifact-store.ts)
 * against a real S3-compatible server (moto, test/support/s3-server.ts), the real AWS client, a real
 * worker process, Temporal and Docker. The worker stores an incident's artifacts in the bucket, and
 * proof.json again once the decision is in it; with the worker's folder gone (another host), the
 * command line lists and copies them from the bucket, byte for byte. The credentials reach neither
 * the history, the worker's log nor an artifact. A bucket the worker cannot write stops it at start
 * with the reason, not at the first incident.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { downloadArtifacts, uploadArtifacts } from '../activities/artifact-store';
import { parseArtifactStore, PROJECT_ROOT } from '../worker/settings';
import type { ArtifactStore } from '../worker/settings';
import { exampleDir, recordedTurns } from './support/remediation-harness';
import { startS3Server } from './support/s3-server';
import { startScriptedModel } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';

/** Credentials only this run knows: looked for afterwards wherever they must not be. */
const SECRET = `opsguard-canary-${randomUUID()}`;
const CREDENTIALS = { accessKeyId: 'AKIAOPSGUARDCANARY01', secretAccessKey: SECRET };
const awsEnv = { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: 'us-east-1' };

test('the store setting: s3://bucket[/prefix] with an http(s) endpoint, or a clear refusal', () => {
  const ok = parseArtifactStore('s3://ops-artifacts/prod/incidents/', { endpoint: 'http://127.0.0.1:9000' });
  assert.deepEqual(ok, {
    store: {
      bucket: 'ops-artifacts',
      prefix: 'prod/incidents',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
    },
  });
  for (const [url, endpoint, says] of [
    ['ops-artifacts', undefined, /must be s3:\/\/<bucket>/],
    ['s3://Ops_Artifacts', undefined, /must be s3:\/\/<bucket>/],
    ['s3://ops-artifacts/../other', undefined, /'\.' or '\.\.'/],
    ['s3://ops-artifacts', 'ftp://store', /OPSGUARD_S3_ENDPOINT must be an http\(s\) URL/],
  ] as const) {
    const got = parseArtifactStore(url, endpoint ? { endpoint } : {});
    assert.ok('error' in got, `${url} refused`);
    assert.match(got.error, says);
  }
});

test('upload and download against a real S3-compatible server: proof.json last, byte for byte, missing names said, no path escapes', async () => {
  const s3 = await startS3Server(CREDENTIALS);
  const saved = { ...process.env };
  Object.assign(process.env, awsEnv);
  try {
    await s3.createBucket('unit-artifacts');
    const store: ArtifactStore = {
      bucket: 'unit-artifacts',
      prefix: 'ops',
      endpoint: s3.endpoint,
      region: 'us-east-1',
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-store-unit-'));
    const files = {
      'patch.diff': Buffer.from('--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n'),
      'proof.json': Buffer.from('{"status":"awaiting_approval"}\n'),
      'variants/edge.py': Buffer.from('assert 1\n'),
      'blob.bin': Buffer.from([0, 255, 1, 254, 10, 13]),
    };
    const local: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      local[name] = path.join(dir, 'src', name);
      fs.mkdirSync(path.dirname(local[name]), { recursive: true });
      fs.writeFileSync(local[name], bytes);
    }
    const urls = await uploadArtifacts(store, 'inc-1', local);
    assert.equal(urls['variants/edge.py'], 's3://unit-artifacts/ops/inc-1/variants/edge.py');
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'unit-artifacts', Prefix: 'ops/inc-1/' }));
    assert.deepEqual(
      (listed.Contents ?? []).map((o) => o.Key).sort(),
      Object.keys(files)
        .map((n) => `ops/inc-1/${n}`)
        .sort(),
    );
    const got = await downloadArtifacts(
      store,
      'inc-1',
      [...Object.keys(files), 'never-written.md', '../escape'],
      path.join(dir, 'out'),
    );
    assert.deepEqual(got.missing, ['never-written.md', '../escape']);
    for (const [name, bytes] of Object.entries(files))
      assert.deepEqual(fs.readFileSync(got.files[name] ?? ''), bytes, name);
    assert.ok(!fs.existsSync(path.join(dir, 'escape')), 'a name with .. is never written');
    // A bucket that does not exist: the error names the artifact, the URL and the service's reason.
    await assert.rejects(
      uploadArtifacts({ ...store, bucket: 'no-such-bucket' }, 'inc-1', { 'proof.json': local['proof.json'] as string }),
      /could not store artifact proof\.json at s3:\/\/no-such-bucket\/ops\/inc-1\/proof\.json: NoSuchBucket/,
    );
  } finally {
    process.env = saved;
    await s3.stop();
  }
});

test('a worker with OPSGUARD_ARTIFACTS_S3 keeps the proof in the bucket; the command line reads it there once the worker’s folder is gone; the credentials leak nowhere', async () => {
  const s3 = await startS3Server(CREDENTIALS);
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-artifact-store-'));
  const model = await startScriptedModel(recordedTurns('config-loader'), { byTask: true });
  const taskQueue = `artifact-store-${randomUUID()}`;
  const bucket = `ops-${randomUUID().slice(0, 8)}`;
  const storeEnv = { OPSGUARD_ARTIFACTS_S3: `s3://${bucket}/incidents`, OPSGUARD_S3_ENDPOINT: s3.endpoint };
  const env = { ...workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }), ...awsEnv, ...storeEnv };
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const workers: ReturnType<typeof startWorkerProcess>[] = [];
  try {
    // No bucket yet: the worker refuses to start, saying why, with no stack trace.
    const refused = startWorkerProcess(env);
    workers.push(refused);
    await new Promise<void>((r) => refused.child.once('exit', () => r()));
    assert.notEqual(refused.child.exitCode, 0);
    assert.match(
      refused.output(),
      /OPSGUARD_ARTIFACTS_S3 \(s3:\/\/ops-[0-9a-f]+\/incidents at http:\/\/127\.0\.0\.1:\d+\) does not take this worker's writes: NoSuchBucket/,
    );
    assert.doesNotMatch(refused.output(), /\n\s+at .+:\d+:\d+\)?\n/, 'a setting error, not a stack trace');

    await s3.createBucket(bucket);
    const worker = startWorkerProcess(env);
    workers.push(worker);
    await worker.polling;
    const repo = path.join(tmp, 'repo');
    fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
    const id = `artifact-store-${randomUUID().slice(0, 8)}`;
    const handle = await startIncident(client, { taskQueue, workflowId: id, repo });
    await approveWhenVerified(handle, () => worker.output());
    const result = await handle.result();
    assert.equal(result.status, 'approved', `${result.reason}\n${worker.output()}`);

    // In the bucket: every artifact the result names, proof.json with the decision in it.
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `incidents/${id}/` }));
    const keys = new Set((listed.Contents ?? []).map((o) => o.Key));
    for (const name of ['patch.diff', 'PR_DESCRIPTION.md', 'reproduction.py', 'proof.json'])
      assert.ok(keys.has(`incidents/${id}/${name}`), `${name} is in the bucket: ${[...keys].join(', ')}`);
    assert.deepEqual(
      [...keys].sort(),
      Object.keys(result.artifacts)
        .map((n) => `incidents/${id}/${n}`)
        .sort(),
    );
    const written = Object.fromEntries(Object.entries(result.artifacts).map(([n, p]) => [n, fs.readFileSync(p)]));

    // Another host: the worker's folders are not there; the command line has only the bucket.
    await worker.kill();
    fs.rmSync(path.join(tmp, 'home'), { recursive: true, force: true });
    const cliEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
      OPSGUARD_HOME: path.join(tmp, 'operator-home'),
      OPSGUARD_STATE_DIR: path.join(tmp, 'operator-state'),
      ...awsEnv,
      ...storeEnv,
    };
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), ...args], {
        encoding: 'utf8',
        env: cliEnv,
      });
    const paths = JSON.parse(cli('artifacts', id, '--json')) as Record<string, string>;
    assert.deepEqual(Object.keys(paths).sort(), Object.keys(result.artifacts).sort());
    for (const [name, file] of Object.entries(paths)) {
      assert.ok(file.startsWith(path.join(tmp, 'operator-state')), `${name} fetched here: ${file}`);
      assert.deepEqual(fs.readFileSync(file), written[name], `${name} byte for byte`);
    }
    assert.equal(
      (JSON.parse(fs.readFileSync(paths['proof.json'] ?? '', 'utf8')) as { status: string }).status,
      'approved',
    );
    const out = path.join(tmp, 'review');
    const copied = JSON.parse(cli('artifacts', id, '--out', out, '--json')) as { copiedTo: string; from: string };
    assert.deepEqual(copied, { copiedTo: path.join(out, id), from: 'store' });
    assert.deepEqual(fs.readFileSync(path.join(out, id, 'patch.diff')), written['patch.diff']);
    // Without the bucket configured, the command line says where the artifacts might be.
    const noStore = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'artifacts', id], {
      encoding: 'utf8',
      env: { ...cliEnv, OPSGUARD_ARTIFACTS_S3: '', OPSGUARD_S3_ENDPOINT: '' },
    });
    assert.notEqual(noStore.status, 0);
    assert.match(noStore.stderr, /not readable from here .* or OPSGUARD_ARTIFACTS_S3 to the bucket/);

    // The credentials: not in the history, the worker's log or any artifact.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(history.length > 10_000, 'the history was read');
    assert.ok(!history.includes(SECRET), 'not in the history');
    assert.ok(!worker.output().includes(SECRET), 'not in the worker log');
    for (const [name, bytes] of Object.entries(written))
      assert.ok(!bytes.toString('latin1').includes(SECRET), `not in ${name}`);
  } finally {
    for (const w of workers) await w.kill();
    await connection.close();
    await model.close();
    await s3.stop();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
