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
  } | null;
  /**
   * From the runner: true when the script ran to its end; false when it raised or exited early;
   * null when the process ended without the runner's outcome (os._exit, a crash, a kill) or ran
   * without the runner (test runs).
   */
  ranToEnd: boolean | null;
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
  run?: RunSummary;
  gate: GateVerdict;
}

export interface FixAttempt {
  attempt: number;
  model: ModelCall;
  changedFiles: string[];
  diffPath?: string;
  patchRefusal?: string;
  run?: RunSummary;
  gate: GateVerdict;
  tests?: TestRunSummary;
  testsGate?: GateVerdict;
}

export type TestOutcome = 'passed' | 'failed' | 'error' | 'skipped';

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
  counts?: Record<TestOutcome, number>;
  /** Where the per-test results are (tests.json in the attempt folder). */
  resultsPath?: string;
  /** Baseline only: tests failing before the patch with the incident's exception at its location. */
  failToPassCandidates?: string[];
  /** After a patch, with per-test results: the regression gate's verdict. */
  verdict?: GateVerdict;
  /** After a patch: the regression verdict and its evidence. */
  regression?: {
    passToPass: { count: number; broken: string[] };
    failToPass: { count: number; stillFailing: string[] };
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
  /** Artifact name -> absolute path. */
  artifacts: Record<string, string>;
  tokenUsage: TokenUsage;
}
