/**
 * The command line reads incidents over Temporal's HTTP API when it can and over gRPC otherwise
 * (client/incident-reader.ts). Both must show exactly the same thing: this test builds incidents in
 * every state on the real test server (waiting for approval with a worker answering, running with no
 * worker, approved, failed, terminated, unknown) and compares the two readers' views field by field,
 * then checks the fallback (nothing listening, something that is not Temporal) and that `opsguard
 * status` really goes over HTTP by default.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { grpcReader } from '../client/grpc-reader';
import { httpApiReader } from '../client/http-api-reader';
import { openIncidentReader } from '../client/incident-reader';
import { readIncident } from '../client/incident-state';
import { UserError } from '../client/user-error';
import { HTTP_API_PORT_OFFSET, PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { approveUpdate, stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { EXAMPLES, recordedTurns, scriptedActivities } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { TEST_TEMPORAL_ADDRESS, withWorker } from './support/temporal';

const [host, grpcPort] = TEST_TEMPORAL_ADDRESS.split(':') as [string, string];
const HTTP_API = `http://${host}:${Number(grpcPort) + HTTP_API_PORT_OFFSET}`;
const RUN = `readers-${process.pid}-${Date.now()}`;
const incident = () => ({
  repoPath: path.join(EXAMPLES, 'config-loader', 'repo'),
  errorLog: fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8'),
  // The example lives inside this checkout's git repository: never deliver a branch into it.
  profile: { delivery: { enabled: false } },
});

/** A local HTTP server answering every request with `answer`, counting them. */
async function fakeServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests: () => requests, close: () => new Promise((r) => server.close(r)) };
}

test('HTTP and gRPC readers: the same view of incidents in every state, and the fallback', async () => {
  const model = await startScriptedModel([...recordedTurns('config-loader'), ...recordedTurns('config-loader')]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-readers-'));
  try {
    await withWorker(scriptedActivities(model.baseURL, tmp), async ({ env, taskQueue }) => {
      const client = env.client;
      const start = (id: string, queue = taskQueue, input: object = incident()) =>
        client.workflow.start<typeof remediateIncident>('remediateIncident', {
          taskQueue: queue,
          workflowId: `${RUN}-${id}`,
          args: [input],
        });
      const settle = async (h: Awaited<ReturnType<typeof start>>, status: string) => {
        for (let i = 0; (await h.query(stateQuery)).status !== status; i++) {
          assert.ok(i < 600, `${h.workflowId} never reached ${status}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      // One after the other: the scripted model answers in order.
      const waiting = await start('waiting');
      await settle(waiting, 'awaiting_approval');
      const approved = await start('approved');
      await settle(approved, 'awaiting_approval');
      await approved.executeUpdate(approveUpdate, {
        args: [
          { by: 'reader-test', comment: 'ok', patchSha256: (await approved.query(stateQuery)).result.patchSha256 },
        ],
      });
      await approved.result();
      const failed = await start('failed', taskQueue, { repoPath: '', errorLog: '' });
      await assert.rejects(failed.result());
      const unpolled = `${taskQueue}-nobody-polls`;
      const orphan = await start('no-worker', unpolled);
      const terminated = await start('terminated', unpolled);
      await terminated.terminate('stopped by the reader test');

      const viaHttp = httpApiReader(HTTP_API, 'default');
      const viaGrpc = grpcReader(client);
      const expected: Record<string, { status: string; source: string; workflowStatus: string }> = {
        [waiting.workflowId]: { status: 'awaiting_approval', source: 'query', workflowStatus: 'RUNNING' },
        [approved.workflowId]: { status: 'approved', source: 'result', workflowStatus: 'COMPLETED' },
        [failed.workflowId]: { status: 'failed', source: 'result', workflowStatus: 'FAILED' },
        [orphan.workflowId]: { status: 'running', source: 'search-attributes', workflowStatus: 'RUNNING' },
        [terminated.workflowId]: { status: 'failed', source: 'result', workflowStatus: 'TERMINATED' },
      };
      for (const [id, want] of Object.entries(expected)) {
        const [h, g] = await Promise.all([readIncident(viaHttp, id, 1000), readIncident(viaGrpc, id, 1000)]);
        assert.deepEqual(h, g, `${id}: the two readers disagree`);
        assert.deepEqual(
          { status: h.status, source: h.source, workflowStatus: h.workflowStatus },
          want,
          `${id}: ${JSON.stringify(h).slice(0, 300)}`,
        );
      }
      // The fields that come from payloads, decoded the same way: the result, the state, the failure.
      const done = await readIncident(viaHttp, approved.workflowId);
      assert.equal(done.result?.approval?.by, 'reader-test');
      assert.ok(done.result?.artifacts['patch.diff'], 'artifact paths are in the decoded result');
      const live = await readIncident(viaHttp, waiting.workflowId);
      assert.ok(live.transitions.some((t) => t.step === 'awaiting_approval'));
      assert.match((await readIncident(viaHttp, failed.workflowId)).failure ?? '', /repoPath/);
      assert.equal(
        (await readIncident(viaHttp, terminated.workflowId)).failure,
        'terminated: stopped by the reader test',
      );

      // Listing: the same executions, the same decoded search attributes.
      const query = `WorkflowId STARTS_WITH '${RUN}'`;
      for (let i = 0; (await viaGrpc.list(query, 50)).length < 5; i++) {
        assert.ok(i < 100, 'visibility never listed the five incidents');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await viaHttp.list(query, 50), await viaGrpc.list(query, 50));
      assert.equal((await viaHttp.list(query, 2)).length, 2, 'the limit is honoured');

      // Unknown: no such workflow, the same way from both.
      assert.equal(await viaHttp.describe(`${RUN}-nope`), null);
      assert.equal(await viaGrpc.describe(`${RUN}-nope`), null);
      await assert.rejects(
        readIncident(viaHttp, `${RUN}-nope`),
        (err: unknown) => err instanceof UserError && err.exitCode === 4,
      );

      // Fallback: nothing listening, or something that is not Temporal, and gRPC answers instead.
      const base = { TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS };
      const refused = await openIncidentReader(
        settingsFromEnv({ ...base, OPSGUARD_TEMPORAL_HTTP_URL: 'http://127.0.0.1:1' }),
      );
      assert.deepEqual(await readIncident(refused, waiting.workflowId), live);
      await refused.close();
      const notTemporal = await fakeServer((_req, res) =>
        res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'),
      );
      const proxied = await openIncidentReader(
        settingsFromEnv({ ...base, OPSGUARD_TEMPORAL_HTTP_URL: notTemporal.url }),
      );
      assert.deepEqual(await readIncident(proxied, approved.workflowId), done);
      assert.ok(notTemporal.requests() > 0, 'the HTTP API was tried first');
      await proxied.close();
      await notTemporal.close();

      // The command line goes over HTTP by default: a counting proxy in front of the real HTTP API.
      const proxy = await fakeServer((req, res) => {
        const upstream = http.request(`${HTTP_API}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        req.pipe(upstream);
      });
      const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'status', waiting.workflowId, '--json'],
          { env: { ...process.env, ...base, OPSGUARD_TEMPORAL_HTTP_URL: proxy.url }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
      );
      await proxy.close();
      assert.equal(cli.code, 0, cli.stderr);
      assert.deepEqual(JSON.parse(cli.stdout), live);
      assert.equal(proxy.requests(), 2, 'describe and the query, both over HTTP');
    });
  } finally {
    await model.close();
  }
});
