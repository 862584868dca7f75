/**
 * The delivery commit's message: what broke, the proof in one paragraph, the incident, and who
 * approved (`Approved-by:` trailer). Made from the workflow's own records (already redacted), so the
 * same incident always gets the same message. Pure.
 */
import type { RemediationResult } from './incident-types';
import type { Fixed } from './fix';

export function deliveryCommitMessage(
  result: RemediationResult,
  fixed: Fixed,
  approvedBy: string[],
  onHead?: { branch: string; head: string },
): string {
  const c = result.classification;
  const type = c?.errorType ?? 'the incident';
  const where = c && 'location' in c && c.location ? ` in ${c.location.file}:${c.location.func}` : '';
  const subject = `Fix ${type}${where} (OpsGuard ${result.incidentId})`.slice(0, 120);
  const runs = fixed.attempt.runs?.length ?? 1;
  const variants = fixed.attempt.variantRuns?.length ?? 0;
  const reg = fixed.attempt.tests?.regression;
  const tests = !fixed.attempt.tests?.ran
    ? `repository tests not run (${fixed.attempt.tests?.reason ?? 'none found'})`
    : reg
      ? `repository tests: ${reg.passToPass.count - reg.passToPass.broken.length} of ${reg.passToPass.count} pass-to-pass still pass, ${reg.failToPass.count - reg.failToPass.stillFailing.length} of ${reg.failToPass.count} fail-to-pass now pass`
      : `repository tests: ${fixed.attempt.testsGate?.reason ?? 'passed'}`;
  const body = [
    `What broke: ${c?.reason ?? result.reason}`,
    '',
    `Proof: the reproduction failed with ${type} before the patch and passes with it (${runs} run${runs === 1 ? '' : 's'}${variants ? `, ${variants} hidden variant${variants === 1 ? '' : 's'}` : ''}, each in a fresh container); ${tests}.`,
    ...(onHead
      ? [
          '',
          `Re-verified on ${onHead.branch} at ${onHead.head.slice(0, 12)} (the branch had moved on since the analysis).`,
        ]
      : []),
    '',
    `OpsGuard-Incident: ${result.incidentId}`,
    ...(result.patchSha256 ? [`Patch-Sha256: ${result.patchSha256}`] : []),
    ...approvedBy.map((by) => `Approved-by: ${by}`),
  ];
  return `${subject}\n\n${body.join('\n')}\n`;
}
