import { fixAttemptVerdict } from '../workflows/fix-gate';
import type { IncidentView } from './incident-state';
import type { DeliveryRecord } from '../workflows/incident-types';

/** Delivery in a few lines: where the patch went, or why not. */
export function describeDelivery(d: DeliveryRecord): string[] {
  const lines: string[] = [];
  if (d.status === 'delivered') {
    lines.push(
      `delivered: branch ${d.branch} at ${d.commit?.slice(0, 12)} (on the ${d.onto === 'head' ? "base branch's newer head" : 'analysed commit'} ${d.baseCommit?.slice(0, 12)})${d.remote ? `, pushed to ${d.remote}` : ', local only'}`,
    );
    if (d.pullRequest) lines.push(`pull request: #${d.pullRequest.number} ${d.pullRequest.url}`);
  } else if (d.status === 'failed') {
    lines.push(`delivery failed (attempt ${d.attempts}): ${d.reason ?? ''}`);
  } else {
    lines.push(`delivery: none — ${d.reason ?? ''}`);
  }
  for (const n of d.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** A person-readable summary of an incident (the `status` command, `--wait`'s last lines). */
export function renderIncident(view: IncidentView): string {
  const r = view.result;
  const lines = [
    `Incident ${view.id}: ${view.status}${view.step && view.step !== 'done' ? ` (step ${view.step})` : ''}`,
  ];
  if (view.failure) lines.push(`  failed: ${view.failure}`);
  if (view.waitingFor) lines.push(`  waiting for ${view.waitingFor}`);
  if (r) {
    if (r.reason) lines.push(`  ${r.reason}`);
    if (r.classification) lines.push(`  classification: ${r.classification.kind} — ${r.classification.reason}`);
    if (r.patchSha256) lines.push(`  patch: patch.diff sha256 ${r.patchSha256} (a decision must name it)`);
    for (const v of r.approvals ?? []) lines.push(`  approval: ${v.by} via ${v.via}, identified by ${v.identifiedBy}`);
    for (const f of (r.refusedDecisions ?? []).slice(-5))
      lines.push(`  refused: ${f.decision} by ${f.by} via ${f.via}: ${f.reason}`);
    if (r.environment) {
      const e = r.environment;
      lines.push(
        `  environment: Python ${e.pythonFull ?? e.python ?? '?'} (${e.pythonSource}), ${e.installed.length} package${e.installed.length === 1 ? '' : 's'}${e.cacheHit ? ', cache hit' : ''} — ${e.image}`,
      );
    }
    for (const a of r.reproductionAttempts)
      lines.push(`  reproduce ${a.attempt}: ${a.gate.passed ? 'PASSED' : 'refused'} — ${a.gate.reason}`);
    for (const a of r.fixAttempts) {
      const verdict = fixAttemptVerdict(a);
      // An accepted fix passed both gate 2 and the tests: say both.
      const reason = verdict.passed && a.testsGate ? `${a.gate.reason} ${a.testsGate.reason}` : verdict.reason;
      lines.push(`  fix ${a.attempt}: ${verdict.passed ? 'PASSED' : 'refused'} — ${reason}`);
    }
    if (r.approval) {
      const a = r.approval;
      lines.push(
        `  decision: ${a.decision}${a.by ? ` by ${a.by}` : ''} at ${a.at}${a.comment ? ` — ${a.comment}` : ''}${a.reason ? ` — ${a.reason}` : ''}`,
      );
    }
    const d = r.delivery;
    if (d) lines.push(...describeDelivery(d).map((l) => `  ${l}`));
    lines.push(`  tokens: ${r.tokenUsage.inputTokens} in / ${r.tokenUsage.outputTokens} out`);
    const artifacts = Object.entries(r.artifacts);
    if (artifacts.length) lines.push('  artifacts:', ...artifacts.map(([k, v]) => `    ${k.padEnd(18)} ${v}`));
  } else if (view.source === 'search-attributes') {
    lines.push('  (no worker answered the state query; status from the OpsGuardStatus search attribute)');
  }
  if (view.status === 'delivery_failed') lines.push(`  retry: npx opsguard deliver ${view.id}`);
  if (view.status === 'awaiting_approval') {
    lines.push(`  decide: npx opsguard approve ${view.id}   |   npx opsguard reject ${view.id} --reason "..."`);
  }
  return lines.join('\n');
}
