/**
 * Texts derived from results, written the same way wherever they appear: the workflow's log lines,
 * the audit, the artifacts and the command line (pure: the workflow bundle imports it).
 */
import type { Classification } from './classify-error';
import type { IncidentSignature, RunSummary, TestRunSummary } from './incident-types';

/** What gate 1 holds a reproduction to, from a code classification. */
export function incidentSignature(c: Extract<Classification, { kind: 'code' }>): IncidentSignature {
  return {
    type: c.errorType,
    location: { file: c.location.file, func: c.location.func },
    check: c.location.check === true,
    ...(c.hang ? { hang: true } : {}),
  };
}

/** Gate 1's criterion in words (the result's reproductionCriterion, the PR evidence). */
export function reproductionCriterion(s: IncidentSignature): string {
  const where = s.location ? `${s.location.file}:${s.location.func}` : null;
  if (!where) return `${s.type} (or a subclass): the incident's log has no repository frame`;
  if (s.hang)
    return `a hang in ${where}: the reproduction still running, with ${where} on its stack, when OpsGuard's hang watch stops it`;
  return s.check
    ? `${s.type} from the same check as the incident's (${where} is an assertion that caught a wrong result): raised through ${where}, or by a non-trivial assertion of the script on what repository code produced`
    : `${s.type} (or a subclass) raised through ${where}, the incident's innermost repository frame`;
}

/** One run: `exit code 1, KeyError: 'user' (337 ms, timed out)`. */
export function describeRun(run: RunSummary): string {
  const ex = run.exception ? `, ${run.exception.type}: ${run.exception.message.split('\n')[0]?.slice(0, 160)}` : '';
  const flags = [
    `${run.durationMs} ms`,
    ...(run.timedOut ? ['timed out'] : []),
    ...(run.oomKilled ? ['out of memory'] : []),
    ...(run.tripwire ? [`ended by the tripwire: ${run.tripwire.event}`] : []),
    ...(run.ranToEnd === null && !run.tripwire && !run.timedOut && !run.oomKilled ? ['no signed outcome'] : []),
  ];
  return `exit code ${run.exitCode}${ex} (${flags.join(', ')})`;
}

/** A test run: `2 passed, 1 failed` (outcomes that occurred), or why there are no per-test results. */
export function describeTests(t: TestRunSummary): string {
  if (!t.ran) return `not run: ${t.reason ?? 'no tests'}`;
  const counts = t.counts
    ? Object.entries(t.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'no tests'
    : `exit code ${t.run?.exitCode}`;
  const partial = t.completeness && t.completeness !== 'complete' ? ` (${t.completeness}: ${t.problem})` : '';
  const uncollected = t.collectErrors?.length ? `, ${t.collectErrors.length} test files failed to collect` : '';
  const reused = t.reusedFrom
    ? ` (incident ${t.reusedFrom.incidentId}'s clean run on the same tree, ${t.reusedFrom.finishedAt})`
    : '';
  return `${counts}${uncollected}${partial}${reused}`;
}

/** What was redacted from the log: `1 aws-access-key, 2 bearer-token`. */
export function describeRedactions(redactions: { kind: string; count: number }[]): string {
  return redactions.map((r) => `${r.count} ${r.kind}`).join(', ');
}
