/**
 * The contract: every shape that crosses the workflow boundary, with a name. The workflow's input
 * (schema in incident-input.ts), the statuses, what operators send and query, every activity's
 * arguments and result (activities/index.ts implements them), and the final result. Pure types and
 * constants only: the workflow bundle imports this file.
 */
import type { ImportTarget } from './import-errors';
import type { Classification, LocatedFrame } from './classify-error';
import type { CodeLocation } from './repo-paths';
import type { RepositoryProfile } from './repo-profile';

export type { IncidentInput } from './incident-input';

/**
 * Every status an incident can have, once: whether the workflow is still working (running), waits
 * for a person (waiting), or has ended; and whether a fix was verified.
 */
const STATUSES = {
  running: { phase: 'running', verified: false },
  infra_error: { phase: 'ended', verified: false },
  unclassified: { phase: 'ended', verified: false },
  reproduction_failed: { phase: 'ended', verified: false },
  fix_failed: { phase: 'ended', verified: false },
  /** The repository's dependencies or profile could not be prepared (the installer's log is an artifact). */
  environment_failed: { phase: 'ended', verified: false },
  /** The model could not be reached after its retries, or refused the configuration (the reason says which). */
  model_unavailable: { phase: 'ended', verified: false },
  /** An operator cancelled it (running containers stopped, what was known written). */
  cancelled: { phase: 'ended', verified: false },
  /** Verified, artifacts written, waiting for a person. */
  awaiting_approval: { phase: 'waiting', verified: true },
  /** Approved and ended without delivery: --no-deliver, not a git repository, or an older incident. */
  approved: { phase: 'ended', verified: true },
  /** Approved; the branch, the push and the pull request are being made (deliver.ts). */
  delivering: { phase: 'running', verified: true },
  /** The branch exists (pushed, with its pull request, when a remote is configured). */
  delivered: { phase: 'ended', verified: true },
  /** Delivery failed; the verified patch is kept, `opsguard deliver ID` (the deliver update) retries. */
  delivery_failed: { phase: 'waiting', verified: true },
  rejected: { phase: 'ended', verified: true },
  approval_expired: { phase: 'ended', verified: true },
} as const;

export type IncidentStatus = keyof typeof STATUSES;
export const INCIDENT_STATUSES = Object.keys(STATUSES) as IncidentStatus[];
const isStatus = (s: string): s is IncidentStatus => Object.hasOwn(STATUSES, s);
/** The workflow has ended with this status. */
export const isEnded = (s: string): boolean => isStatus(s) && STATUSES[s].phase === 'ended';
/** Nothing happens until a person decides. */
export const isWaiting = (s: string): boolean => isStatus(s) && STATUSES[s].phase === 'waiting';
/** A fix was verified (whatever the person decided after). */
export const isVerified = (s: string): boolean => isStatus(s) && STATUSES[s].verified;

/**
 * The names operators (and `temporal workflow query|signal|update --name ...`) use. operator-api.ts
 * defines the typed query, signals and updates with them; readers that do not load the workflow SDK
 * (the command line's HTTP reads) use them directly.
 */
export const OPERATOR_API = { stateQuery: 'state', approve: 'approve', reject: 'reject', deliver: 'deliver' } as const;

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
  /** The sha256 of the patch.diff the decision was made on (incidents since approval-v2). */
  patchSha256?: string;
  /** Approved with --no-deliver: the team applies patch.diff itself. */
  deliver?: false;
  /** How the person was identified: the name they gave, or the key that signed the decision. */
  identifiedBy?: string;
  /** With a two-person rule: every approval that counted, in order. */
  approvals?: ApprovalVote[];
  /** An approval recorded while more are required (the update's answer; the incident still waits). */
  pending?: { approvals: number; required: number };
}

/** One person's approval, as it counted towards the decision. */
export interface ApprovalVote {
  by: string;
  at: string;
  via: 'signal' | 'update';
  identifiedBy: string;
  comment?: string;
}

/** A decision that was refused, and why (signals' refusals are kept here; updates' are answered). */
export interface RefusedDecision {
  decision: 'approve' | 'reject';
  by: string;
  at: string;
  via: 'signal' | 'update';
  reason: string;
}

/** Fields a decision may be signed with (Ed25519 over decisionMessage(), approval-policy.ts). */
export interface SignedDecision {
  /** base64 Ed25519 signature. */
  signature?: string;
  /** The approver's key id (the name of their public key file in OPSGUARD_APPROVER_KEYS). */
  keyId?: string;
  /** When the person signed (ISO 8601), part of the signed message. */
  signedAt?: string;
}

/** The `approve` signal's and update's argument. */
export interface ApproveArgs extends SignedDecision {
  by: string;
  comment?: string;
  /** The sha256 of the patch.diff the person reviewed (required since approval-v2). */
  patchSha256?: string;
  /** false: approve without delivery (the team applies patch.diff itself). Default true. */
  deliver?: boolean;
}

/** The `deliver` update's argument: retry delivery after delivery_failed. */
export interface DeliverArgs {
  by: string;
}

/** The `reject` signal's and update's argument. */
export interface RejectArgs extends SignedDecision {
  by: string;
  reason: string;
  patchSha256?: string;
}

/** Who may decide (workflows/approval-policy.ts); the worker's configuration and the profile merged. */
export interface ApprovalPolicy {
  /** People allowed to decide (groups expanded); null: anyone. */
  approvers: string[] | null;
  /** Whoever started the incident (input.startedBy) may not approve it. */
  noSelfApproval: boolean;
  /** Distinct approvals needed (2: a two-person rule). */
  required: number;
  /** Decisions must be signed with a known Ed25519 key. */
  signaturesRequired: boolean;
}

export interface VerifyDecisionArgs {
  incidentId: string;
  decision: 'approve' | 'reject';
  by: string;
  patchSha256: string;
  signature: string;
  keyId: string;
  signedAt: string;
}

export type VerifyDecisionResult = { ok: true; identifiedBy: string } | { ok: false; reason: string };

/** The steps of the flow, as the state query, `[STATE]` lines and the Web UI name them. */
export type Step =
  | 'start'
  | 'setup_workspace'
  | 'classify_error'
  | 'prepare_environment'
  | `reproduce_attempt_${number}`
  | 'baseline_tests'
  | `fix_attempt_${number}`
  | `restore_workspace_${number}`
  | 'write_pr_description'
  | 'write_artifacts'
  | 'awaiting_approval'
  | 'record_decision'
  | 'deliver'
  | 'deliver_reverify'
  | 'delivery_failed'
  | 'done';

/** What `opsguard status`, `watch` and `temporal workflow query --name state` show. */
export interface RemediationState {
  incidentId: string;
  status: IncidentStatus;
  step: Step;
  /** Every transition so far, oldest first (workflow time). */
  transitions: { at: string; step: Step }[];
  result: RemediationResult;
  /** What the incident waits for right now (the Docker engine, with the reason), if anything. */
  waitingFor?: string;
}

/** What identifies the incident's failure: its exception type and innermost repository frame. */
export interface IncidentSignature {
  type: string;
  location: CodeLocation | null;
  /** The incident's failing frame is a check (an assert, or raise AssertionError): a wrong result. */
  check?: boolean;
  /** The incident is a hang (Ctrl-C, pytest-timeout, a stack dump at a deadline): gate 1's hang rule. */
  hang?: boolean;
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
    /** Raised by the script while these repository frames ran below it (its own timer's handler, a
     *  callback): outermost first, at most 10. */
    interrupted?: CodeLocation[];
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
  /**
   * The runner's hang watch stopped the script (armed for a hang incident only): after how long, and
   * the repository frames it was in then (outermost first, the innermost 10). The exception is then
   * OpsGuardHang, raised where the program was.
   */
  hang?: { afterSeconds: number; repoStack: CodeLocation[] };
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
export type FidelityRule = 'location' | 'assertion' | 'type' | 'hang';

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
  /** The retrieval tools the model was offered and what it called (fix attempts). */
  tools?: ToolUse;
}

/** One retrieval tool call (activities/context/retrieval-tools.ts); the results are in the attempt folder. */
export interface ToolCallRecord {
  tool: string;
  /** The arguments, strings cut to 200 characters. */
  input: Record<string, unknown>;
  outcome: 'ok' | 'truncated' | 'refused';
  /** Tokens of the result the model got. */
  resultTokens: number;
  /** Why a call was refused or cut. */
  note?: string;
}

/** The model's retrieval in one attempt: its limits, its calls, the tokens they returned. */
export interface ToolUse {
  maxCalls: number;
  budgetTokens: number;
  calls: ToolCallRecord[];
  resultTokens: number;
  /** The service refused tool calling; the answer was asked for without tools. */
  refused?: string;
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
  diffSha256?: string;
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
  /**
   * Baseline only: these are the results of another incident's clean run on the same tree, image,
   * environment and settings (activities/baseline-test-reuse.ts), copied into this incident's folder.
   */
  reusedFrom?: { incidentId: string; finishedAt: string };
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
    /** Tests of files that failed to collect before the patch (a module that did not import): they must pass. */
    collectToPass?: { count: number; stillFailing: string[] };
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
  /** For an ImportError: the module it names and how much of it is the repository's (absent before classify-v3). */
  importTarget?: ImportTarget;
  testsFound: boolean;
  /** Secrets found in the error log and replaced before anything reached the model. */
  redactions: { kind: string; count: number }[];
  /** The git commit analysed (null: not a git repository, and why). */
  origin?: RepositoryOriginSummary | null;
  originNote?: string;
  /** The worker that holds this workspace (absent: not pinned; any worker shares the disk). */
  host?: IncidentHost;
  /** The workspace's content digest (activities/incident-host.ts), checked when the incident moves. */
  treeDigest?: string;
  /** The pristine tree this incident is proven against (activities/shared-baseline.ts). */
  baseline?: { key: string; shared: boolean; reused: boolean; why?: string };
}

export interface RemediationResult {
  incidentId: string;
  status: IncidentStatus;
  classification: Classification | null;
  reason: string;
  reproductionAttempts: ReproductionAttempt[];
  fixAttempts: FixAttempt[];
  baselineTests?: TestRunSummary;
  /** The Python, the dependencies and the profile the runs used (incidents since environment-v1). */
  environment?: EnvironmentSummary;
  /** Secrets redacted from the error log before the model saw it. */
  redactions: { kind: string; count: number }[];
  /** The stable incident fingerprint (repository + error type + innermost application frame). */
  fingerprint: string;
  /** The person's decision on a verified fix (absent until decided). */
  approval?: ApprovalDecision;
  /** The sha256 of the verified patch.diff awaiting a decision (incidents since approval-v2). */
  patchSha256?: string;
  /** Decisions refused while waiting (signals' refusals; updates are answered at once). */
  refusedDecisions?: RefusedDecision[];
  /** Approvals recorded so far (a two-person rule needs more than one). */
  approvals?: ApprovalVote[];
  /** The git commit the incident was analysed at (absent: not a git repository). */
  origin?: RepositoryOriginSummary;
  /** The branch, commit and pull request made after approval (incidents since delivery-v1). */
  delivery?: DeliveryRecord;
  /** The worker holding the workspace now (incidents pinned to a host: workflows/host-pinning.ts). */
  host?: string;
  /** Moves from a worker that stopped taking the incident's work to another (in order). */
  moves?: IncidentMove[];
  /** How gate 1 matched: through the incident's code location, or by type alone (and why). */
  reproductionCriterion?: string;
  /** The fidelity rule gate 1 applied to the accepted reproduction. */
  fidelityRule?: FidelityRule;
  /** Artifact name -> absolute path. */
  artifacts: Record<string, string>;
  tokenUsage: TokenUsage;
}

// ---------------------------------------------------------------------------------------------
// Activities: every argument and result. activities/index.ts implements OpsGuardActivities; the
// workflow calls it through proxyActivities<OpsGuardActivities>.
// ---------------------------------------------------------------------------------------------

/** What a fix may touch beyond the default policy (the operator's explicit widening). */
export interface PatchPolicy {
  /** Let the fix change test files, conftest.py, pytest.ini, tox.ini. */
  allowTestChanges: boolean;
  /** Let the fix add broad exception handlers (`except:`, `except Exception`, `except BaseException`). */
  allowBroadExcept: boolean;
  /**
   * Let the fix add code that reaches into the interpreter or the test harness (frames, gc, ctypes,
   * /proc, tracing, audit hooks, pytest's internals). The guard's tripwire still ends any run in
   * which changed code does so; this only switches off the static refusal.
   */
  allowIntrospection: boolean;
  /** Globs (the repository profile's protected-paths) a fix may not change. */
  protectedPaths?: string[];
}

/**
 * What every sandbox run gets from the prepared environment (small: host paths are the worker's
 * business). Absent for incidents started before preparation existed.
 */
export interface SandboxEnvironment {
  /** The prepared dependency folder's cache key (null: nothing to install). */
  depsKey: string | null;
  /** sys.path entries before everything else, relative to the repository root ('.', 'src'). */
  pythonPaths: string[];
  /** Non-secret variables from the repository profile. */
  env: Record<string, string>;
  /** pytest arguments from the profile's test-args (the test selection). */
  testArgs: string[];
}

/** What the preparation step reports (proof.json's environment; history keeps it small). */
export interface EnvironmentSummary {
  image: string;
  imageId: string;
  /** "3.11"; null when a named image's Python could not be told. */
  python: string | null;
  pythonFull: string | null;
  pythonSource: string;
  pythonReason: string;
  depsKey: string | null;
  cacheHit: boolean;
  /** Declaration files read (repository-relative). */
  declarationFiles: string[];
  /** Where the profile came from: '.opsguard.toml', 'pyproject.toml [tool.opsguard]', 'input', or both. */
  profileSources: string[];
  requirements: number;
  installed: { name: string; version: string | null }[];
  /** What was skipped or assumed, and why (at most 30). */
  notes: string[];
  durationMs: number;
  /** The installer's log, in the artifact folder (absent on a cache hit). */
  logPath?: string;
}

export interface PrepareEnvironmentArgs {
  incidentId: string;
  /** The input's image (wins over everything). */
  image?: string;
  /** The input's profile (wins over the repository's, key by key). */
  profile?: RepositoryProfile;
}

export type PrepareEnvironmentResult =
  | {
      ok: true;
      summary: EnvironmentSummary;
      environment: SandboxEnvironment;
      profile: RepositoryProfile;
      /** Who may decide: the worker's configuration merged with the profile's (approval-policy.ts). */
      approvalPolicy?: ApprovalPolicy;
    }
  | { ok: false; reason: string; summary?: EnvironmentSummary; logPath?: string };

/** The sandbox choices every sandbox activity gets from the input. */
export interface SandboxChoice {
  image?: string;
  environment?: SandboxEnvironment;
  limits?: {
    memoryMb?: number;
    cpus?: number;
    /** One reproduction run's deadline. */
    timeoutSeconds?: number;
    /** The whole test run's deadline, and each test's (proof-rules.ts has the defaults). */
    testsTimeoutSeconds?: number;
    perTestSeconds?: number;
    /** A hang incident: how long a reproduction may run before it counts as hung (HANG_AFTER_SECONDS). */
    hangAfterSeconds?: number;
  };
  /** A hang incident's reproduction runs: the runner stops the script after this long (proof-rules.ts). */
  hangAfterSeconds?: number;
}

/** The git commit an incident was analysed at (activities/repository-origin.ts). */
export interface RepositoryOriginSummary {
  /** repoPath inside its git repository ('' at the top; 'services/api' below it). */
  prefix: string;
  commit: string;
  /** The branch checked out then (null: a detached HEAD). */
  branch: string | null;
  /** Files of repoPath that differed from the commit (the workspace copied them as they were). */
  dirty: string[];
}

/** Where and how a verified, approved patch is delivered (profile `[tool.opsguard.delivery]`, input `profile.delivery`). */
export interface DeliveryConfig {
  /** false: stop at `approved` (the team applies patch.diff). Default true. */
  enabled?: boolean;
  /** A remote's name in the repository ('origin') or a URL; absent: the branch stays local. */
  remote?: string;
  /** The branch the pull request targets (default: the branch checked out at analysis). */
  baseBranch?: string;
  /** GitHub "owner/name" for the pull request (default: read from a github remote URL). */
  repository?: string;
  draft?: boolean;
  labels?: string[];
}

/** What delivery did, for the result, proof.json, the state query and the Web UI. */
export interface DeliveryRecord {
  status: 'delivered' | 'failed' | 'skipped';
  /** Why it failed or was skipped, and how to retry; notes on what was done. */
  reason?: string;
  notes: string[];
  branch?: string;
  commit?: string;
  /** The commit the branch starts from, and whether that is the analysed commit or the base branch's newer head. */
  baseCommit?: string;
  onto?: 'analysed' | 'head';
  remote?: string;
  pushed?: boolean;
  pullRequest?: { number: number; url: string; reused: boolean };
  attempts: number;
  at?: string;
}

export interface PlanDeliveryArgs {
  incidentId: string;
  config: DeliveryConfig;
}

export interface PlanDeliveryResult {
  /** False: nothing can be delivered (reason says why; `skip` when that is not a failure). */
  ok: boolean;
  skip?: boolean;
  reason?: string;
  analysedCommit?: string;
  /** The base branch's head now, when it differs from the analysed commit. */
  head?: string;
  baseBranch?: string;
  /** The patch applies cleanly to the newer head: a workspace of it was made for re-verification. */
  appliesToHead?: boolean;
  /** With the patch on the newer head: what it changed there (gate 2's coverage of the change). */
  changedOnHead?: ChangedFile[];
  notes: string[];
}

export interface CreateBranchArgs {
  incidentId: string;
  base: string;
  message: string;
  /** Workflow time of the approval: the commit's dates, so a retry makes the same commit. */
  at: string;
}

export interface CreateBranchResult {
  ok: boolean;
  reason?: string;
  branch: string;
  commit?: string;
  /** The branch already held this very commit (a retry). */
  reused?: boolean;
}

export interface PushBranchArgs {
  incidentId: string;
  remote: string;
  branch: string;
  commit: string;
}

export interface PushBranchResult {
  ok: boolean;
  reason?: string;
  /** False when the remote already had this commit on the branch (a retry). */
  pushed: boolean;
}

export interface OpenPullRequestArgs {
  incidentId: string;
  config: DeliveryConfig;
  branch: string;
  baseBranch: string;
}

export interface OpenPullRequestResult {
  ok: boolean;
  skip?: boolean;
  reason?: string;
  number?: number;
  url?: string;
  reused?: boolean;
}

export interface SetupWorkspaceArgs {
  incidentId: string;
  repoPath: string;
  errorLog: string;
  /**
   * The incident moves here from a worker that stopped taking its work (workflows/host-pinning.ts):
   * rebuild its workspace, keep the origin recorded at the start, and (sameTree) refuse when the
   * repository's content is no longer the digest the incident started on.
   */
  adopt?: { treeDigest: string; sameTree: boolean; from: string };
}

/** The worker holding an incident's workspace: its own task queue, and how long to wait for it. */
export interface IncidentHost {
  /** `<queue>-host-<worker id>`: polled by that worker only. */
  queue: string;
  worker: string;
  /** How long a step may wait on that queue before the incident moves (OPSGUARD_HOST_WAIT_SECONDS). */
  waitSeconds: number;
}

/** An incident moved from one worker to another (its history shows the step that timed out first). */
export interface IncidentMove {
  step: string;
  activity: string;
  from: string;
  to: string | null;
  reason: string;
}

export interface WriteReproductionArgs {
  incidentId: string;
  attempt: number;
  feedback: AttemptFeedback[];
  /** How many hidden variants to keep from the answer (0: none). */
  maxVariants?: number;
  /** The sandbox the answer will run in: the worker makes its containers while the model writes. */
  runsIn?: SandboxChoice;
}

/** The model's reproduction: the primary script (pinned) and the hidden variants. */
export interface AuthoredScript {
  model: ModelCall;
  scriptPath?: string;
  scriptSha256?: string;
  variants?: ReproductionScript[];
}

/** A file the patch changed, and the lines of its new content that changed (for coverage). */
export interface ChangedFile {
  path: string;
  lines: number[];
}

export interface ScriptToRun extends ReproductionScript {
  repeats: number;
  /** How many of its runs, from the first, coverage.py measures (proof-rules.ts); absent: all. */
  coverageRuns?: number;
}

export interface RunReproductionsArgs extends SandboxChoice {
  incidentId: string;
  step: 'reproduce' | 'fix' | 'deliver';
  attempt: number;
  scripts: ScriptToRun[];
  /** Run in the newer head's workspace with the patch (delivery's re-verification), not the incident's. */
  onHead?: boolean;
  /** Containers of this call that run at once. */
  parallel: number;
  /** With a patch applied: what it changed (gate 2). */
  changed?: ChangedFile[];
}

/** One script's runs, in order. */
export interface ScriptRuns {
  name: string;
  role: ReproductionScript['role'];
  runs: RunSummary[];
}

/** One run of one script: what incidents started before proof v2 call. */
export interface RunReproductionArgs extends SandboxChoice {
  incidentId: string;
  scriptPath: string;
  scriptSha256: string;
  step: 'reproduce' | 'fix';
  attempt: number;
}

export interface RunRepoTestsArgs extends SandboxChoice {
  incidentId: string;
  testCommand?: string[];
  label: string;
  /** Baseline run: the incident's signature, to infer fail-to-pass tests. */
  incident?: IncidentSignature;
  /** After a patch: what it changed, and the baseline to compare with. */
  changed?: ChangedFile[];
  baseline?: { resultsPath: string; failToPass: string[]; knownFailing?: string[] };
  /** Run in the newer head's workspace with the patch (delivery's re-verification). */
  onHead?: boolean;
}

export interface WriteFixArgs {
  incidentId: string;
  attempt: number;
  /** The primary reproduction (never a hidden variant). */
  scriptPath: string;
  reproductionStderrPath: string;
  feedback: AttemptFeedback[];
  /** The sandbox the fix will be verified in: the worker makes its containers while the model writes. */
  runsIn?: SandboxChoice;
}

/** The model's fix: the proposal (full file contents) saved as an artifact. */
export interface AuthoredFix {
  model: ModelCall;
  proposalPath?: string;
  files?: string[];
}

export interface ApplyFixArgs {
  incidentId: string;
  attempt: number;
  proposalPath: string;
  patchPolicy?: Partial<PatchPolicy>;
}

export type ApplyFixResult =
  | {
      ok: true;
      changedFiles: string[];
      changed: ChangedFile[];
      diffPath: string;
      /** sha256 of the patch.diff written (the artifact is a copy of it). */
      diffSha256?: string;
      added: number;
      removed: number;
    }
  | { ok: false; reason: string; changedFiles: string[]; changed: ChangedFile[] };

export interface RestoreWorkspaceArgs {
  incidentId: string;
}

export interface WritePrDescriptionArgs {
  incidentId: string;
  proposalPath: string;
  diffPath: string;
}

export interface PrDescription {
  model: ModelCall;
  descriptionPath?: string;
}

/** The fields of the input worth recording in the artifacts (never secrets: the input holds none). */
export interface ArtifactInput {
  repoPath: string;
  /** Absent: the worker's default image (the activity records which). */
  image?: string;
  testCommand?: string[];
  patchPolicy?: Partial<PatchPolicy>;
  knownFailingTests?: string[];
}

export interface WriteArtifactsArgs {
  result: RemediationResult;
  input: ArtifactInput;
  /** For a verified fix: the model's PR description, if it wrote one. */
  prDescriptionPath?: string;
}

export interface RecordDecisionArgs {
  incidentId: string;
  status: IncidentStatus;
  approval: ApprovalDecision | undefined;
}

export interface RecordDeliveryArgs {
  incidentId: string;
  status: IncidentStatus;
  delivery: DeliveryRecord;
}

export interface OpsGuardActivities {
  /** The set-up smoke test's activity: answers from the worker's process. */
  ping(name: string): Promise<string>;
  setupWorkspace(args: SetupWorkspaceArgs): Promise<WorkspaceInfo>;
  prepareEnvironment(args: PrepareEnvironmentArgs): Promise<PrepareEnvironmentResult>;
  verifyDecision(args: VerifyDecisionArgs): Promise<VerifyDecisionResult>;
  writeReproduction(args: WriteReproductionArgs): Promise<AuthoredScript>;
  runReproductions(args: RunReproductionsArgs): Promise<ScriptRuns[]>;
  runReproduction(args: RunReproductionArgs): Promise<RunSummary>;
  runRepoTests(args: RunRepoTestsArgs): Promise<TestRunSummary>;
  writeFix(args: WriteFixArgs): Promise<AuthoredFix>;
  applyFix(args: ApplyFixArgs): Promise<ApplyFixResult>;
  restoreWorkspace(args: RestoreWorkspaceArgs): Promise<void>;
  writePrDescription(args: WritePrDescriptionArgs): Promise<PrDescription>;
  writeArtifacts(args: WriteArtifactsArgs): Promise<Record<string, string>>;
  recordDecision(args: RecordDecisionArgs): Promise<void>;
  planDelivery(args: PlanDeliveryArgs): Promise<PlanDeliveryResult>;
  createDeliveryBranch(args: CreateBranchArgs): Promise<CreateBranchResult>;
  pushDeliveryBranch(args: PushBranchArgs): Promise<PushBranchResult>;
  openPullRequest(args: OpenPullRequestArgs): Promise<OpenPullRequestResult>;
  recordDelivery(args: RecordDeliveryArgs): Promise<void>;
}
