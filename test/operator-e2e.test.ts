/**
 * The operator surface on the real Temporal dev server: approval by update and by signal, the
 * approval timeout, updates refused in the wrong state, the state query, listing by search
 * attribute, de-duplication by fingerprint, and the audit report rebuilt from history.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { buildAudit, renderAudit } from '../client/audit-report';
import { incidentFingerprint, incidentWorkflowId } from '../workflows/fingerprint';
import { approveUpdate, rejectSignal, rejectUpdate, stateQuery } from '../workflows/operator-api';
import type { RemediationState } from '../workflows/incident-types';
import type { remediateIncident } from '../workflows/remediate-incident';
import { EXAMPLES, recordedTurns, remediate, scriptedActivities, patchAwaiting } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import type { ScriptedTurn } from './support/scripted-model-server';
import { withWorker } from './support/temporal';

const [REPRO_OK, FIX_OK, PR_OK] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refused update, got ${String(err)}`);
    return err.cause?.message ?? err.message;
  }
  assert.fail('the update was accepted');
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('approve by update: the decision is answered at once and lands in the result, proof.json and the audit', async () => {
  let seen: { state: RemediationState; listed: string[] } | undefined;
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO_OK, FIX_OK, PR_OK],
    decide: async (handle) => {
      // While waiting: the query, and the list by search attribute, both show it.
      const state = await handle.query(stateQuery);
      const listed = await eventually(async () => {
        const ids: string[] = [];
        for await (const w of handle.client.list({
          query: `OpsGuardStatus = 'awaiting_approval' AND WorkflowId = '${handle.workflowId}'`,
        }))
          ids.push(w.workflowId);
        return ids.length ? ids : undefined;
      }, 'the list by OpsGuardStatus');
      seen = { state, listed };
      const decision = await handle.executeUpdate(approveUpdate, {
        args: [{ by: 'alice', comment: 'reviewed patch.diff', patchSha256: await patchAwaiting(handle) }],
      });
      assert.equal(decision.decision, 'approved');
      assert.equal(decision.by, 'alice');
    },
  });
  const { result } = run;
  assert.equal(result.status, 'approved');
  assert.equal(result.approval?.decision, 'approved');
  assert.equal(result.approval?.by, 'alice');
  assert.equal(result.approval?.comment, 'reviewed patch.diff');
  assert.equal(result.approval?.via, 'update');
  assert.ok(!Number.isNaN(Date.parse(result.approval?.at ?? '')), 'when it was decided');

  // The query while waiting.
  assert.equal(seen?.state.status, 'awaiting_approval');
  assert.equal(seen?.state.step, 'awaiting_approval');
  const steps = seen?.state.transitions.map((t) => t.step) ?? [];
  for (const s of [
    'setup_workspace',
    'classify_error',
    'reproduce_attempt_1',
    'baseline_tests',
    'fix_attempt_1',
    'write_pr_description',
    'awaiting_approval',
  ]) {
    assert.ok((steps as string[]).includes(s), `transition ${s} in ${steps.join(', ')}`);
  }
  assert.ok((seen?.state.result.tokenUsage.inputTokens ?? 0) > 0);
  assert.ok(seen?.state.result.artifacts['patch.diff']);
  assert.deepEqual(seen?.listed, [result.incidentId]);

  const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as {
    status: string;
    approval: { by: string; decision: string };
  };
  assert.equal(proof.status, 'approved');
  assert.equal(proof.approval.by, 'alice');

  // The audit, rebuilt from history alone.
  const entries = buildAudit(run.history.events ?? []);
  const text = renderAudit(result.incidentId, entries);
  const whats = entries.map((e) => e.what);
  for (const w of [
    'started',
    'setupWorkspace',
    'classified',
    'writeReproduction',
    'runReproductions',
    'gate 1 (reproduce 1)',
    'runRepoTests',
    'applyFix',
    'gate 2 (fix 1)',
    'regression gate (fix-1)',
    'update approve accepted',
    'completed',
  ]) {
    assert.ok(whats.includes(w), `audit has '${w}'`);
  }
  assert.match(
    text,
    /gate 1 \(reproduce 1\)\s+PASSED — Reproduced: KeyError: 'user' raised through app\/config_loader\.py:database_url/,
  );
  assert.match(
    text,
    // Each run described by the same helper the workflow's [DOCKER] lines use (workflows/summaries.ts).
    /runReproductions\s+run the reproduction 3x in fresh containers \(must FAIL\): reproduction \[exit code 1, KeyError: 'user' \(\d+ ms\); exit code 1, KeyError: 'user' \(\d+ ms\); exit code 1, KeyError: 'user' \(\d+ ms\)\]/,
  );
  assert.match(text, /gate 2 \(fix 1\)\s+PASSED/);
  assert.match(text, /update approve accepted\s+by alice — reviewed patch\.diff/);
  assert.match(text, /status\s+awaiting_approval/);
  assert.match(text, /completed\s+approved — Patch verified.*approved by alice/);
  assert.ok(entries.filter((e) => e.durationMs !== undefined).every((e) => (e.durationMs ?? -1) >= 0));
});

test('reject by signal: recorded with who and why', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO_OK, FIX_OK, PR_OK],
    decide: async (handle) =>
      handle.signal(rejectSignal, {
        by: 'bob',
        reason: 'the DB role must come from the secret store',
        patchSha256: await patchAwaiting(handle),
      }),
  });
  assert.equal(run.result.status, 'rejected');
  assert.equal(run.result.approval?.via, 'signal');
  assert.equal(run.result.approval?.reason, 'the DB role must come from the secret store');
  const audit = renderAudit(run.result.incidentId, buildAudit(run.history.events ?? []));
  assert.match(audit, /signal reject\s+by bob — the DB role must come from the secret store/);
});

test('approval timeout: nobody decides, the incident ends in approval_expired', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO_OK, FIX_OK, PR_OK],
    input: { approvalTimeout: '2s' },
    decide: async () => undefined,
  });
  assert.equal(run.result.status, 'approval_expired');
  assert.equal(run.result.approval?.decision, 'expired');
  assert.equal(run.result.approval?.by, null);
  assert.equal(run.result.approval?.via, 'timeout');
});

test('updates in the wrong state are refused with the reason: not verified yet, then already rejected', async () => {
  let early = '';
  let late = '';
  const run = await remediate({
    example: 'config-loader',
    // The model takes 3 s to write the reproduction: meanwhile the incident is provably unverified.
    turns: [{ ...REPRO_OK, delayMs: 3000 }, FIX_OK, PR_OK],
    wrapActivities: (a) => ({
      ...a,
      // Keep the workflow open a moment after the decision, so the second update meets a decided incident.
      recordDecision: async (args) => {
        await new Promise((r) => setTimeout(r, 1500));
        return await a.recordDecision(args);
      },
    }),
    decide: async (handle) => {
      await handle.executeUpdate(rejectUpdate, {
        args: [{ by: 'carol', reason: 'not this way', patchSha256: await patchAwaiting(handle) }],
      });
      late = await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] }));
    },
    onStarted: async (handle) => {
      await eventually(
        async () =>
          (await handle.query(stateQuery).catch(() => null))?.step === 'reproduce_attempt_1' ? true : undefined,
        'reproduce_attempt_1',
      );
      early = await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] }));
    },
  });
  assert.match(early, /is not verified yet \(still running, step reproduce_attempt_1\); nothing to (?:approve|decide)/);
  assert.match(late, /was already rejected by carol/);
  assert.equal(run.result.status, 'rejected');
  assert.equal(run.result.approval?.by, 'carol');
});

test('the same incident twice is remediated once: the second start attaches to the running workflow', async () => {
  const repoPath = path.join(EXAMPLES, 'config-loader', 'repo');
  const errorLog = fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8');
  // The fingerprint ignores where the service was deployed, but not the repository or the error.
  assert.equal(
    incidentFingerprint(repoPath, errorLog),
    incidentFingerprint(repoPath, errorLog.replaceAll('/srv/orders-service', '/opt/orders')),
  );
  assert.notEqual(incidentFingerprint(repoPath, errorLog), incidentFingerprint('/other/repo', errorLog));
  assert.notEqual(
    incidentFingerprint(repoPath, errorLog),
    incidentFingerprint(repoPath, errorLog.replace("KeyError: 'user'", "ValueError: 'user'")),
  );

  const model = await startScriptedModel([{ ...REPRO_OK, delayMs: 2000 }]);
  try {
    const activities = scriptedActivities(model.baseURL, fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-dedup-')));
    await withWorker(activities, async ({ env, taskQueue }) => {
      const workflowId = `${incidentWorkflowId(repoPath, errorLog)}-${taskQueue.slice(-8)}`;
      const start = () =>
        env.client.workflow.start<typeof remediateIncident>('remediateIncident', {
          taskQueue,
          workflowId,
          args: [{ repoPath, errorLog }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
      const first = await start();
      const second = await start();
      assert.equal(second.firstExecutionRunId, first.firstExecutionRunId, 'the second start attached to the first run');
      let runs = 0;
      for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
      assert.equal(runs, 1);
      await first.terminate('test done');
    });
  } finally {
    await model.close();
  }
});
