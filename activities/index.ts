import path from 'node:path';
import fs from 'node:fs/promises';
import type Docker from 'dockerode';
import { withDefaults } from '../sandbox/limits';
import type { SandboxLimits } from '../sandbox/limits';
import type { AttemptFeedback } from './prompts';
import type { ApprovalDecision, RemediationResult } from '../workflows/incident-types';
import type { IncidentSignature } from '../workflows/gates';
import { writeFix, writePrDescription, writeReproduction } from './authoring';
import { incidentPaths, writeFileAtomic } from './incident-paths';
import { createModelClient, modelConfigFromEnv } from './model-client';
import type { ModelClient } from './model-client';
import { applyProposal } from './patch-engine';
import { DEFAULT_PATCH_POLICY } from './patch-policy';
import type { PatchPolicy } from './patch-policy';
import type { FixAnswer } from './model-answers';
import { createSmokeActivities } from './ping';
import { recordDecision, writeArtifacts } from './proof-artifacts';
import { runRepoTests, runReproduction } from './sandbox-runs';
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
  limits?: Partial<Pick<SandboxLimits, 'memoryMb' | 'cpus' | 'timeoutSeconds'>>;
}

/** Every activity the worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const paths = (incidentId: string) => incidentPaths(deps, incidentId);
  let model: ModelClient | undefined;
  const getModel = () => (model ??= (deps.model ?? (() => createModelClient(modelConfigFromEnv())))());
  const sandbox = (c: SandboxChoice) => ({ image: c.image ?? deps.defaultImage, limits: withDefaults(c.limits) });

  return {
    ...createSmokeActivities(),

    async setupWorkspace(args: { incidentId: string; repoPath: string; errorLog: string }) {
      return await setupWorkspace(deps, args);
    },

    async writeReproduction(args: { incidentId: string; attempt: number; feedback: AttemptFeedback[] }) {
      return await writeReproduction(getModel(), paths(args.incidentId), args);
    },

    async runReproduction(
      args: SandboxChoice & {
        incidentId: string;
        scriptPath: string;
        scriptSha256: string;
        step: 'reproduce' | 'fix';
        attempt: number;
      },
    ) {
      const p = paths(args.incidentId);
      return await runReproduction(deps.docker, p, {
        ...args,
        ...sandbox(args),
        outDir: p.attempt(args.step, args.attempt),
        purpose: args.step === 'reproduce' ? 'reproduction' : 'verification',
      });
    },

    async runRepoTests(
      args: SandboxChoice & {
        incidentId: string;
        testCommand?: string[];
        label: string;
        /** Baseline run: infer fail-to-pass tests from the incident. */
        incident?: IncidentSignature;
        /** After a patch: compare with the baseline's per-test results. */
        baseline?: { resultsPath: string; failToPass: string[] };
      },
    ) {
      const p = paths(args.incidentId);
      return await runRepoTests(deps.docker, p, {
        ...args,
        ...sandbox(args),
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
      if (!outcome.ok) return { ok: false as const, reason: outcome.reason, changedFiles: [] as string[] };
      const diffPath = path.join(p.attempt('fix', args.attempt), 'patch.diff');
      await writeFileAtomic(diffPath, outcome.diff);
      return {
        ok: true as const,
        changedFiles: outcome.changedFiles,
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
