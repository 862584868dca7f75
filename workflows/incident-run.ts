/**
 * One incident's run inside the workflow: its input, the result being built, the operator's view of
 * it (tracker), the approval handlers, and the activities with their options. The steps
 * (reproduce.ts, fix.ts, prove-and-decide.ts) take this and return values whose fields are all set.
 */
import { log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { registerApproval } from './approval';
import { registerDeliveryRetry } from './delivery-retry';
import { waitingForDocker } from './docker-wait';
import type { DeliveryRetry } from './delivery-retry';
import type { Approval } from './approval';
import { incidentFingerprint } from './fingerprint';
import { incidentIdOf } from './incident-input';
import { createTracker } from './incident-tracker';
import type { Tracker } from './incident-tracker';
import type { IncidentInput } from './incident-input';
import type { RepositoryProfile } from './repo-profile';
import { OPEN_POLICY } from './approval-policy';
import type {
  ApplyFixArgs,
  IncidentHost,
  PrepareEnvironmentArgs,
  WorkspaceInfo,
  ApprovalPolicy,
  ArtifactInput,
  DeliveryConfig,
  EnvironmentSummary,
  SandboxEnvironment,
  IncidentStatus,
  ModelCall,
  OpsGuardActivities,
  RemediationResult,
  RunSummary,
  Step,
} from './incident-types';
import { FILES_ACTIVITY } from './retry-rules';
import { SANDBOX_QUEUE_V1, SANDBOX_SCHEDULE_TO_START, isSandboxActivity, sandboxTaskQueue } from './task-queues';
import { TAG } from './log-tags';
import { hostLost, isPinned, moveIncident, onHost } from './host-pinning';

export interface IncidentRun {
  /** The input; after preparation, with the repository profile merged under it (the input wins). */
  input: IncidentInput;
  readonly incidentId: string;
  readonly result: RemediationResult;
  readonly tracker: Tracker;
  readonly approval: Approval;
  /** What every sandbox activity gets from the input: the image and the limits. */
  sandbox: {
    image?: string;
    limits?: IncidentInput['limits'];
    environment?: SandboxEnvironment;
    /** Set for a hang incident: reproduction runs are stopped after this long (proof-rules.ts). */
    hangAfterSeconds?: number;
  };
  /** After preparation: its image and environment for every later run, its profile under the input. */
  useEnvironment(prepared: {
    summary: EnvironmentSummary;
    environment: SandboxEnvironment;
    profile: RepositoryProfile;
    approvalPolicy?: ApprovalPolicy;
  }): void;
  /** The incident runs the approval-v2 rules (decisions bound to the patch and the policy). */
  readonly bound: boolean;
  /** The `deliver` update: a retry after delivery_failed. */
  readonly deliveryRetry: DeliveryRetry;
  /** Where an approved fix is delivered: the repository profile's (and the input's) delivery table. */
  delivery: DeliveryConfig;
  /** The activities with these options, and a one-line summary for the Web UI. */
  act(options: ActivityOptions, summary: string): OpsGuardActivities;
  /** The worker holding the workspace (host-pinning.ts); absent: the steps go to the shared queues. */
  host?: IncidentHost;
  /** The workspace's content digest at setup, checked when the incident moves. */
  treeDigest?: string;
  /** Pin the incident to the worker that made this workspace (setupWorkspace's answer). */
  pin(workspace: WorkspaceInfo): void;
  /** How the environment was prepared (prepared again on the new worker after a move). */
  environmentArgs?: PrepareEnvironmentArgs;
  /** The fix applied to the workspace now (applied again on the new worker after a move). */
  appliedFix?: ApplyFixArgs;
  transition(step: Step): void;
  countTokens(call: ModelCall): void;
  /** Log a container run the way the seed's README does (`${TAG.docker} exit_code=...`). */
  dockerLog(run: RunSummary, label?: string): void;
  /** Write the report and proof.json for an ending without a verified fix, and end there. */
  finish(status: IncidentStatus, reason: string): Promise<RemediationResult>;
}

/** The fields of the input worth recording in the artifacts (never secrets: the input holds none). */
export function artifactInput(input: IncidentInput): ArtifactInput {
  return {
    repoPath: input.repoPath,
    image: input.image,
    testCommand: input.testCommand,
    patchPolicy: input.patchPolicy,
    knownFailingTests: input.knownFailingTests,
  };
}

/**
 * `bound`: the incident runs the approval-v2 rules (decisions bound to the patch's hash, checked
 * against the approval policy, signatures verified); false for incidents started before them.
 */
export function openIncident(input: IncidentInput, workflowId: string, bound = false): IncidentRun {
  const incidentId = incidentIdOf(input, workflowId);
  const result: RemediationResult = {
    incidentId,
    status: 'running',
    classification: null,
    reason: '',
    reproductionAttempts: [],
    fixAttempts: [],
    artifacts: {},
    tokenUsage: { inputTokens: 0, outputTokens: 0 },
    redactions: [],
    fingerprint: incidentFingerprint(input.repoPath, input.errorLog),
  };
  const tracker = createTracker(result, input.repoPath);
  let policy: ApprovalPolicy = OPEN_POLICY;
  const approval = registerApproval(
    result,
    () => tracker.step,
    bound
      ? {
          policy: () => policy,
          startedBy: input.startedBy ?? null,
          verify: (args) =>
            proxyActivities<OpsGuardActivities>({
              ...FILES_ACTIVITY,
              summary: `verify ${args.by}'s signed decision`,
            }).verifyDecision(args),
        }
      : undefined,
  );
  const deliveryRetry = registerDeliveryRetry(result);
  // Every step waits out an engine that does not answer (docker-wait.ts) instead of failing. Once the
  // incident is pinned, every step that reads its workspace goes to that worker's own queue and a
  // worker that stops taking them makes the incident move (host-pinning.ts); before that (or for an
  // incident not pinned), container steps go to the sandbox queue, polled only by workers whose
  // engine answers (task-queues.ts).
  const act = (options: ActivityOptions, summary: string): OpsGuardActivities => {
    const proxied = proxyActivities<OpsGuardActivities>({ ...options, summary });
    let onSandboxQueue: OpsGuardActivities | undefined;
    const shared = (name: string): OpsGuardActivities => {
      const sandbox = isSandboxActivity(name) && patched(SANDBOX_QUEUE_V1);
      return sandbox
        ? (onSandboxQueue ??= proxyActivities<OpsGuardActivities>({
            ...options,
            summary,
            taskQueue: sandboxTaskQueue(workflowInfo().taskQueue),
            scheduleToStartTimeout: SANDBOX_SCHEDULE_TO_START,
          }))
        : proxied;
    };
    return new Proxy(proxied, {
      get(target, name) {
        if (typeof name !== 'string') return Reflect.get(target, name) as unknown;
        return async (...args: unknown[]) => {
          for (;;) {
            const host = isPinned(name) ? run.host : undefined;
            const from = host
              ? proxyActivities<OpsGuardActivities>({ ...onHost(options, host), summary })
              : shared(name);
            const fn = Reflect.get(from, name) as (...a: unknown[]) => Promise<unknown>;
            try {
              return await waitingForDocker(() => fn(...args), tracker, { scheduleToStartIsDocker: !host });
            } catch (err) {
              if (!host || !hostLost(err)) throw err;
              await moveIncident(run, name);
            }
          }
        };
      },
    });
  };

  const run: IncidentRun = {
    bound,
    input,
    incidentId,
    result,
    tracker,
    approval,
    deliveryRetry,
    delivery: input.profile?.delivery ?? {},
    sandbox: { image: input.image, limits: input.limits },
    useEnvironment({ summary, environment, profile, approvalPolicy }) {
      if (approvalPolicy) policy = approvalPolicy;
      run.delivery = { ...profile.delivery, ...run.input.profile?.delivery };
      run.input = withProfile(run.input, profile);
      const { hangAfterSeconds } = run.sandbox; // kept when a moved incident prepares again
      run.sandbox = {
        image: summary.image,
        limits: run.input.limits,
        environment,
        ...(hangAfterSeconds ? { hangAfterSeconds } : {}),
      };
    },
    act,
    pin(workspace) {
      run.host = workspace.host;
      run.treeDigest ??= workspace.treeDigest;
      if (workspace.host) result.host = workspace.host.worker;
    },
    transition: (step) => tracker.transition(step),
    countTokens(call) {
      result.tokenUsage.inputTokens += call.usage.inputTokens;
      result.tokenUsage.outputTokens += call.usage.outputTokens;
    },
    dockerLog(run, label) {
      log.info(
        `${TAG.docker}${label ? ` ${label}` : ''} exit_code=${run.exitCode}${run.exception ? ` exception=${run.exception.type}` : ''}${run.timedOut ? ' timed_out' : ''}${run.oomKilled ? ' out_of_memory' : ''}${run.tripwire ? ` tripwire=${run.tripwire.event}` : ''}`,
        { incidentId },
      );
      // Limits the daemon could not enforce are surfaced (and kept in proof.json), never ignored.
      for (const warning of run.warnings)
        log.warn(`${TAG.docker} the daemon dropped a limit: ${warning}`, { incidentId });
    },
    async finish(status, reason) {
      result.reason = reason;
      tracker.transition('write_artifacts');
      result.artifacts = await act(FILES_ACTIVITY, 'write the failure or infra report and proof.json').writeArtifacts({
        result: { ...result, status },
        input: artifactInput(run.input),
      });
      tracker.setStatus(status);
      log.info(`${TAG.end} ${reason}`, { incidentId, status });
      return result;
    },
  };
  return run;
}

/** The repository profile under the input: what the input says wins, key by key. */
export function withProfile(input: IncidentInput, profile: RepositoryProfile): IncidentInput {
  const { prepareTimeoutSeconds: _prepare, ...limits } = profile.limits ?? {};
  const known = [...(profile.knownFailingTests ?? []), ...(input.knownFailingTests ?? [])];
  return {
    ...input,
    ...((input.testCommand ?? profile.testCommand) ? { testCommand: input.testCommand ?? profile.testCommand } : {}),
    ...(known.length ? { knownFailingTests: [...new Set(known)] } : {}),
    ...(Object.keys(limits).length || input.limits ? { limits: { ...limits, ...input.limits } } : {}),
    ...(profile.protectedPaths?.length
      ? { patchPolicy: { ...input.patchPolicy, protectedPaths: profile.protectedPaths } }
      : {}),
  };
}
