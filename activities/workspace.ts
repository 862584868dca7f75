import { importTarget } from './import-target';
import { loadOrigin, readOrigin, saveOrigin } from './repository-origin';
import type { HostOf } from './incident-host';
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parseTraceback, shortTypeName } from '../workflows/traceback';
import { FUNCTION_UNKNOWN, stripAnsi } from '../workflows/log-unwrap';
import { functionAtLine, locateFrame } from './frame-location';
import type { LocatedFrame } from '../workflows/classify-error';
import type { SetupWorkspaceArgs, WorkspaceInfo } from '../workflows/incident-types';
import { linkTree } from './copy-tree';
import { baselineClasses, baselineDigest, baselineSecrets, collectBaselines, takeBaseline } from './shared-baseline';
import { treeState } from './tree-state';
import type { TreeState } from './tree-state';
import { incidentPaths, OWNER_FILE, writeFileAtomic } from './incident-paths';
import { redactSecrets } from './redact-secrets';
import { isSecretFile, redact, saveSecretMap } from './repo-secrets';
import type { FolderOwner, IncidentPaths } from './incident-paths';
import { ERROR_TYPES } from '../workflows/error-types';

/** What the model and the sandbox activities need to know about the incident, kept out of history. */
export interface IncidentContext {
  incidentId: string;
  repoPath: string;
  errorLog: string;
  exceptionType: string | null;
  frames: LocatedFrame[];
  /** Whether the repository has test files (test_*.py, *_test.py); the patch policy keeps it so. */
  testsFound: boolean;
}

export async function readContext(paths: IncidentPaths): Promise<IncidentContext> {
  return JSON.parse(await fs.readFile(paths.context, 'utf8')) as IncidentContext;
}

/** The stripped source line a frame points at (for telling a check from the code it checks). */
async function sourceLine(root: string, rel: string, line: number): Promise<string | undefined> {
  const text = await fs.readFile(path.join(root, rel), 'utf8').catch(() => null);
  return text?.split('\n')[line - 1]?.trim().slice(0, 200);
}

/** Which repositories a worker may read, and how much of them (worker/settings.ts). */
export interface RepositoryLimits {
  roots: string[];
  maxBytes: number;
  promptFileBytes: number;
  /** Tokens of repository context per prompt (context/incident-context.ts; default 8000). */
  contextTokens?: number;
  /** Retrieval tool calls per fix attempt (context/retrieval-tools.ts; default 8, 0: none). */
  modelToolCalls?: number;
}

/**
 * The repository's real path and its tree state (tree-state.ts) when it is under one of the allowed
 * roots (after every symlink) and within the size limit, else a non-retryable failure naming the
 * setting. Checked before anything is copied; the one walk also keys the shared baseline.
 */
async function allowedRepository(
  repoPath: string,
  limits: RepositoryLimits,
): Promise<{ real: string; state: TreeState }> {
  const real = await fs.realpath(repoPath);
  const roots = await Promise.all(limits.roots.map((r) => fs.realpath(r).catch(() => path.resolve(r))));
  const inside = roots.some(
    (root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep),
  );
  if (!inside) {
    throw ApplicationFailure.nonRetryable(
      `repoPath ${repoPath}${real !== repoPath ? ` (really ${real})` : ''} is outside the folders this worker may read (OPSGUARD_REPO_ROOTS: ${limits.roots.join(':')})`,
      ERROR_TYPES.repoNotAllowed,
    );
  }
  const state = await treeState(real, limits.maxBytes);
  if (state.overLimit) {
    throw ApplicationFailure.nonRetryable(
      `repoPath ${repoPath} holds more than ${Math.round(limits.maxBytes / 1048576)} MiB (OPSGUARD_REPO_MAX_MB); remediate a smaller checkout`,
      ERROR_TYPES.repoNotAllowed,
    );
  }
  return { real, state };
}

export function isTestFile(rel: string): boolean {
  const base = path.basename(rel);
  return /^test_.*\.py$|_test\.py$/.test(base);
}

/**
 * Step 1: an isolated workspace for this incident. The original is only read: copied once per
 * content into a shared read-only baseline (shared-baseline.ts), which the incident's workspace
 * hard-links to. The incident's folder is built aside and renamed into place: whole or absent.
 */
export async function setupWorkspace(
  roots: { artifactsDir: string; workDir: string; repositories: RepositoryLimits },
  args: SetupWorkspaceArgs,
  host: HostOf = () => null,
  owner?: FolderOwner,
): Promise<WorkspaceInfo> {
  const stat = await fs.stat(args.repoPath).catch(() => null);
  // A folder the worker's user may not list (or enter) is as good as absent: said, not retried.
  const readable = await fs
    .access(args.repoPath, fsConstants.R_OK | fsConstants.X_OK)
    .then(() => true)
    .catch(() => false);
  if (!stat?.isDirectory() || !readable) {
    throw ApplicationFailure.nonRetryable(
      `repoPath ${args.repoPath} is not a directory the worker can read${stat?.isDirectory() ? ` (it is a directory the worker's user, uid ${process.getuid?.() ?? '?'}, may not read)` : ''}`,
      ERROR_TYPES.repoNotFound,
    );
  }
  const repo = await allowedRepository(args.repoPath, roots.repositories);
  const paths = incidentPaths(roots, args.incidentId);
  const pinnedTo = host();
  if (args.adopt) await mustSeeArtifacts(paths, args.adopt.from);
  // The repository copied once per content and shared (shared-baseline.ts); this incident's folder
  // links to it and hard-links its workspace to it, built aside and renamed in: whole or absent.
  const baseline = await takeBaseline(roots.workDir, repo.real, repo.state);
  await fs.rm(paths.workDir, { recursive: true, force: true });
  const staging = `${paths.workDir}.staging`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await fs.symlink(path.relative(paths.workDir, baseline.tree), path.join(staging, 'baseline'));
  await linkTree(baseline.tree, path.join(staging, 'workspace'));
  if (owner) await fs.writeFile(path.join(staging, OWNER_FILE), JSON.stringify(owner));
  await fs.rename(staging, paths.workDir);
  await collectBaselines(roots.workDir).catch(() => undefined);

  const report = baseline.report;
  const repoFiles = baseline.files;
  // The content digest only serves a move: computed for pinned incidents (once per baseline).
  const digest = pinnedTo || args.adopt ? await baselineDigest(baseline) : undefined;
  if (args.adopt?.sameTree && digest !== args.adopt.treeDigest) {
    await fs.rm(paths.workDir, { recursive: true, force: true });
    throw ApplicationFailure.nonRetryable(
      `The incident cannot move from worker ${args.adopt.from}: ${args.repoPath} is no longer the tree it started on (content digest ${digest?.slice(0, 12)}, was ${args.adopt.treeDigest.slice(0, 12)}), so its reproduction and fix attempts would not be about the same code. Start a new incident on the current repository.`,
      ERROR_TYPES.repositoryChanged,
    );
  }

  // The commit analysed (delivery branches from it); a folder outside git is fine, and noted. A moved
  // incident keeps the origin recorded when it started (a copy beside its artifacts).
  const originCopy = path.join(paths.artifactDir, 'origin.json');
  const origin = args.adopt ? await recordedOrigin(originCopy) : await readOrigin(args.repoPath);
  await saveOrigin(paths.origin, origin.origin, origin.why);
  await saveOrigin(originCopy, origin.origin, origin.why);

  // The repository's secret values, found once: everything that leaves the worker is redacted with them.
  const secrets = await baselineSecrets(baseline);
  await saveSecretMap(paths.secrets, secrets);
  if (report.unreadable.length) {
    // Reported with what was kept from the model (proof.json), not fatal.
    const skipped = report.unreadable.slice(0, 200).map((file) => ({ file, why: 'the worker cannot read it' }));
    await writeFileAtomic(paths.repoRedactions, JSON.stringify({ withheld: [], redacted: {}, skipped }, null, 2));
  }
  const tb = parseTraceback(args.errorLog);
  const frames: LocatedFrame[] = [];
  for (const f of tb?.frames ?? []) {
    const repoPath = await locateFrame(paths.baseline, f, repoFiles);
    // A frame printed without its function (pytest's --tb=line) is named from the source.
    const func =
      repoPath && f.func === FUNCTION_UNKNOWN
        ? ((await functionAtLine(paths.baseline, repoPath, f.line)) ?? f.func)
        : f.func;
    frames.push({
      ...f,
      func,
      repoPath,
      ...(repoPath && !isSecretFile(repoPath)
        ? { source: redact((await sourceLine(paths.baseline, repoPath, f.line)) ?? '', secrets).text }
        : {}),
    });
  }
  const repoDefinesException = tb?.exceptionType
    ? (await baselineClasses(baseline)).has(shortTypeName(tb.exceptionType))
    : false;
  // An import failure: whether the module it names is the repository's (workflows/import-errors.ts).
  const imported = importTarget(tb?.exceptionType ?? null, tb?.message ?? '', repoFiles);

  // The model and the artifacts only ever see the redacted log, without its colour codes.
  const redacted = redactSecrets(stripAnsi(args.errorLog));
  const context: IncidentContext = {
    incidentId: args.incidentId,
    repoPath: args.repoPath,
    errorLog: redacted.text,
    exceptionType: tb?.exceptionType ?? null,
    frames,
    testsFound: repoFiles.some(isTestFile),
  };
  await writeFileAtomic(paths.context, JSON.stringify(context, null, 2));
  await writeFileAtomic(path.join(paths.artifactDir, 'incident.log'), redacted.text);
  return {
    workspacePath: paths.workspace,
    baselinePath: paths.baseline,
    artifactDir: paths.artifactDir,
    fileCount: report.files,
    baseline: {
      key: baseline.key,
      shared: baseline.shared,
      reused: baseline.reused,
      ...(baseline.why ? { why: baseline.why } : {}),
    },
    skippedSymlinks: report.skippedSymlinks,
    frames,
    exceptionType: tb?.exceptionType ?? null,
    exceptionMessage: redactSecrets((tb?.message ?? '').slice(0, 500)).text,
    repoDefinesException,
    ...(imported ? { importTarget: imported } : {}),
    testsFound: context.testsFound,
    redactions: redacted.redactions,
    origin: origin.origin
      ? {
          prefix: origin.origin.prefix,
          commit: origin.origin.commit,
          branch: origin.origin.branch,
          dirty: origin.origin.dirty,
        }
      : null,
    ...(origin.why ? { originNote: origin.why } : {}),
    ...(digest ? { treeDigest: digest } : {}),
    ...(pinnedTo ? { host: pinnedTo } : {}),
  };
}

/** The origin a moved incident recorded when it started; null (and why) when it had none. */
async function recordedOrigin(file: string): Promise<Awaited<ReturnType<typeof readOrigin>>> {
  const { origin, why } = await loadOrigin(file);
  return origin ? { origin } : { origin: null, why };
}

/**
 * A moved incident's attempts (scripts, answers, patches) are in its artifact folder: a worker that
 * cannot see it cannot continue the incident, and says how to make it see it.
 */
async function mustSeeArtifacts(paths: IncidentPaths, from: string): Promise<void> {
  const seen = await fs
    .access(path.join(paths.artifactDir, 'incident.log'))
    .then(() => true)
    .catch(() => false);
  if (!seen) {
    throw ApplicationFailure.nonRetryable(
      `The incident cannot move from worker ${from}: its artifact folder ${paths.artifactDir} is not on this worker. Workers that may take over each other's incidents need OPSGUARD_ARTIFACTS_DIR on a folder they all share (NFS, EFS...).`,
      ERROR_TYPES.incidentFilesLost,
    );
  }
}

/** After a failed fix attempt: the workspace becomes the baseline again, whole. */
export async function restoreWorkspace(paths: IncidentPaths): Promise<void> {
  const staging = `${paths.workspace}.staging`;
  await fs.rm(staging, { recursive: true, force: true });
  await linkTree(paths.baseline, staging);
  await fs.rm(paths.workspace, { recursive: true, force: true });
  await fs.rename(staging, paths.workspace);
}
