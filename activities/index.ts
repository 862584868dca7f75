import path from 'node:path';
import fs from 'node:fs/promises';
import type Docker from 'dockerode';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ERROR_TYPES } from '../workflows/error-types';
import { withDefaults } from '../sandbox/limits';
import {
  DEFAULT_PER_TEST_SECONDS,
  DEFAULT_TESTS_TIMEOUT_SECONDS,
  FIX_REPEATS,
  REPRODUCTION_REPEATS,
} from '../workflows/proof-rules';
import type { WarmContainers } from '../sandbox/warm-containers';
import type {
  ApplyFixArgs,
  ApplyFixResult,
  OpsGuardActivities,
  PatchPolicy,
  PrepareEnvironmentArgs,
  ApprovalPolicy,
  VerifyDecisionArgs,
  RecordDecisionArgs,
  RecordDeliveryArgs,
  RestoreWorkspaceArgs,
  RunRepoTestsArgs,
  RunReproductionArgs,
  RunReproductionsArgs,
  SandboxChoice,
  SetupWorkspaceArgs,
  WriteArtifactsArgs,
  WriteFixArgs,
  WritePrDescriptionArgs,
  WriteReproductionArgs,
} from '../workflows/incident-types';
import { writeFix, writePrDescription, writeReproduction } from './authoring';
import { incidentPaths, sha256, writeFileAtomic } from './incident-paths';
import type { FolderOwner } from './incident-paths';
import type { ModelClient } from './model-client';
import { applyProposal } from './patch-engine';
import { importsOf } from './module-shadowing';
import { DEFAULT_PATCH_POLICY } from './patch-policy';
import type { FixAnswer } from './model-answers';
import { createSmokeActivities } from './ping';
import { recordDecision, recordDelivery, writeArtifacts } from './proof-artifacts';
import { uploadArtifacts } from './artifact-store';
import type { ArtifactStore } from './artifact-store';
import { faultPoint } from './fault-points';
import type { FaultPoint } from './fault-points';
import { createDeliveryActivities } from './delivery';
import { withHeartbeats } from './heartbeats';
import type { DeliveryDeps } from './delivery';
import { runReproductions } from './reproduction-runs';
import { testDataOf } from './test-data';
import { testSupportCandidates } from './test-support';
import { runRepoTests } from './test-runs';
import { restoreWorkspace, setupWorkspace } from './workspace';
import type { RepositoryLimits } from './workspace';
import type { HostOf } from './incident-host';
import { cacheEntry } from './dependency-cache';
import { verifyDecision } from './decision-signatures';
import { mergePolicies, OPEN_POLICY } from '../workflows/approval-policy';
import { loadSecretMap, redact, restorePlaceholders } from './repo-secrets';
import { prepareEnvironment } from './prepare-environment';
import type { EnvironmentDeps } from './prepare-environment';
import type { RunEnvironment } from '../sandbox/guarded-run';

export interface ActivityDeps {
  docker: Docker;
  artifactsDir: string;
  workDir: string;
  /** Used when the incident does not name an image. */
  defaultImage: string;
  /** Which repositories may be read, and how much (worker/settings.ts RepositorySettings). */
  repositories: RepositoryLimits;
  /** Who may decide, and the approvers' public keys (worker/settings.ts ApprovalSettings). */
  approval?: { policy: ApprovalPolicy; groups: Record<string, string[]>; keysDir: string | null };
  /** Pythons, the dependency cache, the package index (worker/settings.ts EnvironmentSettings). */
  environment: Omit<EnvironmentDeps, 'docker' | 'defaultImage'>;
  /** Built on first use, so incidents that need no model (infra) never need one configured. */
  model?: () => ModelClient;
  patchPolicy?: Partial<PatchPolicy>;
  /** Who commits, where GitHub is, the token (worker/settings.ts DeliverySettings); default: local only. */
  delivery?: DeliveryDeps;
  /** Temporal, for earlier incidents like the current one (context/past-incidents.ts); none: not looked up. */
  temporal?: () => Promise<Client>;
  /** Fault tests only: where to stop and wait to be killed (fault-points.ts). */
  pauseAt?: FaultPoint | null;
  /** This worker's own queue, returned by setupWorkspace to pin the incident here (incident-host.ts). */
  host?: HostOf;
  /** Containers made while the model writes (sandbox/warm-containers.ts); none: every run makes its own. */
  warm?: WarmContainers;
  /** Where artifacts are also kept to outlive this host (artifact-store.ts); none: the folder only. */
  artifactStore?: ArtifactStore;
}

/** Delivery without a configured GitHub: branches and pushes work, pull requests say what is missing. */
export const LOCAL_DELIVERY: DeliveryDeps = {
  author: { name: 'OpsGuard', email: 'opsguard@localhost' },
  githubApiUrl: 'https://api.github.com',
  token: () => undefined,
  webUiUrl: 'http://127.0.0.1:8233',
};

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDeps): OpsGuardActivities {
  const paths = (incidentId: string) => incidentPaths(deps, incidentId);
  /** proof.json again to the store after a decision or a delivery was added to it. */
  const storeProof = async (incidentId: string) => {
    if (!deps.artifactStore) return;
    const proof = path.join(paths(incidentId).artifactDir, 'proof.json');
    await uploadArtifacts(deps.artifactStore, incidentId, { 'proof.json': proof });
  };
  /** Delivery's re-verification runs in the newer head's workspace, its outputs beside the incident's. */
  const runPaths = (incidentId: string, onHead?: boolean) => {
    const p = paths(incidentId);
    return onHead ? { ...p, workspace: p.headWorkspace } : p;
  };
  /** The prompts' repository context: its budget, and where code indexes are cached (one per commit). */
  const promptLimits = {
    ...deps.repositories,
    cacheDir: path.join(deps.environment.cacheDir, 'context'),
    ...(deps.temporal ? { pastIncidents: { client: deps.temporal, artifactsDir: deps.artifactsDir } } : {}),
  };
  let model: ModelClient | undefined;
  const getModel = () => {
    if (!deps.model) {
      throw ApplicationFailure.nonRetryable(
        'These activities were built without a model (createActivities without deps.model)',
        ERROR_TYPES.modelNotConfigured,
      );
    }
    return (model ??= deps.model());
  };
  const sandbox = (c: SandboxChoice) => {
    const { memoryMb, cpus, timeoutSeconds } = c.limits ?? {};
    const env = c.environment;
    const environment: RunEnvironment | undefined = env
      ? {
          depsDir: env.depsKey ? cacheEntry(deps.environment.cacheDir, env.depsKey).site : null,
          pythonPaths: env.pythonPaths,
          env: env.env,
        }
      : undefined;
    return {
      image: c.image ?? deps.defaultImage,
      environment,
      limits: withDefaults({
        ...(memoryMb !== undefined ? { memoryMb } : {}),
        ...(cpus !== undefined ? { cpus } : {}),
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      }),
    };
  };

  /**
   * Ask the model with the containers for its answer's first runs being made meanwhile (the
   * reproduction's or the fix's `repeats` runs of the guarded runner). A failed or cancelled call
   * removes them; an incident that ends before its runs removes them in writeArtifacts.
   */
  const whileContainersWarm = async <T>(
    incidentId: string,
    runsIn: SandboxChoice | undefined,
    purpose: 'reproduction' | 'verification',
    repeats: number,
    ask: () => Promise<T>,
  ): Promise<T> => {
    const warm = deps.warm;
    if (!warm || !runsIn) return await ask();
    const p = paths(incidentId);
    const { image, limits, environment } = sandbox(runsIn);
    const template = { entry: 'opsguard_runner.py' as const, image, limits, workspace: p.workspace, environment };
    warm.prepare({ ...template, incidentId, purpose }, repeats, path.join(p.workDir, 'sandbox-slots'));
    try {
      return await ask();
    } catch (err) {
      await warm.release(incidentId);
      throw err;
    }
  };

  /** The workflow this activity runs for (none when called outside an activity: benchmarks, tests). */
  const folderOwner = (): FolderOwner | undefined => {
    try {
      const { workflowExecution, workflowNamespace } = Context.current().info;
      return workflowExecution && workflowNamespace
        ? { workflowId: workflowExecution.workflowId, namespace: workflowNamespace }
        : undefined;
    } catch {
      return undefined; // Context.current() throws outside an activity
    }
  };

  return withHeartbeats<OpsGuardActivities>({
    ...createSmokeActivities(),

    async setupWorkspace(args: SetupWorkspaceArgs) {
      return await setupWorkspace(deps, args, deps.host, folderOwner());
    },

    /** The profile, the Python and the dependencies (installed once per image and declarations). */
    async prepareEnvironment(args: PrepareEnvironmentArgs) {
      const prepared = await prepareEnvironment(
        { ...deps.environment, docker: deps.docker, defaultImage: deps.defaultImage },
        paths(args.incidentId),
        args,
      );
      if (!prepared.ok) return prepared;
      // Who may decide: the worker's policy, tightened (never widened) by the repository's profile.
      const worker = deps.approval ?? { policy: OPEN_POLICY, groups: {}, keysDir: null };
      const repo = prepared.profile.approval;
      const expand = (names: string[]) =>
        names.flatMap((n) => (n.startsWith('group:') ? (worker.groups[n.slice(6)] ?? []) : [n]));
      const approvalPolicy = mergePolicies(
        { ...worker.policy, approvers: worker.policy.approvers ? expand(worker.policy.approvers) : null },
        repo ? { ...repo, approvers: repo.approvers ? expand(repo.approvers) : undefined } : undefined,
      );
      return { ...prepared, approvalPolicy };
    },

    /** A signed decision, checked against the approver's public key (OPSGUARD_APPROVER_KEYS). */
    async verifyDecision(args: VerifyDecisionArgs) {
      return await verifyDecision(deps.approval?.keysDir ?? null, args);
    },

    /** The reproduction and (with maxVariants) hidden variants: other inputs, same bug. */
    async writeReproduction(args: WriteReproductionArgs) {
      return await whileContainersWarm(args.incidentId, args.runsIn, 'reproduction', REPRODUCTION_REPEATS, () =>
        writeReproduction(getModel(), paths(args.incidentId), args, promptLimits),
      );
    },

    /** Scripts (the reproduction and its variants), each run `repeats` times under the guard. */
    async runReproductions(args: RunReproductionsArgs) {
      const p = runPaths(args.incidentId, args.onHead);
      return await runReproductions(
        deps.docker,
        p,
        { ...args, ...sandbox(args), outDir: p.attempt(args.step, args.attempt) },
        deps.warm,
      );
    },

    /** One run of one script: what incidents started before proof v2 call (legacy/remediate-incident-v1.ts). */
    async runReproduction(args: RunReproductionArgs) {
      const p = paths(args.incidentId);
      const [ran] = await runReproductions(deps.docker, p, {
        ...sandbox(args),
        incidentId: args.incidentId,
        outDir: p.attempt(args.step, args.attempt),
        parallel: 1,
        scripts: [
          { name: 'reproduction', role: 'primary', path: args.scriptPath, sha256: args.scriptSha256, repeats: 1 },
        ],
      });
      const first = ran?.runs[0];
      if (!first) throw new Error('the reproduction did not run'); // runReproductions runs every repeat
      return first;
    },

    async runRepoTests(args: RunRepoTestsArgs) {
      const p = runPaths(args.incidentId, args.onHead);
      const { image, limits, environment } = sandbox(args);
      return await runRepoTests(deps.docker, p, {
        ...args,
        image,
        environment,
        testArgs: args.environment?.testArgs,
        limits: { ...limits, timeoutSeconds: args.limits?.testsTimeoutSeconds ?? DEFAULT_TESTS_TIMEOUT_SECONDS },
        perTestSeconds: args.limits?.perTestSeconds ?? DEFAULT_PER_TEST_SECONDS,
        outDir: path.join(p.artifactDir, 'attempts', args.label),
      });
    },

    async writeFix(args: WriteFixArgs) {
      return await whileContainersWarm(args.incidentId, args.runsIn, 'verification', FIX_REPEATS, () =>
        writeFix(getModel(), paths(args.incidentId), args, promptLimits),
      );
    },

    /** Check the proposal against the patch policy, diff it against the baseline, write it. */
    async applyFix(args: ApplyFixArgs): Promise<ApplyFixResult> {
      const p = paths(args.incidentId);
      const proposal = JSON.parse(await fs.readFile(args.proposalPath, 'utf8')) as FixAnswer;
      // The operator may widen the policy explicitly, per incident (input.patchPolicy) or per worker.
      const policy = { ...DEFAULT_PATCH_POLICY, ...deps.patchPolicy, ...args.patchPolicy };
      // The model saw the repository's secrets as placeholders; the written files get the values back.
      const secrets = await loadSecretMap(p.secrets);
      const files: FixAnswer['files'] = [];
      const foreign: string[] = [];
      for (const f of proposal.files) {
        const restored = restorePlaceholders(f.content, secrets);
        if (restored.ok) files.push({ ...f, content: restored.content });
        else foreign.push(`${f.path} (${restored.placeholders.join(', ')})`);
      }
      if (foreign.length) {
        const reason = `The patch was refused: ${foreign.join('; ')} would be written with a redaction placeholder OpsGuard did not issue; keep every [REDACTED:...] placeholder exactly as shown and OpsGuard writes the original value.`;
        return { ok: false, reason, changedFiles: [], changed: [] };
      }
      const testData = policy.allowTestChanges ? null : await testDataOf(p);
      const testSupport = policy.allowTestChanges ? null : await testSupportCandidates(p);
      const outcome = await applyProposal(p, files, policy, await importsOf(p.environment), testData, testSupport);
      if (!outcome.ok) return { ok: false, reason: outcome.reason, changedFiles: [], changed: [] };
      const diffPath = path.join(p.attempt('fix', args.attempt), 'patch.diff');
      // The artifact shows the values as placeholders (context lines too); the workspace holds the values.
      const diffText = redact(outcome.diff, secrets).text;
      await writeFileAtomic(diffPath, diffText);
      return {
        ok: true,
        changedFiles: outcome.changedFiles,
        changed: outcome.changed,
        diffPath,
        diffSha256: sha256(diffText),
        added: outcome.added,
        removed: outcome.removed,
      };
    },

    async restoreWorkspace(args: RestoreWorkspaceArgs) {
      await restoreWorkspace(paths(args.incidentId));
    },

    async writePrDescription(args: WritePrDescriptionArgs) {
      return await writePrDescription(getModel(), paths(args.incidentId), args);
    },

    async writeArtifacts(args: WriteArtifactsArgs) {
      // The proof is complete: no run of this incident needs a container made ahead any more.
      await deps.warm?.release(args.result.incidentId);
      const written = await writeArtifacts(
        paths(args.result.incidentId),
        { ...args, input: { ...args.input, image: args.input.image ?? deps.defaultImage } },
        () => faultPoint('between-artifacts', deps.pauseAt),
      );
      if (deps.artifactStore) await uploadArtifacts(deps.artifactStore, args.result.incidentId, written);
      return written;
    },

    async recordDecision(args: RecordDecisionArgs) {
      await recordDecision(paths(args.incidentId), args);
      await storeProof(args.incidentId);
    },

    ...createDeliveryActivities(deps.delivery ?? LOCAL_DELIVERY, paths),

    async recordDelivery(args: RecordDeliveryArgs) {
      await recordDelivery(paths(args.incidentId), args);
      await storeProof(args.incidentId);
    },
  });
}

export type { OpsGuardActivities };
