/**
 * Past incidents from Temporal visibility (activities/context/past-incidents.ts), end to end on the
 * real dev server and Docker: a second incident with the same fingerprint (same service, same log,
 * its own workflow id) is told about the first, with the first's verified patch, and its PR
 * description cites it; an incident with another fingerprint but the same error type raised in the
 * same file is told too; an incident is never told about itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { exampleDir, recordedTurns, remediate } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

/** The reproduction, the fix (an exact-text edit of money.py) and the PR description. */
const [REPRO, FIX, PR] = recordedTurns('pricing-tools') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];

interface Proof {
  baselineTests?: { ran: boolean; counts?: Record<string, number>; reusedFrom?: { incidentId: string } };
  modelContext: {
    past: {
      found: { incidentId: string; match: string; status: string; title: string | null }[];
      queries: string[];
      error?: string;
    };
  };
}

test("a second incident with the same fingerprint is shown the first one's verified patch, and its PR cites it", async () => {
  const first = await remediate({ example: 'pricing-tools', turns: [REPRO, FIX, PR] });
  assert.equal(first.result.status, 'approved', first.result.reason);
  const firstPrompts = first.model.requests.map((r) => r.prompt).join('\n');
  assert.ok(!firstPrompts.includes('## Seen before'), 'an incident is not told about itself');
  const firstProof = JSON.parse(fs.readFileSync(first.result.artifacts['proof.json'] ?? '', 'utf8')) as Proof;
  assert.deepEqual(firstProof.modelContext.past.found, []);
  assert.equal(firstProof.modelContext.past.error, undefined, 'visibility answered');
  assert.match(firstProof.modelContext.past.queries[0] ?? '', /OpsGuardFingerprint = '[0-9a-f]{16}'/);

  const firstId = first.result.incidentId;
  // The second and a fourth share a dependency cache, as incidents on one worker do.
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-past-cache-'));
  const second = await remediate({
    example: 'pricing-tools',
    cacheDir,
    after: first, // the same service folder (so the same fingerprint), the same worker folders
    turns: [
      REPRO,
      {
        ...FIX,
        expectInPrompt: [
          '## Seen before',
          `Incident \`${firstId}\``,
          '(the same fingerprint; approved), fixed by "Round quotes to the nearest cent"',
          '+    return round(amount * 100) / 100',
        ],
      },
      PR,
    ],
  });
  assert.equal(second.result.status, 'approved', second.result.reason);
  assert.notEqual(second.result.incidentId, firstId);
  assert.equal(second.result.fingerprint, first.result.fingerprint);
  const proof = JSON.parse(fs.readFileSync(second.result.artifacts['proof.json'] ?? '', 'utf8')) as Proof;
  assert.deepEqual(
    proof.modelContext.past.found.map((p) => [p.incidentId, p.match, p.status, p.title]),
    [[firstId, 'fingerprint', 'approved', 'Round quotes to the nearest cent']],
  );
  const pr = fs.readFileSync(second.result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.match(
    pr,
    new RegExp(`- Seen before: incident \`${firstId}\` on \\d{4}-\\d{2}-\\d{2} \\(same fingerprint; approved\\)`),
  );
  // Another fingerprint (the innermost function is named differently), the same error type and file.
  const log = fs
    .readFileSync(path.join(exampleDir('pricing-tools'), 'incident.log'), 'utf8')
    .replace('line 11, in main', 'line 11, in run_nightly');
  const third = await remediate({ example: 'pricing-tools', after: first, errorLog: log, turns: [] });
  assert.notEqual(third.result.fingerprint, first.result.fingerprint);
  const asked = third.model.requests[0]?.prompt ?? '';
  assert.match(asked, /## Seen before/);
  assert.match(asked, /\(the same error type in the same file; approved\)/);
  assert.ok(asked.includes(`Incident \`${firstId}\``) && asked.includes(`Incident \`${second.result.incidentId}\``));
  assert.equal(third.result.status, 'model_unavailable', 'the scripted model had nothing more to say');

  // One more on the same commit: the clean run before the patch of an earlier incident on this tree
  // is taken, and said (activities/baseline-test-reuse.ts). Not the first's: its copy was made just
  // before it started, so its tree was its own (tree-state's racy window); the second's was shared.
  const secondProof = proof;
  const fourth = await remediate({ example: 'pricing-tools', after: first, cacheDir, turns: [REPRO, FIX, PR] });
  assert.equal(fourth.result.status, 'approved', fourth.result.reason);
  const fourthProof = JSON.parse(fs.readFileSync(fourth.result.artifacts['proof.json'] ?? '', 'utf8')) as Proof;
  assert.equal(secondProof.baselineTests?.reusedFrom, undefined, 'the second ran its own');
  assert.equal(secondProof.baselineTests?.counts?.failed, 0, 'a clean run');
  const taken = fourthProof.baselineTests?.reusedFrom?.incidentId;
  assert.equal(taken, second.result.incidentId, JSON.stringify(fourthProof.baselineTests));
  const fourthPr = fs.readFileSync(fourth.result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.ok(fourthPr.includes(`The run before the patch was incident \`${taken}\`'s clean run`), fourthPr);
  // Its dependencies were prepared by the second and its tests before the patch were taken: three
  // reproduction runs, three with the fix, one test run after the patch.
  assert.equal(fourth.containers.created, 7, 'no preparation, no test run before the patch');
  fs.rmSync(cacheDir, { recursive: true, force: true });
});
