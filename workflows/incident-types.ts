/** The shapes that cross the workflow boundary (input, activity results, the final result). */
import type { Classification, LocatedFrame } from './classify-error';

export type IncidentStatus =
  'running' | 'infra_error' | 'unclassified' | 'reproduction_failed' | 'fix_failed' | 'verified';

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
  /** The last exception in stderr, if any. */
  exception: { type: string; message: string; innermostRepoFrame: { file: string; func: string } | null } | null;
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

export interface TestRunSummary {
  ran: boolean;
  command: string[];
  /** Why tests did not run (no tests found). */
  reason?: string;
  run?: RunSummary;
  passed: boolean;
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
}

export interface RemediationResult {
  incidentId: string;
  status: IncidentStatus;
  classification: Classification | null;
  reason: string;
  reproductionAttempts: ReproductionAttempt[];
  fixAttempts: FixAttempt[];
  baselineTests?: TestRunSummary;
  /** Artifact name -> absolute path. */
  artifacts: Record<string, string>;
  tokenUsage: TokenUsage;
}
