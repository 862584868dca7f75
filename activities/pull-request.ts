/**
 * The pull request, through GitHub's REST API with Octokit, exactly once: an open pull request from
 * the same head branch is looked for first and reused. The token is Octokit's `auth` (the
 * Authorization header) and nothing else. GitHub's refusals (401, 403, 404, 422) are answers, not
 * faults: they end in delivery_failed with what to do; 5xx and network faults are thrown, so the
 * activity is retried.
 */
import { Octokit } from '@octokit/rest';

export interface PullRequestOptions {
  apiUrl: string;
  token: string;
  /** "owner/name". */
  repository: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  labels: string[];
}

export type PullRequestOutcome =
  { ok: true; number: number; url: string; reused: boolean } | { ok: false; reason: string };

/** "owner/name" from a GitHub remote URL (https://host/owner/name(.git), git@host:owner/name.git). */
export function repositoryFromUrl(url: string, host: string): string | null {
  const m =
    new RegExp(`^(?:https://|ssh://git@)${escape(host)}[/:]([^/]+)/([^/]+?)(?:\\.git)?/?$`).exec(url) ??
    new RegExp(`^git@${escape(host)}:([^/]+)/([^/]+?)(?:\\.git)?$`).exec(url);
  return m ? `${m[1]}/${m[2]}` : null;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** GitHub's refusal, said so an operator knows what to change. */
function refusal(status: number, message: string, repository: string): string {
  const why =
    status === 401
      ? 'GitHub refused the token (401 Bad credentials): check GITHUB_TOKEN on the worker'
      : status === 403
        ? 'GitHub forbade it (403): the token needs "pull requests: write" on the repository, or a rate limit was hit'
        : status === 404
          ? `GitHub does not show ${repository} to this token (404): check the repository name and the token's access`
          : status === 422
            ? 'GitHub could not open the pull request (422): the base branch may not exist on the remote, or there is nothing between base and head'
            : `GitHub answered ${status}`;
  return `${why}. GitHub said: ${message.slice(0, 300)}`;
}

export async function openPullRequest(opts: PullRequestOptions): Promise<PullRequestOutcome> {
  const [owner, repo] = opts.repository.split('/') as [string, string];
  const quiet = () => undefined; // Octokit's request log is not ours to print
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: opts.apiUrl.replace(/\/$/, ''),
    userAgent: 'opsguard',
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  try {
    const open = await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${opts.head}` });
    const found = open.data.find((p) => p.head.ref === opts.head);
    if (found) return { ok: true, number: found.number, url: found.html_url, reused: true };
    const created = await octokit.rest.pulls.create({
      owner,
      repo,
      head: opts.head,
      base: opts.base,
      title: opts.title,
      body: opts.body,
      draft: opts.draft,
    });
    if (opts.labels.length)
      await octokit.rest.issues.addLabels({ owner, repo, issue_number: created.data.number, labels: opts.labels });
    return { ok: true, number: created.data.number, url: created.data.html_url, reused: false };
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      const data = (err as { response?: { data?: { message?: string; errors?: unknown } } }).response?.data;
      const message = [data?.message, data?.errors ? JSON.stringify(data.errors) : ''].filter(Boolean).join(' ');
      return { ok: false, reason: refusal(status, message || (err as Error).message, opts.repository) };
    }
    // 5xx, network: transient, the activity is retried. A fresh error: nothing of the request travels.
    // eslint-disable-next-line preserve-caught-error -- the cause holds the request, headers included
    throw new Error(
      `GitHub API ${status ?? 'unreachable'}: ${(err as Error).message}`.split(opts.token).join('[REDACTED]'),
    );
  }
}
