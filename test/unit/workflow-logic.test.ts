/**
 * The workflow's own logic, with its activities stubbed (typed as OpsGuardActivities) on Temporal's
 * time-skipping test server: attempt limits, the feedback each try passes on, every ending, the
 * approval timeout without waiting 24 hours, hidden variants kept from the fix's author, and
 * decisions refused in the wrong state. The real activities are exercised end to end elsewhere.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { AttemptFeedback, RemediationResult, RunReproductionsArgs } from '../../workflows/incident-types';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate, stateQuery } from '../../workflows/operator-api';
import { MAX_FIX_ATTEMPTS, MAX_REPRODUCTION_ATTEMPTS } from '../../workflows/retry-rules';
import {
  FIX_REPEATS,
  REPRODUCTION_REPEATS,
  VARIANT_REPEATS_AT_GATE1,
  VARIANT_REPEATS_AT_GATE2,
} from '../../workflows/proof-rules';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { passes, reproduces, STUB_LOG, stubActivities } from '../support/stub-activities';
import type { StubScript } from '../support/stub-activities';
import {
  hasTestServer,
  NOT_RUN_WITHOUT_TEST_SERVER,
  stopTimeSkipping,
  withStubbedWorker,
} from '../support/time-skipping';

after(stopTimeSkipping);

const INPUT = { repoPath: '/srv/app', errorLog: STUB_LOG };

/** Run one incident to its end with stubbed activities; `during` acts while it runs. */
async function incident(
  script: StubScript,
  opts: {
    input?: Record<string, unknown>;
    during?: (h: WorkflowHandle<typeof remediateIncident>) => Promise<void>;
  } = {},
) {
  const { activities, calls } = stubActivities(script);
  const result = await withStubbedWorker(activities, async ({ env, taskQueue }) => {
    const handle = await env.client.workflow.start<typeof remediateIncident>('remediateIncident', {
      taskQueue,
      workflowId: `logic-${taskQueue}`,
      args: [{ ...INPUT, ...opts.input }],
    });
    await opts.during?.(handle);
    return await handle.result();
  });
  return { result, calls };
}

const feedbackOf = (calls: unknown[] | undefined) =>
  (calls ?? []).map((c) => (c as { feedback: AttemptFeedback[] }).feedback);

test('an infra log ends in infra_error: no model, no container', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const { result, calls } = await incident(
    {},
    { input: { errorLog: 'requests.exceptions.ConnectionError: Connection refused' } },
  );
  assert.equal(result.status, 'infra_error');
  assert.deepEqual(Object.keys(calls).sort(), ['setupWorkspace', 'writeArtifacts']);
});

test('a log with no traceback and no infra signal ends unclassified', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const { result } = await incident(
    { workspace: { frames: [] } },
    { input: { errorLog: 'the nightly job printed nothing useful' } },
  );
  assert.equal(result.status, 'unclassified');
});

test(`reproduction: ${MAX_REPRODUCTION_ATTEMPTS} attempts, each refusal passed on to the next, then reproduction_failed`, async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const { result, calls } = await incident({ reproductionRuns: [[passes], [passes]] });
  assert.equal(result.status, 'reproduction_failed');
  assert.equal(result.reproductionAttempts.length, MAX_REPRODUCTION_ATTEMPTS);
  const fb = feedbackOf(calls.writeReproduction);
  assert.deepEqual(fb[0], []);
  assert.match(fb[1]?.[0]?.reason ?? '', /^Not reproduced: the script ran to its end/);
  assert.equal(calls.writeFix, undefined, 'no fix is asked for');
  const runs = calls.runReproductions as RunReproductionsArgs[];
  assert.deepEqual(
    runs[0]?.scripts.map((s) => s.repeats),
    [REPRODUCTION_REPEATS],
  );
});

test(`fix: ${MAX_FIX_ATTEMPTS} attempts with feedback and a restored workspace after each, then fix_failed`, async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const { result, calls } = await incident({
    reproductionRuns: [[reproduces], [reproduces], [reproduces], [reproduces]],
  });
  assert.equal(result.status, 'fix_failed');
  assert.equal(result.fixAttempts.length, MAX_FIX_ATTEMPTS);
  assert.equal(calls.restoreWorkspace?.length, MAX_FIX_ATTEMPTS);
  const fb = feedbackOf(calls.writeFix);
  assert.deepEqual(
    fb.map((f) => f.length),
    [0, 1, 2],
    'every refusal so far goes to the next try',
  );
  assert.match(fb[2]?.[1]?.reason ?? '', /^Not fixed: the reproduction still fails/);
  const verificationRuns = (calls.runReproductions as RunReproductionsArgs[]).slice(1);
  assert.ok(verificationRuns.every((r) => r.step === 'fix' && r.scripts[0]?.repeats === FIX_REPEATS));
});

test('a refused patch or answer is an attempt: no container runs and nothing needs restoring', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const { result, calls } = await incident({
    fixes: [
      {
        model: {
          ok: false,
          reason: 'The answer is not JSON',
          usage: { inputTokens: 1, outputTokens: 1 },
          durationMs: 1,
        },
      },
    ],
    applies: [{ ok: false, reason: 'The patch was refused: tests/x.py: test files are refused' }],
  });
  assert.equal(result.status, 'approval_expired', 'the third attempt (applied, passing) is verified');
  assert.equal(result.fixAttempts.length, 3);
  assert.equal(calls.restoreWorkspace, undefined);
  assert.equal((calls.runReproductions ?? []).length, 2, 'gate 1 and the third attempt only');
  assert.match(feedbackOf(calls.writeFix)[2]?.[1]?.reason ?? '', /test files are refused/);
});

test('a verified fix waits; the approval timeout ends it after 24 hours of workflow time, in milliseconds', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const began = Date.now();
  const { result, calls } = await incident({});
  assert.equal(result.status, 'approval_expired');
  assert.equal(result.approval?.via, 'timeout');
  assert.ok(Date.now() - began < 60_000, 'no real 24 hours');
  const decided = Date.parse(result.approval?.at ?? '');
  assert.ok(decided - began >= 24 * 3600 * 1000 - 60_000, `workflow time moved 24 h (${decided - began} ms)`);
  assert.equal((calls.recordDecision?.[0] as { status: string }).status, 'approval_expired');
});

test('approve by update, reject by signal; the decision is in the result and proof.json', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const waitForApproval = async (h: WorkflowHandle<typeof remediateIncident>) => {
    while ((await h.query(stateQuery)).status !== 'awaiting_approval') await new Promise((r) => setTimeout(r, 20));
  };
  const approved = await incident(
    {},
    {
      during: async (h) => {
        await waitForApproval(h);
        const d = await h.executeUpdate(approveUpdate, { args: [{ by: 'alice', comment: 'ok' }] });
        assert.equal(d.by, 'alice');
      },
    },
  );
  assert.equal(approved.result.status, 'approved');
  assert.deepEqual(approved.calls.recordDecision?.[0], {
    incidentId: approved.result.incidentId,
    status: 'approved',
    approval: approved.result.approval,
  });

  const rejected = await incident(
    {},
    {
      during: async (h) => {
        await waitForApproval(h);
        await h.signal(rejectSignal, { by: 'bob', reason: 'not this way' });
      },
    },
  );
  assert.equal(rejected.result.status, 'rejected');
  assert.equal(rejected.result.approval?.reason, 'not this way');
});

test('decisions in the wrong state are refused with the reason; a signal without one is ignored', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const { activities } = stubActivities();
  const slowFix = activities.writeFix.bind(activities);
  activities.writeFix = async (args) => {
    await gate; // hold the incident in fix_attempt_1 while decisions arrive
    return await slowFix(args);
  };
  // Hold it in record_decision too, so the late reject below meets a running workflow (and its
  // validator) rather than racing the workflow's completion.
  let recorded: () => void = () => undefined;
  const recordGate = new Promise<void>((r) => (recorded = r));
  const slowRecord = activities.recordDecision.bind(activities);
  activities.recordDecision = async (args) => {
    await recordGate;
    return await slowRecord(args);
  };
  const refusals = await withStubbedWorker(activities, async ({ env, taskQueue }) => {
    const h = await env.client.workflow.start<typeof remediateIncident>('remediateIncident', {
      taskQueue,
      workflowId: `logic-refusals-${taskQueue}`,
      args: [INPUT],
    });
    while ((await h.query(stateQuery)).step !== 'fix_attempt_1') await new Promise((r) => setTimeout(r, 20));
    const out: string[] = [];
    const refused = async (p: Promise<unknown>) => {
      try {
        await p;
        out.push('accepted');
      } catch (err) {
        assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
        out.push((err.cause as Error).message);
      }
    };
    await refused(h.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }));
    await h.signal(approveSignal, { by: 'mallory' }); // ignored: not verified yet
    release();
    while ((await h.query(stateQuery)).status !== 'awaiting_approval') await new Promise((r) => setTimeout(r, 20));
    await refused(h.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: '' }] }));
    await refused(h.executeUpdate(approveUpdate, { args: [{ by: '' }] }));
    await h.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
    await refused(h.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'too late' }] }));
    recorded();
    const result: RemediationResult = await h.result();
    return { out, result };
  });
  assert.match(refusals.out[0] ?? '', /is not verified yet \(still running, step fix_attempt_1\); nothing to approve/);
  assert.match(refusals.out[1] ?? '', /'reason' is required to reject/);
  assert.match(refusals.out[2] ?? '', /'by' is required/);
  assert.match(refusals.out[3] ?? '', /was already approved by alice/);
  assert.equal(refusals.result.approval?.by, 'alice', "mallory's early signal changed nothing");
});

test('hidden variants: gate 1 keeps those that reproduce, gate 2 runs them, the fix author never gets them', async (t) => {
  if (!hasTestServer()) return t.skip(NOT_RUN_WITHOUT_TEST_SERVER);
  const variants = [
    { name: 'variant-1', role: 'variant' as const, path: '/stub/reproduce-1/variant-1.py', sha256: 'v1' },
    { name: 'variant-2', role: 'variant' as const, path: '/stub/reproduce-1/variant-2.py', sha256: 'v2' },
  ];
  const { result, calls } = await incident({
    reproductions: [
      {
        model: { ok: true, usage: { inputTokens: 1, outputTokens: 1 }, durationMs: 1 },
        scriptPath: '/stub/reproduce-1/reproduction.py',
        scriptSha256: 'p',
        variants,
      },
    ],
    // variant-2 does not reproduce the bug: dropped at gate 1.
    reproductionRuns: [[reproduces, reproduces, passes]],
  });
  assert.equal(result.status, 'approval_expired');
  assert.deepEqual(
    result.reproductionAttempts[0]?.variants?.map((v) => [v.name, v.gate.passed]),
    [
      ['variant-1', true],
      ['variant-2', false],
    ],
  );
  const [gate1, gate2] = calls.runReproductions as RunReproductionsArgs[];
  assert.deepEqual(
    gate1?.scripts.map((s) => [s.name, s.repeats]),
    [
      ['reproduction', REPRODUCTION_REPEATS],
      ['variant-1', VARIANT_REPEATS_AT_GATE1],
      ['variant-2', VARIANT_REPEATS_AT_GATE1],
    ],
  );
  assert.deepEqual(
    gate2?.scripts.map((s) => [s.name, s.repeats]),
    [
      ['reproduction', FIX_REPEATS],
      ['variant-1', VARIANT_REPEATS_AT_GATE2],
    ],
  );
  assert.ok(!JSON.stringify(calls.writeFix).includes('variant'), 'no variant reaches the fix author');
});
