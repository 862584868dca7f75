/**
 * Gate 1 (pure): did the reproduction really reproduce the incident? Every run must fail the same way,
 * for a reason the runner signed, and one of three fidelity rules must tie the failure to the incident:
 *
 * - location: the incident's exception type (or a subclass) raised through the incident's innermost
 *   repository frame (file and function, paths normalised). For exceptions the code itself raises.
 * - assertion: the incident's failing frame is a check (`assert`, `raise AssertionError`): the job
 *   detected a wrong result. Then the frame that raised is the detector, not the bug, and a faithful
 *   reproduction is the same check in the script: an AssertionError from a non-trivial check of the
 *   script, after the script ran repository functions. `assert False`, `assert 1 == 2` and an
 *   unconditional `raise AssertionError` are raising the type itself, and are refused.
 * - type: the incident's log has no repository frame at all; the type alone is compared.
 * - hang: the incident is a program that was stopped (Ctrl-C, pytest-timeout, a stack dump): the
 *   script must still be running when the runner's hang watch stops it, with the incident's location
 *   on the stack it was stopped in. The runner signs that it stopped the script; an exception the
 *   script raises is not a hang.
 *
 * A run the tripwire ended (the script inspected the interpreter) or that ended without a signed
 * outcome reproduces nothing. Runs that disagree are flaky, which is refused with its own reason.
 */
import { describeLocation, sameLocation } from './repo-paths';
import { shortTypeName } from './traceback';
import type { FidelityRule, GateVerdict, IncidentSignature, RunSummary } from './incident-types';

export interface ReproductionVerdict extends GateVerdict {
  rule?: FidelityRule;
  /** Type and location of the failure, to tell whether repeated runs agree. */
  signature?: string;
}

/** Roots every exception descends from: "a subclass of Exception" is any failure at all. */
const ROOT_TYPES = new Set(['Exception', 'BaseException']);

/** True when an exception (with its base classes) is the incident's type or a subclass. An incident
 * of a root type itself (`raise Exception(...)`) wants that type exactly. */
export function isIncidentType(mro: string[], type: string): boolean {
  const expected = shortTypeName(type);
  if (ROOT_TYPES.has(expected)) return mro[0] !== undefined && shortTypeName(mro[0]) === expected;
  return mro.some((t) => shortTypeName(t) === expected);
}

/** Why a run cannot count as evidence at all, or null. Shared with gate 2. */
export function unusableRun(run: RunSummary, who: 'the reproduction script' | 'the patched code'): string | null {
  if (run.tripwire) {
    const t = run.tripwire;
    const where = `${t.file}:${t.func} line ${t.line}`;
    const by = t.kind === 'orphan' ? 'a thread with no application code on its stack' : `${who} (${where})`;
    return `the guard ended the run: ${by} ${t.event === 'open' ? `opened ${t.detail}` : `raised ${t.event}${t.detail ? ` (${t.detail})` : ''}`}${t.how ? `, ${t.how}` : ''}. Reproductions and fixes may not inspect the interpreter's frames, memory or processes.`;
  }
  if (run.timedOut) return `the run was killed at its ${run.limits.timeoutSeconds} s deadline`;
  if (run.oomKilled) return `the run was killed for exceeding ${run.limits.memoryMb} MiB of memory (out of memory)`;
  if (run.ranToEnd === null) {
    return `the process ended (exit code ${run.exitCode}) without the runner's signed outcome (${run.unverifiedReason ?? 'os._exit, a crash or a kill'}), so nothing was observed`;
  }
  return null;
}

/** Gate 1 for one run. */
export function reproductionRunVerdict(run: RunSummary, incident: IncidentSignature): ReproductionVerdict {
  const expected = shortTypeName(incident.type);
  const refuse = (why: string): ReproductionVerdict => ({ passed: false, reason: `Not reproduced: ${why}` });
  const unusable = unusableRun(run, 'the reproduction script');
  if (unusable) {
    const why =
      incident.hang && run.timedOut
        ? ': the hang watch could not stop it (C code holding the interpreter, or the code swallowing the stop every second)'
        : '';
    return refuse(`${unusable}${why}.`);
  }
  if (incident.hang) return hangRule(run, incident);
  if (run.ranToEnd)
    return refuse(`the script ran to its end and exited 0, so the bug did not happen (expected ${expected}).`);
  const ex = run.exception;
  if (!ex) return refuse(`exit code ${run.exitCode} with no exception reported (expected ${expected}).`);
  if (ex.type === 'SystemExit')
    return refuse(`the script called sys.exit(${ex.message}) instead of failing with ${expected}.`);
  const raisedAt = describeLocation(ex.innermostRepoFrame);
  // pytest's Failed at a check of the tests (DID NOT RAISE): the script's own check says the same
  // with an AssertionError (or pytest.raises in the script, which raises Failed).
  const pytestCheck = incident.check === true && expected === 'Failed' && isIncidentType(ex.mro, 'AssertionError');
  if (!isIncidentType(ex.mro, incident.type) && !pytestCheck) {
    return refuse(`the script raised ${ex.type} (${ex.message.slice(0, 200)}) in ${raisedAt}, expected ${expected}.`);
  }
  const what = `${ex.type}: ${ex.message.slice(0, 200)}`;
  if (!incident.location) {
    return {
      passed: true,
      rule: 'type',
      signature: `${ex.type}|type`,
      reason: `Reproduced by type alone (the incident's log has no repository frame): ${what}.`,
    };
  }
  if (sameLocation(ex.innermostRepoFrame, incident.location)) {
    return {
      passed: true,
      rule: 'location',
      signature: `${ex.type}|${raisedAt}`,
      reason: `Reproduced: ${what} raised through ${raisedAt}, as in the incident.`,
    };
  }
  if (incident.check && ex.raisedIn === 'script') return assertionRule(run, incident, what);
  return refuse(
    `${ex.type} was raised in ${raisedAt}, not through the incident's location ${describeLocation(incident.location)}. Call the repository's code so that it raises there; do not raise the exception yourself.`,
  );
}

/** The hang fidelity rule: still running, inside the incident's location, when the hang watch stopped it. */
function hangRule(run: RunSummary, incident: IncidentSignature): ReproductionVerdict {
  const refuse = (why: string): ReproductionVerdict => ({ passed: false, reason: `Not reproduced: ${why}` });
  const where = describeLocation(incident.location);
  if (run.ranToEnd) {
    return refuse(
      `the script ran to its end in ${run.durationMs} ms: the code returned, so it did not hang (the incident was stopped in ${where}).`,
    );
  }
  const ex = run.exception;
  if (!run.hang && ex?.raisedIn === 'script' && ex.interrupted?.some((f) => sameLocation(f, incident.location))) {
    // The script's own timer (a SIGALRM handler of its own replaces the watch) stopped the code there.
    // It, not OpsGuard, chose when; gate 2 still wants the same script to finish with the fix.
    return {
      passed: true,
      rule: 'hang',
      signature: `hang|${where}`,
      reason: `Reproduced: the script's own ${ex.type} (${ex.message.slice(0, 120)}) stopped the repository code while it was inside ${where}, as in the incident (the script's timer, not OpsGuard's hang watch, chose when).`,
    };
  }
  if (!run.hang) {
    const ended = ex
      ? `raised ${ex.type} (${ex.message.slice(0, 200)}) in ${describeLocation(ex.innermostRepoFrame)}`
      : `exited ${run.exitCode}`;
    return refuse(
      `the script ${ended} instead of running on in ${where}. The incident is a hang: call the code with the input that makes it run forever, and let OpsGuard's hang watch stop it (no timeouts, threads or signals of your own).`,
    );
  }
  const stoppedIn = describeLocation(run.hang.repoStack.at(-1) ?? null);
  if (!incident.location) {
    return {
      passed: true,
      rule: 'hang',
      signature: 'hang',
      reason: `Reproduced by a hang alone (the incident's log has no repository frame): still running after ${run.hang.afterSeconds} s, in ${stoppedIn}.`,
    };
  }
  if (!run.hang.repoStack.some((f) => sameLocation(f, incident.location))) {
    return refuse(
      `the script was still running after ${run.hang.afterSeconds} s, but in ${stoppedIn}, and ${where} was not on its stack. Call the code whose loop or recursion the incident was stopped in.`,
    );
  }
  return {
    passed: true,
    rule: 'hang',
    signature: `hang|${where}`,
    reason: `Reproduced: the script was still running after ${run.hang.afterSeconds} s and was stopped inside ${where} (innermost repository frame ${stoppedIn}), as in the incident.`,
  };
}

/** The assertion fidelity rule: a wrong-result bug reproduced by the script's own check. */
function assertionRule(run: RunSummary, incident: IncidentSignature, what: string): ReproductionVerdict {
  const refuse = (why: string): ReproductionVerdict => ({ passed: false, reason: `Not reproduced: ${why}` });
  const check = run.exception?.scriptCheck;
  const incidentAt = describeLocation(incident.location);
  if (!check) {
    return refuse(
      `the incident is a failed check in ${incidentAt}; the script's AssertionError did not come from a check statement of the script (an assert, or raise AssertionError under a condition).`,
    );
  }
  if (check.trivial) {
    return refuse(
      `the script's ${check.kind} at line ${check.line} tests a constant or raises unconditionally (assert False, assert 1 == 2, raise AssertionError): that is raising the type itself. Compute the value with the repository's code and check it as ${incidentAt} does.`,
    );
  }
  if (!run.coverage) {
    return refuse(
      'the assertion rule needs to see which repository functions the script ran, and coverage.py did not measure this run (is it in the sandbox image?).',
    );
  }
  // Repository code must have produced what the check tests: a repository function ran, or the
  // checked values come from names imported from a repository module (a wrong constant or default).
  if (run.coverage.functions.length === 0 && !check.usesRepository) {
    return refuse(
      `the script's ${check.kind} at line ${check.line} failed before the script called any repository function, on values that do not come from the repository. Call the code whose result the incident's check (${incidentAt}) tests.`,
    );
  }
  const source = run.coverage.functions.length
    ? `after it ran ${run.coverage.functions.slice(0, 3).join(', ')}`
    : 'on values imported from the repository';
  return {
    passed: true,
    rule: 'assertion',
    signature: `${run.exception?.type}|script check line ${check.line}`,
    reason: `Reproduced (assertion rule: the incident is a failed check in ${incidentAt}): the script's ${check.kind} at line ${check.line} failed with ${what} ${source}.`,
  };
}

/** Gate 1 over repeated runs of one script: every run must reproduce, and the same way. */
export function reproductionGate(runs: RunSummary[], incident: IncidentSignature): ReproductionVerdict {
  const verdicts = runs.map((r) => reproductionRunVerdict(r, incident));
  const first = verdicts[0];
  if (!first) return { passed: false, reason: 'Not reproduced: the reproduction did not run.' };
  const passed = verdicts.filter((v) => v.passed);
  if (passed.length === verdicts.length) {
    const signatures = new Set(passed.map((v) => v.signature));
    if (signatures.size === 1) return { ...first, reason: `${first.reason} (${runs.length} of ${runs.length} runs)` };
    return {
      passed: false,
      reason: `Flaky: the ${runs.length} runs all failed, but not the same way (${[...signatures].join('; ')}). A reproduction must fail the same way every time.`,
    };
  }
  if (passed.length === 0) return { ...first, rule: undefined };
  const refused = verdicts.find((v) => !v.passed) as ReproductionVerdict;
  return {
    passed: false,
    reason: `Flaky: ${passed.length} of ${runs.length} runs reproduced the incident and ${runs.length - passed.length} did not (${refused.reason}). A reproduction must fail every time; remove what varies between runs (time, randomness, ordering).`,
  };
}
