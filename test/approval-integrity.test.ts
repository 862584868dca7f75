/**
 * Approval integrity on the real Temporal server, worker and Docker: every decision names the exact
 * patch (sha256 of patch.diff) and only people the approval policy allows can decide. Stale and
 * missing hashes are refused; an approver outside the list is refused while the incident keeps
 * waiting; self-approval is refused when the rule is on; a two-person rule needs two distinct people;
 * signed decisions are verified against the approvers' public keys and a forged one is refused; the
 * audit shows who approved which patch, how they were identified, and every refused attempt.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { signDecision } from '../activities/decision-signatures';
import { buildAudit, renderAudit } from '../client/audit-report';
import type { ApprovalDecision, ApprovalPolicy } from '../workflows/incident-types';
import { approveSignal, approveUpdate, rejectUpdate, stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { patchAwaiting, recordedTurns, remediate } from './support/remediation-harness';
import type { RemediationRun } from './support/remediation-harness';

type Handle = WorkflowHandle<typeof remediateIncident>;
const OPEN: ApprovalPolicy = { approvers: null, noSelfApproval: false, required: 1, signaturesRequired: false };

/** The refusal an update returns, or 'accepted'. */
async function outcome(p: Promise<ApprovalDecision>): Promise<string> {
  try {
    const d = await p;
    return d.pending ? `pending ${d.pending.approvals}/${d.pending.required}` : `accepted ${d.decision}`;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    return (err.cause as Error).message;
  }
}

async function stillWaiting(h: Handle): Promise<string> {
  return (await h.query(stateQuery)).status;
}

function run(opts: {
  policy?: Partial<ApprovalPolicy>;
  keysDir?: string;
  input?: Record<string, unknown>;
  decide: (h: Handle) => Promise<void>;
}): Promise<RemediationRun> {
  return remediate({
    example: 'config-loader',
    turns: recordedTurns('config-loader'),
    input: opts.input,
    approval: { policy: { ...OPEN, ...opts.policy }, groups: { ops: ['alice', 'bob'] }, keysDir: opts.keysDir ?? null },
    decide: opts.decide,
  });
}

function patchFileHash(r: RemediationRun): string {
  return createHash('sha256')
    .update(fs.readFileSync(r.result.artifacts['patch.diff'] ?? ''))
    .digest('hex');
}

test('a decision names the exact patch: stale and missing hashes are refused, the right one accepted', async () => {
  const seen: string[] = [];
  const r = await run({
    decide: async (h) => {
      const hash = (await patchAwaiting(h)) ?? '';
      assert.match(hash, /^[0-9a-f]{64}$/, 'the state shows the hash awaiting a decision');
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] })));
      seen.push(
        await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256: '0'.repeat(64) }] })),
      );
      await h.signal(approveSignal, { by: 'mallory' }); // a signal without the hash: refused, recorded
      for (let i = 0; i < 50 && !(await h.query(stateQuery)).result.refusedDecisions?.length; i++)
        await new Promise((res) => setTimeout(res, 100));
      seen.push(await stillWaiting(h));
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256: hash }] })));
    },
  });
  assert.match(seen[0] ?? '', /'patchSha256' is required: the sha256 of the patch\.diff you reviewed/);
  assert.match(seen[1] ?? '', /patchSha256 000000000000… is not the patch awaiting a decision/);
  assert.equal(seen[2], 'awaiting_approval', 'refusals leave the incident waiting');
  assert.equal(seen[3], 'accepted approved');
  const { result } = r;
  assert.equal(result.status, 'approved');
  assert.equal(result.patchSha256, patchFileHash(r), 'the hash is the patch.diff artifact, byte for byte');
  assert.equal(result.approval?.patchSha256, result.patchSha256);
  assert.equal(result.approval?.identifiedBy, 'name given (alice)');
  assert.deepEqual(
    result.refusedDecisions?.map((f) => [f.by, f.via, f.reason.split(':')[0]]),
    [
      ['alice', 'update', "'patchSha256' is required"],
      [
        'alice',
        'update',
        'patchSha256 000000000000… is not the patch awaiting a decision (' +
          (result.patchSha256 ?? '').slice(0, 12) +
          '…)',
      ],
      ['mallory', 'signal', "'patchSha256' is required"],
    ].map(([by, via, reason]) => [by, via, reason?.split(':')[0]]),
  );
  const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as {
    approval: ApprovalDecision;
  };
  assert.equal(proof.approval.patchSha256, result.patchSha256, 'proof.json records the hash approved');
});

test("only the policy's approvers decide (the repository profile's list); others are refused and it keeps waiting", async () => {
  const seen: string[] = [];
  const r = await run({
    input: { profile: { approval: { approvers: ['alice'] } } },
    decide: async (h) => {
      const patchSha256 = await patchAwaiting(h);
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'mallory', patchSha256 }] })));
      seen.push(await outcome(h.executeUpdate(rejectUpdate, { args: [{ by: 'mallory', reason: 'no', patchSha256 }] })));
      seen.push(await stillWaiting(h));
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256 }] })));
    },
  });
  assert.match(seen[0] ?? '', /mallory is not among the approvers for this incident \(alice\)/);
  assert.match(seen[1] ?? '', /mallory is not among the approvers/, 'rejections follow the same rules');
  assert.equal(seen[2], 'awaiting_approval');
  assert.equal(seen[3], 'accepted approved');
  assert.equal(r.result.approval?.by, 'alice');
});

test('self-approval is refused when the rule is on', async () => {
  const seen: string[] = [];
  const r = await run({
    policy: { noSelfApproval: true },
    input: { startedBy: 'sam' },
    decide: async (h) => {
      const patchSha256 = await patchAwaiting(h);
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'sam', patchSha256 }] })));
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'tina', patchSha256 }] })));
    },
  });
  assert.match(seen[0] ?? '', /sam started this incident and may not approve it/);
  assert.equal(seen[1], 'accepted approved');
  assert.equal(r.result.approval?.by, 'tina');
});

test('a two-person rule: one approval is not enough, the same person twice is not two', async () => {
  const seen: string[] = [];
  const r = await run({
    policy: { required: 2, approvers: ['alice', 'bob'] },
    decide: async (h) => {
      const patchSha256 = await patchAwaiting(h);
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256 }] })));
      seen.push(await stillWaiting(h));
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256 }] })));
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'bob', patchSha256 }] })));
    },
  });
  assert.equal(seen[0], 'pending 1/2');
  assert.equal(seen[1], 'awaiting_approval', 'one approval is not enough');
  assert.match(seen[2] ?? '', /alice has already approved; 1 more approval\(s\) from someone else are needed/);
  assert.equal(seen[3], 'accepted approved');
  assert.deepEqual(
    r.result.approval?.approvals?.map((v) => v.by),
    ['alice', 'bob'],
  );
  // The audit shows who approved which patch, how they were identified, and the refused attempt.
  const audit = renderAudit(r.result.incidentId, buildAudit(r.history.events ?? []));
  assert.match(audit, /approval counted\s+by alice via update, identified by name given \(alice\)/);
  assert.match(audit, /approval counted\s+by bob via update/);
  assert.match(audit, /approve refused\s+by alice via update: alice has already approved/);
  assert.match(audit, new RegExp(`approved by bob at .* on patch sha256 ${r.result.patchSha256}`));
});

test('signed decisions: verified against the approver key, unsigned and forged ones refused', async () => {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-approver-keys-'));
  const alice = generateKeyPairSync('ed25519');
  const mallory = generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(keysDir, 'alice.pem'), alice.publicKey.export({ type: 'spki', format: 'pem' }));
  const alicePrivate = alice.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const malloryPrivate = mallory.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const seen: string[] = [];
  const r = await run({
    policy: { signaturesRequired: true },
    keysDir,
    decide: async (h) => {
      const patchSha256 = (await patchAwaiting(h)) ?? '';
      const incidentId = (await h.query(stateQuery)).result.incidentId;
      const fields = {
        incidentId,
        decision: 'approve' as const,
        by: 'alice',
        patchSha256,
        signedAt: new Date().toISOString(),
      };
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256 }] })));
      const forged = signDecision(malloryPrivate, fields); // mallory's key, claiming to be alice
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256, ...forged }] })));
      const otherPatch = signDecision(alicePrivate, { ...fields, patchSha256: 'a'.repeat(64) });
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256, ...otherPatch }] })));
      seen.push(await stillWaiting(h));
      const good = signDecision(alicePrivate, fields);
      seen.push(await outcome(h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256, ...good }] })));
    },
  });
  assert.match(seen[0] ?? '', /decisions on this incident must be signed/);
  assert.match(
    seen[1] ?? '',
    /the signature does not verify: the signature was not made by alice's key over this decision and patch/,
  );
  assert.match(seen[2] ?? '', /the signature does not verify/, 'a signature over another patch does not count');
  assert.equal(seen[3], 'awaiting_approval');
  assert.equal(seen[4], 'accepted approved');
  assert.match(r.result.approval?.identifiedBy ?? '', /^Ed25519 key alice \([0-9a-f]{16}\)$/);
  const audit = renderAudit(r.result.incidentId, buildAudit(r.history.events ?? []));
  assert.match(audit, /update approve accepted\s+by alice \[patch [0-9a-f]{12}…\] \[signed, key alice\]/);
  assert.match(audit, /approve refused\s+by alice via update: the signature does not verify/);
  assert.match(audit, /identified by Ed25519 key alice/);
});
