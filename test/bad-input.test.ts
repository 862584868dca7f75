/**
 * Bad input, each with a clear status or error, nothing lost, the original repository untouched (real
 * Temporal, worker and Docker; the command line where a person would meet it): a repository path that
 * does not exist or is a file; an empty log; a log with no traceback; another language's stack trace;
 * a repository with binary files, a 200 MB file and a symlink loop; a repository over the size limit;
 * a repository of 100,000 files; a 10 MB log and bytes that are not UTF-8 through `opsguard
 * remediate`; the same incident started twice at once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PROJECT_ROOT } from '../worker/settings';
import { EXAMPLES, recordedTurns, remediate, testRepositories } from './support/remediation-harness';
import { TEST_TEMPORAL_ADDRESS, withWorker } from './support/temporal';

const INCIDENT = fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8');

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause?.cause ?? err.cause;
    assert.ok(cause instanceof ApplicationFailure, (cause as Error | undefined)?.message);
    return cause;
  }
  assert.fail('the workflow should have failed');
}

test('a repository path that does not exist, or is a file: RepoNotFound naming the path, not retried', async () => {
  for (const repoPath of [
    '/tmp/opsguard-no-such-repo',
    fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-f-')) + '/file',
  ]) {
    if (repoPath.endsWith('/file')) fs.writeFileSync(repoPath, 'not a folder');
    const f = await failure(remediate({ example: 'config-loader', turns: [], input: { repoPath } }));
    assert.equal(f.type, 'RepoNotFound');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, new RegExp(`repoPath ${repoPath} is not a directory the worker can read`));
  }
});

test('an empty log is refused as input; a log without a traceback, or another language, ends unclassified without asking the model', async () => {
  const empty = await failure(remediate({ example: 'config-loader', turns: [], errorLog: '' }));
  assert.equal(empty.type, 'InvalidIncidentInput');
  assert.match(empty.message, /errorLog is empty/);

  for (const errorLog of [
    'orders-service: nightly export finished with warnings\nexport: 3 rows skipped\n',
    'Exception in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()"\n\tat com.acme.orders.Export.run(Export.java:42)\n\tat com.acme.orders.Main.main(Main.java:7)\n',
  ]) {
    const run = await remediate({ example: 'config-loader', turns: [], errorLog });
    assert.equal(run.result.status, 'unclassified', run.result.reason);
    assert.equal(run.model.requests.length, 0, 'the model was not asked');
    assert.ok(run.result.artifacts['failure_report.md'] ?? run.result.artifacts['proof.json']);
    assert.ok(run.originalUnchanged);
  }
});

test('a repository with binary files, a 200 MB file and a symlink loop is remediated; the big file never reaches a prompt', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: recordedTurns('config-loader'),
    prepare: (original) => {
      fs.writeFileSync(path.join(original, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3]));
      const big = path.join(original, 'data', 'export.csv');
      fs.mkdirSync(path.dirname(big));
      fs.writeFileSync(big, 'id,total\n');
      fs.truncateSync(big, 200 * 1024 * 1024);
      fs.symlinkSync('loop-b', path.join(original, 'loop-a'));
      fs.symlinkSync('loop-a', path.join(original, 'loop-b'));
      fs.symlinkSync('.', path.join(original, 'app', 'self'));
    },
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  assert.ok(run.originalUnchanged, 'the original repository is untouched');
  for (const r of run.model.requests) assert.ok(r.prompt.length < 200_000, 'no prompt carries the big file');
});

test('a repository over the size limit (OPSGUARD_REPO_MAX_MB) is refused before anything is copied', async () => {
  let original = '';
  const f = await failure(
    remediate({
      example: 'config-loader',
      turns: [],
      repositories: { ...testRepositories(), maxBytes: 1024 * 1024 },
      prepare: (dir) => {
        original = dir;
        fs.writeFileSync(path.join(dir, 'dump.sql'), Buffer.alloc(2 * 1024 * 1024, 'x'));
      },
    }),
  );
  assert.equal(f.type, 'RepoNotAllowed');
  assert.equal(f.nonRetryable, true);
  assert.match(f.message, /holds more than 1 MiB \(OPSGUARD_REPO_MAX_MB\); remediate a smaller checkout/);
  const work = path.join(path.dirname(original), 'work');
  assert.deepEqual(fs.existsSync(work) ? fs.readdirSync(work) : [], [], 'nothing was copied');
  assert.equal(fs.statSync(path.join(original, 'dump.sql')).size, 2 * 1024 * 1024, 'the original is untouched');
});

test('a repository of 100,000 files is copied, prepared and remediated; the prompt names none of the bulk', async () => {
  let original = '';
  const started = Date.now();
  const run = await remediate({
    example: 'config-loader',
    turns: recordedTurns('config-loader'),
    prepare: (dir) => {
      original = dir;
      // 100 folders of 1,000 small records each: the shape of a fixtures or a vendored-data tree.
      for (let d = 0; d < 100; d++) {
        const folder = path.join(dir, 'fixtures', 'catalog', String(d).padStart(3, '0'));
        fs.mkdirSync(folder, { recursive: true });
        for (let i = 0; i < 1000; i++)
          fs.writeFileSync(path.join(folder, `item-${i}.json`), `{"sku": "SKU-${d}-${i}", "price": ${i}}\n`);
      }
    },
  });
  const seconds = (Date.now() - started) / 1000;
  try {
    assert.equal(run.result.status, 'approved', run.result.reason);
    assert.ok(run.originalUnchanged, 'the original repository is untouched');
    for (const r of run.model.requests) assert.doesNotMatch(r.prompt, /SKU-\d+-\d+/, 'no record reaches a prompt');
    assert.ok(run.containers.created > 0);
    assert.equal(run.containers.destroyed, run.containers.created, 'every container of this incident is removed');
    const events = run.history.events ?? [];
    const at = (e: (typeof events)[number] | undefined) => Number(e?.eventTime?.seconds ?? 0);
    console.log(
      `[100k files] the incident took ${at(events.at(-1)) - at(events[0])} s from start to end (${seconds.toFixed(1)} s with writing and hashing the repository)`,
    );
  } finally {
    fs.rmSync(path.dirname(original), { recursive: true, force: true });
  }
});

/** `opsguard remediate` through its bin entry. */
function opsguard(args: string[], env: Record<string, string>, stdin?: string | Buffer) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), ...args],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, ...env },
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function startedInput(client: Client, id: string): Promise<{ bytes: number; errorLog: string }> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const text = Buffer.from(payload ?? new Uint8Array()).toString('utf8');
  return { bytes: text.length, errorLog: (JSON.parse(text) as { errorLog: string }).errorLog };
}

test('through opsguard remediate: a 10 MB log is bounded to its end, bytes that are not UTF-8 are read, the same incident twice at once starts once', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bad-input-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(EXAMPLES, 'config-loader', 'repo'), repo, { recursive: true });
  // No worker polls this queue: the incidents only need to start.
  await withWorker({}, async ({ env: testEnv }) => {
    const env = { OPSGUARD_TASK_QUEUE: `bad-input-idle-${process.pid}` };
    const noise = 'INFO orders-service: heartbeat ok '.repeat(3).concat('\n').repeat(100_000);
    const huge = await opsguard(['remediate', '--repo', repo, '--log', '-', '--json'], env, noise + INCIDENT);
    assert.equal(huge.code, 0, huge.stderr);
    assert.match(
      huge.stderr,
      /The log is \d+\.\d MB; its last \d+ KiB \(the end, where the traceback is\) go to the incident/,
    );
    const id = (JSON.parse(huge.stdout) as { incidentId: string }).incidentId;
    const input = await startedInput(testEnv.client, id);
    assert.ok(input.bytes < 300 * 1024, `history holds ${input.bytes} bytes of input`);
    assert.ok(input.errorLog.endsWith(INCIDENT), 'the traceback is kept whole');
    assert.match(input.errorLog, /^\[opsguard: the first \d+ bytes or so of this \d+\.\d MB log were left out\]/);

    const other = path.join(tmp, 'other');
    fs.cpSync(repo, other, { recursive: true });
    const latin1 = Buffer.concat([
      Buffer.from('Caf\xe9 export failed for M\xfcller\n', 'latin1'),
      Buffer.from(INCIDENT),
    ]);
    const bytes = await opsguard(['remediate', '--repo', other, '--log', '-', '--json'], env, latin1);
    assert.equal(bytes.code, 0, bytes.stderr);
    const read = await startedInput(testEnv.client, (JSON.parse(bytes.stdout) as { incidentId: string }).incidentId);
    assert.match(read.errorLog, /^Caf\uFFFD export failed for M\uFFFDller\n/);

    const twice = path.join(tmp, 'twice');
    fs.cpSync(repo, twice, { recursive: true });
    const [a, b] = await Promise.all([
      opsguard(['remediate', '--repo', twice, '--log', '-', '--json'], env, INCIDENT),
      opsguard(['remediate', '--repo', twice, '--log', '-', '--json'], env, INCIDENT),
    ]);
    const answers = [a, b].map((r) => JSON.parse(r.stdout) as { incidentId: string; started: boolean });
    assert.equal(answers[0]?.incidentId, answers[1]?.incidentId, 'one incident');
    assert.deepEqual(answers.map((x) => x.started).sort(), [false, true], 'started once, attached once');
    const started = [
      ...answers.filter((y) => y.started).map((y) => y.incidentId),
      id,
      (JSON.parse(bytes.stdout) as { incidentId: string }).incidentId,
    ];
    for (const x of started)
      await testEnv.client.workflow
        .getHandle(x)
        .terminate('test cleanup')
        .catch(() => undefined);
  });
});
