/**
 * Orchestration overhead and history size (issue 14, items 3 and 5), figures not assertions:
 *   npx tsx bench/history-and-overhead.ts [runs]
 * Prints a table and writes bench/results/history-and-overhead.json.
 *
 * - Overhead: the demo incident (examples/config-loader, the scripted model answering at once) from
 *   start to awaiting_approval, split from its own history into the spans of the container steps
 *   (reproduction and test runs, environment preparation), of the model steps (the three writes), and
 *   the rest (workflow tasks, copying, patching, artifacts, queueing). Target: the rest <= 1 s.
 * - History: events and bytes (protobuf, as the server stores them) of the demo incident through
 *   approval, and of an incident whose three fixes all fail. Target for the demo: <= 100 events,
 *   <= 64 KiB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import proto from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../worker/settings';
import { approveUpdate, stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { recordedTurns, scriptedActivities } from '../test/support/remediation-harness';
import { startScriptedModel } from '../test/support/scripted-model-server';
import type { ScriptedTurn } from '../test/support/scripted-model-server';
import { startTestServer, withWorker } from '../test/support/temporal';
import { summary } from './stats';

const { temporal } = proto;
const runs = Number(process.argv[2] ?? 5);
const EXAMPLE = path.join(PROJECT_ROOT, 'examples/config-loader');
const CONTAINER_STEPS = new Set(['runReproductions', 'runReproduction', 'runRepoTests', 'prepareEnvironment']);
const MODEL_STEPS = new Set(['writeReproduction', 'writeFix', 'writePrDescription']);

type History = proto.temporal.api.history.v1.IHistory;
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Wall time of each activity (scheduled to closed), by kind, and the whole span of the history. */
function spans(history: History) {
  const events = history.events ?? [];
  const scheduled = new Map<number, { type: string; at: number }>();
  const byType: Record<string, number> = {};
  const kind = { containers: 0, model: 0 };
  for (const e of events) {
    const id = Number(e.eventId);
    const a = e.activityTaskScheduledEventAttributes;
    if (a) scheduled.set(id, { type: a.activityType?.name ?? '?', at: ms(e.eventTime) });
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (!closed) continue;
    const s = scheduled.get(Number(closed.scheduledEventId));
    if (!s) continue;
    const span = ms(e.eventTime) - s.at;
    byType[s.type] = (byType[s.type] ?? 0) + span;
    if (CONTAINER_STEPS.has(s.type)) kind.containers += span;
    else if (MODEL_STEPS.has(s.type)) kind.model += span;
  }
  const total = ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime);
  return { total, ...kind, rest: total - kind.containers - kind.model, byType };
}

const size = (history: History) => ({
  events: history.events?.length ?? 0,
  bytes: temporal.api.history.v1.History.encode(history).finish().length,
});

async function incident(
  turns: ScriptedTurn[],
  id: string,
  decide: boolean,
): Promise<{ atWaiting: History | null; final: History; status: string; wallMs: number }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-bench-history-'));
  const model = await startScriptedModel(turns);
  try {
    return await withWorker(scriptedActivities(model.baseURL, tmp), async ({ env, taskQueue }) => {
      const started = performance.now();
      const handle: WorkflowHandle<typeof remediateIncident> = await env.client.workflow.start<
        typeof remediateIncident
      >('remediateIncident', {
        taskQueue,
        workflowId: id,
        args: [
          {
            repoPath: path.join(EXAMPLE, 'repo'),
            errorLog: fs.readFileSync(path.join(EXAMPLE, 'incident.log'), 'utf8'),
            profile: { delivery: { enabled: false } }, // the example is inside this checkout's git repository
          },
        ],
      });
      let atWaiting: History | null = null;
      let wallMs = 0;
      for (;;) {
        const state = await handle.query(stateQuery).catch(() => null);
        if (state?.status === 'awaiting_approval') {
          wallMs = performance.now() - started;
          atWaiting = await handle.fetchHistory();
          if (decide)
            await handle.executeUpdate(approveUpdate, {
              args: [{ by: 'bench', patchSha256: state.result.patchSha256 }],
            });
          break;
        }
        if ((await handle.describe()).status.name !== 'RUNNING') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const result = await handle.result();
      if (!wallMs) wallMs = performance.now() - started;
      return { atWaiting, final: await handle.fetchHistory(), status: result.status, wallMs };
    });
  } finally {
    await model.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const server = await startTestServer();
const demo = recordedTurns('config-loader');
const overhead: ReturnType<typeof spans>[] = [];
const wall: number[] = [];
let demoSize: { events: number; bytes: number } | null = null;
for (let i = 0; i < runs; i++) {
  const run = await incident(demo, `bench-history-${process.pid}-${i}`, true);
  if (run.status !== 'approved' || !run.atWaiting) throw new Error(`the demo incident ended ${run.status}`);
  overhead.push(spans(run.atWaiting));
  wall.push(run.wallMs);
  demoSize ??= size(run.final);
}

// Three fixes that change nothing that matters: gate 2 refuses each, the incident ends fix_failed.
const source = fs.readFileSync(path.join(EXAMPLE, 'repo/app/config_loader.py'), 'utf8');
const noOp = (n: number): ScriptedTurn => ({
  task: 'write_fix',
  answer: JSON.stringify({
    summary: `attempt ${n}`,
    files: [{ path: 'app/config_loader.py', content: `${source}# ${n}\n` }],
  }),
});
const failing = await incident([demo[0]!, noOp(1), noOp(2), noOp(3)], `bench-history-failed-${process.pid}`, false);
if (failing.status !== 'fix_failed') throw new Error(`the three-failed-fixes incident ended ${failing.status}`);
const failedSize = size(failing.final);
await server.stop();

const pick = (k: 'total' | 'containers' | 'model' | 'rest') => summary(overhead.map((o) => Math.round(o[k])));
const byType: Record<string, number> = {};
for (const o of overhead) for (const [t, v] of Object.entries(o.byType)) byType[t] = (byType[t] ?? 0) + v / runs;
const report = {
  at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  runs,
  overheadMs: {
    wallToAwaitingApproval: summary(wall.map(Math.round)),
    historySpan: pick('total'),
    containers: pick('containers'),
    model: pick('model'),
    rest: pick('rest'),
    meanByActivity: Object.fromEntries(Object.entries(byType).map(([t, v]) => [t, Math.round(v)])),
  },
  history: { demoThroughApproval: demoSize, threeFailedFixes: failedSize },
};
const out = path.join(PROJECT_ROOT, 'bench', 'results', 'history-and-overhead.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

const o = report.overheadMs;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
console.log(`figure | p50 | p95 | target
demo start -> awaiting_approval (wall) | ${o.wallToAwaitingApproval.p50} ms | ${o.wallToAwaitingApproval.p95} ms | -
  in container steps | ${o.containers.p50} ms | ${o.containers.p95} ms | -
  in model steps (instant scripted model) | ${o.model.p50} ms | ${o.model.p95} ms | -
  the rest | ${o.rest.p50} ms | ${o.rest.p95} ms | <= 1000 ms
history, demo through approval | ${demoSize?.events} events, ${kib(demoSize?.bytes ?? 0)} | | <= 100 events, <= 64 KiB
history, three failed fixes | ${failedSize.events} events, ${kib(failedSize.bytes)} | | -
mean per activity type (ms): ${Object.entries(o.meanByActivity)
  .sort((a, b) => b[1] - a[1])
  .map(([t, v]) => `${t} ${v}`)
  .join(', ')}
(${runs} runs; ${report.machine.cpus} cores)
written: ${path.relative(PROJECT_ROOT, out)}`);
