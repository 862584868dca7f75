import path from 'node:path';
import fs from 'node:fs/promises';
import type Docker from 'dockerode';
import { withDefaults } from '../sandbox/limits';
import type { SandboxLimits } from '../sandbox/limits';
import { DEFAULT_PER_TEST_SECONDS, DEFAULT_TESTS_TIMEOUT_SECONDS } from '../workflows/proof-rules';
import type {
  ApprovalDecision,
  AttemptFeedback,
  RemediationResult,
  RunSummary,
  TestRunSummary,
} from '../workflows/incident-types';
import type { IncidentSignature } from '../workflows/reproduction-gate';
import { writeFix, writePrDescription, writeReproduction } from './authoring';
import { incidentPaths, writeFileAtomic } from './incident-paths';
import { createModelClient, modelConfigFromEnv } from './model-client';
import type { ModelClient } from './model-client';
import { applyProposal } from './patch-engine';
import type { ChangedFile } from './patch-engine';
import { DEFAULT_PATCH_POLICY } from './patch-policy';
import type { PatchPolicy } from './patch-policy';
import type { FixAnswer } from './model-answers';
import { createSmokeActivities } from './ping';
import { recordDecision, writeArtifacts } from './proof-artifacts';
import { runReproductions } from './reproduction-runs';
import type { ScriptRuns, ScriptToRun } from './reproduction-runs';
import { runRepoTests } from './test-runs';
import { restoreWorkspace, setupWorkspace } from './workspace';

export interface ActivityDeps {
  docker: Docker;
  artifactsDir: string;
  workDir: string;
  /** Used when the incident does not name an image. */
  defaultImage: string;
  /** Built on first use, so incidents that need no model (infra) never need one configured. */
  model?: () => ModelClient;
  patchPolicy?: Partial<PatchPolicy>;
}

/** Sandbox choices the workflow passes through from its input. */
export interface SandboxChoice {
  image?: string;
  limits?: Partial<Pick<SandboxLimits, 'memoryMb' | 'cpus' | 'timeoutSeconds'>> & {
    /** The whole test run's deadline, and each test's (proof-rules.ts has the defaults). */
    testsTimeoutSeconds?: number;
    perTestSeconds?: number;
  };
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const paths = (incidentId: string) => incidentPaths(deps, incidentId);
  let model: ModelClient | undefined;
  const getModel = () => (model ??= (deps.model ?? (() => createModelClient(modelConfigFromEnv())))());
  const sandbox = (c: SandboxChoice) => {
    const { memoryMb, cpus, timeoutSeconds } = c.limits ?? {};
    return {
      image: c.image ?? deps.defaultImage,
      limits: withDefaults({
        ...(memoryMb !== undefined ? { memoryMb } : {}),
        ...(cpus !== undefined ? { cpus } : {}),
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      }),
    };
  };

  return {
    ...createSmokeActivities(),

    async setupWorkspace(args: { incidentId: string; repoPath: string; errorLog: string }) {
      return await setupWorkspace(deps, args);
    },

    /** The reproduction and (with maxVariants) hidden variants: other inputs, same bug. */
    async writeReproduction(args: {
      incidentId: string;
      attempt: number;
      feedback: AttemptFeedback[];
      maxVariants?: number;
    }) {
      return await writeReproduction(getModel(), paths(args.incidentId), args);
    },

    /** Scripts (the reproduction and its variants), each run `repeats` times under the guard. */
    async runReproductions(
      args: SandboxChoice & {
        incidentId: string;
        step: 'reproduce' | 'fix';
        attempt: number;
        scripts: ScriptToRun[];
        parallel: number;
        /** With a patch applied: what it changed (gate 2). */
        changed?: ChangedFile[];
      },
    ): Promise<ScriptRuns[]> {
      const p = paths(args.incidentId);
      return await runReproductions(deps.docker, p, {
        ...args,
        ...sandbox(args),
        outDir: p.attempt(args.step, args.attempt),
      });
    },

    /** One run of one script: what incidents started before proof v2 call (legacy/remediate-incident-v1.ts). */
    async runReproduction(
      args: SandboxChoice & {
        incidentId: string;
        scriptPath: string;
        scriptSha256: string;
        step: 'reproduce' | 'fix';
        attempt: number;
      },
    ): Promise<RunSummary> {
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
      return ran?.runs[0] as RunSummary;
    },

    async runRepoTests(
      args: SandboxChoice & {
        incidentId: string;
        testCommand?: string[];
        label: string;
        /** Baseline run: infer fail-to-pass tests from the incident. */
        incident?: IncidentSignature;
        /** After a patch: what it changed, and the baseline to compare with. */
        changed?: ChangedFile[];
        baseline?: { resultsPath: string; failToPass: string[]; knownFailing?: string[] };
      },
    ): Promise<TestRunSummary> {
      const p = paths(args.incidentId);
      const { image, limits } = sandbox(args);
      return await runRepoTests(deps.docker, p, {
        ...args,
        image,
        limits: { ...limits, timeoutSeconds: args.limits?.testsTimeoutSeconds ?? DEFAULT_TESTS_TIMEOUT_SECONDS },
        perTestSeconds: args.limits?.perTestSeconds ?? DEFAULT_PER_TEST_SECONDS,
        outDir: path.join(p.artifactDir, 'attempts', args.label),
      });
    },

    async writeFix(args: {
      incidentId: string;
      attempt: number;
      scriptPath: string;
      reproductionStderrPath: string;
      feedback: AttemptFeedback[];
    }) {
      return await writeFix(getModel(), paths(args.incidentId), args);
    },

    /** Check the proposal against the patch policy, diff it against the baseline, write it. */
    async applyFix(args: {
      incidentId: string;
      attempt: number;
      proposalPath: string;
      patchPolicy?: Partial<PatchPolicy>;
    }) {
      const p = paths(args.incidentId);
      const proposal = JSON.parse(await fs.readFile(args.proposalPath, 'utf8')) as FixAnswer;
      // The operator may widen the policy explicitly, per incident (input.patchPolicy) or per worker.
      const policy = { ...DEFAULT_PATCH_POLICY, ...deps.patchPolicy, ...args.patchPolicy };
      const outcome = await applyProposal(p, proposal.files, policy);
      if (!outcome.ok)
        return {
          ok: false as const,
          reason: outcome.reason,
          changedFiles: [] as string[],
          changed: [] as ChangedFile[],
        };
      const diffPath = path.join(p.attempt('fix', args.attempt), 'patch.diff');
      await writeFileAtomic(diffPath, outcome.diff);
      return {
        ok: true as const,
        changedFiles: outcome.changedFiles,
        changed: outcome.changed,
        diffPath,
        added: outcome.added,
        removed: outcome.removed,
      };
    },

    async restoreWorkspace(args: { incidentId: string }) {
      await restoreWorkspace(paths(args.incidentId));
    },

    async writePrDescription(args: { incidentId: string; proposalPath: string; diffPath: string }) {
      return await writePrDescription(getModel(), paths(args.incidentId), args);
    },

    async writeArtifacts(args: {
      result: RemediationResult;
      input: { repoPath: string; image?: string; testCommand?: string[]; patchPolicy?: Record<string, boolean> };
      prDescriptionPath?: string;
    }) {
      return await writeArtifacts(paths(args.result.incidentId), {
        ...args,
        input: { ...args.input, image: args.input.image ?? deps.defaultImage },
      });
    },

    async recordDecision(args: { incidentId: string; status: string; approval: ApprovalDecision | undefined }) {
      await recordDecision(paths(args.incidentId), args);
    },
  };
}

export type OpsGuardActivities = ReturnType<typeof createActivities>;
