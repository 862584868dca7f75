/**
 * The delivery activities (the workflow decides; these do): plan (which commit to branch from, and a
 * workspace of the newer head for re-verification), the branch and its commit, the push, the pull
 * request. Each is idempotent on its own, so a retried or replayed step, or a worker killed between
 * two of them, never makes a second branch, commit, push or pull request. Expected refusals come back
 * as `ok: false` with the reason (delivery_failed); only transient faults are thrown and retried.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type {
  CreateBranchArgs,
  CreateBranchResult,
  OpenPullRequestArgs,
  OpenPullRequestResult,
  PlanDeliveryArgs,
  PlanDeliveryResult,
  PushBranchArgs,
  PushBranchResult,
} from '../workflows/incident-types';
import {
  branchName,
  changedOnHead,
  commitOnBranch,
  exportPatchedHead,
  filesInPatch,
  patchedTree,
  patchWithValues,
} from './delivery-branch';
import type { Author } from './delivery-branch';
import { githubHost, pushBranch, remoteUrl, tokenEnv } from './delivery-push';
import { git, GitError } from './git';
import type { IncidentPaths } from './incident-paths';
import { openPullRequest, repositoryFromUrl } from './pull-request';
import { loadOrigin } from './repository-origin';
import type { RepositoryOrigin } from './repository-origin';

/** The worker's delivery settings (worker/settings.ts DeliverySettings), the token read on use. */
export interface DeliveryDeps {
  author: Author;
  githubApiUrl: string;
  /** GITHUB_TOKEN, read when a push or a pull request needs it; never stored or passed on. */
  token: () => string | undefined;
  /** The Temporal Web UI's base URL, for the link in the pull request. */
  webUiUrl: string;
}

async function originOf(paths: IncidentPaths): Promise<RepositoryOrigin> {
  const { origin, why } = await loadOrigin(paths.origin);
  if (!origin) throw new Error(`nothing to deliver into: ${why}`);
  return origin;
}

/** The base branch's head now: on the remote (fetched) when one is configured, else the local branch. */
async function currentHead(
  origin: RepositoryOrigin,
  deps: DeliveryDeps,
  remote: string | undefined,
  baseBranch: string,
): Promise<string | null> {
  const ref = `refs/heads/${baseBranch}`;
  if (remote) {
    const url = await remoteUrl(origin, remote);
    const secretEnv = tokenEnv(url, githubHost(deps.githubApiUrl), deps.token());
    const listed = (await git(origin.topLevel, ['ls-remote', url, ref], { secretEnv })).stdout.trim();
    const sha = listed.split(/\s+/)[0] || null;
    if (sha) await git(origin.topLevel, ['fetch', '--no-tags', '--no-write-fetch-head', url, ref], { secretEnv });
    return sha;
  }
  return (
    (await git(origin.topLevel, ['rev-parse', '-q', '--verify', `${ref}^{commit}`], { okCodes: [1] })).stdout.trim() ||
    null
  );
}

export function createDeliveryActivities(deps: DeliveryDeps, paths: (incidentId: string) => IncidentPaths) {
  return {
    /**
     * Where the branch starts: the analysed commit, unless the base branch has moved on and the patch
     * applies cleanly to its head (then a workspace of that head with the patch is made, and the
     * workflow re-verifies there before choosing it).
     */
    async planDelivery(args: PlanDeliveryArgs): Promise<PlanDeliveryResult> {
      const p = paths(args.incidentId);
      const { origin, why } = await loadOrigin(p.origin);
      if (!origin) return { ok: false, skip: true, reason: `nothing was delivered: ${why}`, notes: [] };
      const notes: string[] = [];
      const patch = await patchWithValues(p);
      const onAnalysed = await patchedTree(origin, p, origin.commit, patch);
      if ('conflict' in onAnalysed) {
        const dirty = origin.dirty.length
          ? ` (the working tree had uncommitted changes in ${origin.dirty.slice(0, 5).join(', ')})`
          : '';
        return {
          ok: false,
          reason: `the verified patch does not apply to the analysed commit ${origin.commit.slice(0, 12)}${dirty}: ${onAnalysed.conflict}`,
          analysedCommit: origin.commit,
          notes,
        };
      }
      const baseBranch = args.config.baseBranch ?? origin.branch ?? undefined;
      if (!baseBranch) {
        notes.push('no base branch (a detached HEAD and none configured): the branch starts at the analysed commit');
        return { ok: true, analysedCommit: origin.commit, notes };
      }
      let head: string | null;
      try {
        head = await currentHead(origin, deps, args.config.remote, baseBranch);
      } catch (err) {
        if (!(err instanceof GitError) && !/no remote named/.test((err as Error).message)) throw err;
        return { ok: false, reason: `could not read ${baseBranch}'s head: ${(err as Error).message}`, notes };
      }
      if (!head || head === origin.commit) return { ok: true, analysedCommit: origin.commit, baseBranch, notes };
      const onHead = await patchedTree(origin, p, head, patch);
      if ('conflict' in onHead) {
        notes.push(
          `${baseBranch} moved on to ${head.slice(0, 12)} and the patch does not apply there cleanly (${onHead.conflict}); delivered on the analysed commit ${origin.commit.slice(0, 12)}`,
        );
        return { ok: true, analysedCommit: origin.commit, head, baseBranch, appliesToHead: false, notes };
      }
      await exportPatchedHead(origin, p, p.headWorkspace);
      const changed = await changedOnHead(origin, head, p.headWorkspace, filesInPatch(patch));
      return {
        ok: true,
        analysedCommit: origin.commit,
        head,
        baseBranch,
        appliesToHead: true,
        changedOnHead: changed,
        notes,
      };
    },

    /** The branch opsguard/<id> with one commit: the verified patch on `base`. */
    async createDeliveryBranch(args: CreateBranchArgs): Promise<CreateBranchResult> {
      const p = paths(args.incidentId);
      const origin = await originOf(p);
      const branch = branchName(args.incidentId);
      const tree = await patchedTree(origin, p, args.base, await patchWithValues(p));
      await fs.rm(p.deliveryIndex, { force: true });
      if ('conflict' in tree)
        return {
          ok: false,
          branch,
          reason: `the patch does not apply to ${args.base.slice(0, 12)}: ${tree.conflict}`,
        };
      const made = await commitOnBranch(origin, { ...args, tree: tree.tree, author: deps.author });
      return made.ok
        ? { ok: true, branch, commit: made.commit, reused: made.reused }
        : { ok: false, branch, reason: made.reason };
    },

    async pushDeliveryBranch(args: PushBranchArgs): Promise<PushBranchResult> {
      const origin = await originOf(paths(args.incidentId));
      let pushed;
      try {
        pushed = await pushBranch(origin, {
          ...args,
          githubHost: githubHost(deps.githubApiUrl),
          token: deps.token(),
        });
      } catch (err) {
        if (/no remote named/.test((err as Error).message))
          return { ok: false, pushed: false, reason: (err as Error).message };
        throw err;
      }
      return pushed.ok ? { ok: true, pushed: pushed.pushed } : { ok: false, pushed: false, reason: pushed.reason };
    },

    /** The pull request (found or opened), titled and described by PR_DESCRIPTION.md, linking the incident. */
    async openPullRequest(args: OpenPullRequestArgs): Promise<OpenPullRequestResult> {
      const p = paths(args.incidentId);
      const origin = await originOf(p);
      const host = githubHost(deps.githubApiUrl);
      const url = args.config.remote ? await remoteUrl(origin, args.config.remote) : '';
      const repository = args.config.repository ?? repositoryFromUrl(url, host);
      if (!repository)
        return {
          ok: false,
          skip: true,
          reason: `no pull request: the remote is not on ${host} and no delivery.repository ("owner/name") is configured`,
        };
      const token = deps.token();
      if (!token) return { ok: false, reason: 'no pull request: GITHUB_TOKEN is not set on the worker' };
      const description = await fs.readFile(path.join(p.artifactDir, 'PR_DESCRIPTION.md'), 'utf8');
      const title =
        /^#+\s*(.+)$/m.exec(description)?.[1]?.trim().slice(0, 250) ??
        `OpsGuard: verified fix for incident ${args.incidentId}`;
      let namespace: string = 'default';
      try {
        namespace = Context.current().info.workflowNamespace ?? namespace;
      } catch {
        /* outside an activity */
      }
      const link = `${deps.webUiUrl.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(args.incidentId)}`;
      const body = `${description.trimEnd()}\n\n---\nOpsGuard incident [\`${args.incidentId}\`](${link}): the reproduction, the gates' verdicts and the approval are in its Temporal history.\n`;
      const pr = await openPullRequest({
        apiUrl: deps.githubApiUrl,
        token,
        repository,
        head: args.branch,
        base: args.baseBranch,
        title,
        body,
        draft: args.config.draft ?? false,
        labels: args.config.labels ?? [],
      });
      return pr.ok ? { ok: true, number: pr.number, url: pr.url, reused: pr.reused } : { ok: false, reason: pr.reason };
    },
  };
}
