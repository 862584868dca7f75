/** The shapes that cross the workflow boundary (input, activity results, the final result). */
import type { Classification, LocatedFrame } from './classify-error';

/** Every status an incident can have (awaiting_approval: verified, artifacts written, waiting for a person). */
export const INCIDENT_STATUSES = [
  'running',
  'infra_error',
  'unclassified',
  'reproduction_failed',
  'fix_failed',
  'awaiting_approval',
  'approved',
  'rejected',
  'approval_expired',
] as const;

export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** The statuses of an incident whose fix was verified (whatever the person decided after). */
export const VERIFIED_STATUSES: IncidentStatus[] = ['awaiting_approval', 'approved', 'rejected', 'approval_expired'];

/** A person's decision on a verified fix, or the approval timeout's. */
export interface ApprovalDecision {
  decision: 'approved' | 'rejected' | 'expired';
  /** Who decided (null when the approval timed out). */
  by: string | null;
  /** Workflow time of the decision (ISO 8601). */
  at: string;
  comment?: string;
  reason?: string;
  via: 'signal' | 'update' | 'timeout';
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** An introspection event the guard's tripwire saw (sandbox/runner/opsguard_guard.py). */
export interface TripwireEvent {
  event: string;
  detail: string | null;
  /** suspect: a file the patch changed; script: the reproduction; orphan: a thread with no application
   *  code on its stack; workspace: unchanged repository code (only noted). */
  kind: 'suspect' | 'script' | 'orphan' | 'workspace';
  /** Repository-relative when it is in the workspace. */
  file: string;
  func: string;
  line: number;
  how?: string;
}

/** What coverage.py saw of the patch in one run: changed statements, and which of them ran. */
export interface RunCoverage {
  /** Executable statements the patch changed, over all changed Python files. */
  changedStatements: number;
  /** How many of them this run executed. */
  executedChanged: number;
  byFile: { file: string; statements: number; executed: number }[];
  /** Repository functions whose body ran (repository-relative `file:function`), at most 20. */
  functions: string[];
}

/** One container run, summarised: the full output is in the artifact folder. */
export interface RunSummary {
  exitCode: number;
  timedOut: boolean;
  oomKilled: boolean;
  durationMs: number;
  imageId: string;
  limits: { memoryMb: number; cpus: number; timeoutSeconds: number; pids: number };
  warnings: string[];
  /**
   * The exception that ended the program, from the runner's structured outcome (reproduction
   * runs) or the last traceback in stderr (test runs). `mro` lists the type and its base classes.
   */
  exception: {
    type: string;
    mro: string[];
    message: string;
    /** The innermost traceback frame inside the workspace (repository-relative). */
    innermostRepoFrame: { file: string; func: string } | null;
    /** Where the exception came from: the repository's code, or the reproduction script itself. */
    raisedIn?: 'repository' | 'script' | 'elsewhere';
    /** When the script raised it: the check statement at that line (assert, raise AssertionError...). */
    scriptCheck?: {
      kind: string;
      trivial: boolean;
      line: number;
      /** The checked values come from names imported from a repository module. */
      usesRepository?: boolean;
    } | null;
  } | null;
  /**
   * From the runner: true when the script ran to its end; false when it raised or exited early;
   * null when the process ended without the runner's outcome (os._exit, a crash, a kill) or ran
   * without the runner (test runs).
   */
  ranToEnd: boolean | null;
  /** Why there is no signed verdict (ranToEnd null): no end record, a forged one, a duplicate... */
  unverifiedReason?: string;
  /** The guard ended the run: the code under test (the patch, or the script) inspected the interpreter. */
  tripwire?: TripwireEvent | null;
  /** Introspection by unchanged repository code, noted by the guard (at most 10). */
  notes?: TripwireEvent[];
  /** Coverage of the patch and of repository functions; null when coverage.py could not measure. */
  coverage?: RunCoverage | null;
  /** The run's records file (spec, per-test results, signed end record) in the artifact folder. */
  recordsPath?: string;
  stdoutTail: string;
  stderrTail: string;
  stdoutPath: string;
  stderrPath: string;
  outputTruncated: boolean;
}

export interface GateVerdict {
  passed: boolean;
  reason: string;
}

/** A refused attempt, as the model is told about it on its next try. */
export interface AttemptFeedback {
  attempt: number;
  /** Which gate or check refused the attempt, and why. */
  reason: string;
  stdoutTail?: string;
  stderrTail?: string;
}

/** How gate 1 matched the reproduction to the incident. */
export type FidelityRule = 'location' | 'assertion' | 'type';

/** One check of the proof, as the evidence lists it: passed, failed, or not run (and why). */
export interface ProofCheck {
  name: string;
  status: 'passed' | 'failed' | 'not_run';
  detail: string;
}

/** A reproduction script: the primary one (shown to the fix author) or a hidden variant. */
export interface ReproductionScript {
  name: string;
  role: 'primary' | 'variant';
  path: string;
  sha256: string;
}

/** A hidden variant: other inputs, same bug. Kept when it failed gate 1 on its own. */
export interface VariantRecord {
  name: string;
  scriptPath: string;
  scriptSha256: string;
  /** Gate 1's verdict on it. */
  gate: GateVerdict;
  /** Its first run (later runs are in the attempt folder). */
  run?: RunSummary;
}

export interface ModelCall {
  ok: boolean;
  /** Why the answer was refused (not code, not JSON, wrong shape, path outside the repo...). */
  reason?: string;
  usage: TokenUsage;
  durationMs: number;
}

export interface ReproductionAttempt {
  attempt: number;
  model: ModelCall;
  scriptPath?: string;
  scriptSha256?: string;
  /** The primary script's first run (all of them: `runs`). */
  run?: RunSummary;
  /** Every run of the primary script (gate 1 wants the same failure each time). */
  runs?: RunSummary[];
  /** How gate 1 matched it (when it passed). */
  rule?: FidelityRule;
  /** The hidden variants the model wrote with it, each with gate 1's verdict on it. */
  variants?: VariantRecord[];
  gate: GateVerdict;
}

export interface FixAttempt {
  attempt: number;
  model: ModelCall;
  changedFiles: string[];
  diffPath?: string;
  patchRefusal?: string;
  /** The primary reproduction's first run with the patch (all of them: `runs`). */
  run?: RunSummary;
  runs?: RunSummary[];
  /** Each hidden variant's run with the patch. */
  variantRuns?: { name: string; run: RunSummary; passed: boolean }[];
  /** Gate 2: the reproduction (every run), the hidden variants, coverage of the change, the tripwire. */
  gate: GateVerdict;
  tests?: TestRunSummary;
  testsGate?: GateVerdict;
  /** Every check of this attempt, passed, failed or not run. */
  checks?: ProofCheck[];
}

export type TestOutcome = 'passed' | 'failed' | 'error' | 'skipped' | 'timeout';

export interface TestRunSummary {
  ran: boolean;
  command: string[];
  /** Why tests did not run (no tests found). */
  reason?: string;
  run?: RunSummary;
  /** The command's exit status was 0. */
  passed: boolean;
  /** Per-test results were collected (OpsGuard's pytest plugin); false for a custom testCommand. */
  perTest: boolean;
  /**
   * complete: pytest returned and the signed end record covers every result; partial: the run was
   * cut short (deadline, memory, a test that ignored its deadline) and only the results written
   * before that exist, unsigned; missing: no per-test result at all.
   */
  completeness?: 'complete' | 'partial' | 'missing';
  /** Why the results are partial or missing, in words. */
  problem?: string;
  /** Tests collected, and files that failed to collect. */
  collected?: number;
  collectErrors?: string[];
  /** How many tests executed a statement the patch changed (null: coverage did not measure). */
  changedHit?: number | null;
  counts?: Record<TestOutcome, number>;
  /** Where the per-test results are (tests.json in the attempt folder). */
  resultsPath?: string;
  /** Baseline only: tests failing before the patch with the incident's exception at its location. */
  failToPassCandidates?: string[];
  /** After a patch, with per-test results: the regression gate's verdict. */
  verdict?: GateVerdict & { status?: 'passed' | 'failed' | 'not_verified' };
  /** After a patch: the regression verdict and its evidence. */
  regression?: {
    passToPass: { count: number; broken: string[] };
    failToPass: { count: number; stillFailing: string[] };
    /** Tests that failed before, executed a changed line, and still fail. */
    incomplete?: { count: number; stillFailing: string[] };
    /** Tests that failed before and after without touching the change (not the patch's business). */
    unrelatedFailures?: string[];
    /** Tests the operator named as known to fail. */
    exempted?: string[];
  };
}

export interface WorkspaceInfo {
  workspacePath: string;
  baselinePath: string;
  artifactDir: string;
  fileCount: number;
  skippedSymlinks: string[];
  frames: LocatedFrame[];
  exceptionType: string | null;
  exceptionMessage: string;
  repoDefinesException: boolean;
  testsFound: boolean;
  /** Secrets found in the error log and replaced before anything reached the model. */
  redactions: { kind: string; count: number }[];
}

export interface RemediationResult {
  incidentId: string;
  status: IncidentStatus;
  classification: Classification | null;
  reason: string;
  reproductionAttempts: ReproductionAttempt[];
  fixAttempts: FixAttempt[];
  baselineTests?: TestRunSummary;
  /** Secrets redacted from the error log before the model saw it. */
  redactions: { kind: string; count: number }[];
  /** The stable incident fingerprint (repository + error type + innermost application frame). */
  fingerprint: string;
  /** The person's decision on a verified fix (absent until decided). */
  approval?: ApprovalDecision;
  /** How gate 1 matched: through the incident's code location, or by type alone (and why). */
  reproductionCriterion?: string;
  /** The fidelity rule gate 1 applied to the accepted reproduction. */
  fidelityRule?: FidelityRule;
  /** Artifact name -> absolute path. */
  artifacts: Record<string, string>;
  tokenUsage: TokenUsage;
}
