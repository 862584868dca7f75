/**
 * Pushing the delivery branch to the configured remote, once. The remote is a name in the repository
 * ('origin') or a URL. The GitHub token is sent only to the GitHub host the worker is configured for
 * (OPSGUARD_GITHUB_API_URL's host), as an HTTP header given to git through its environment
 * (GIT_CONFIG_COUNT): it is never in argv, never in a URL, never written to .git/config. A remote
 * that already holds the commit on the branch is not pushed to again; one holding something else is
 * never force-pushed.
 */
import { git, gitLine, GitError } from './git';
import type { RepositoryOrigin } from './repository-origin';

/** The URL behind a remote name, or the URL itself. */
export async function remoteUrl(origin: RepositoryOrigin, remote: string): Promise<string> {
  if (/^[A-Za-z0-9._-]+$/.test(remote) && !remote.includes('/')) {
    try {
      return await gitLine(origin.topLevel, ['remote', 'get-url', remote]);
    } catch (err) {
      if (err instanceof GitError) throw new Error(`the repository has no remote named '${remote}'`, { cause: err });
      throw err;
    }
  }
  return remote;
}

/** The host a GitHub API URL belongs to: api.github.com -> github.com; GHE's https://ghe/api/v3 -> ghe. */
export function githubHost(apiUrl: string): string {
  const host = new URL(apiUrl).host;
  return host === 'api.github.com' ? 'github.com' : host;
}

/** Environment that makes git send the token to `host` over HTTPS, and nowhere else. */
export function tokenEnv(url: string, host: string, token: string | undefined): Record<string, string> {
  if (!token || !url.startsWith(`https://${host}/`)) return {};
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.https://${host}/.extraheader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
}

export async function pushBranch(
  origin: RepositoryOrigin,
  opts: { remote: string; branch: string; commit: string; githubHost: string; token: string | undefined },
): Promise<{ ok: true; pushed: boolean } | { ok: false; reason: string }> {
  const url = await remoteUrl(origin, opts.remote);
  const secretEnv = tokenEnv(url, opts.githubHost, opts.token);
  const ref = `refs/heads/${opts.branch}`;
  try {
    const listed = (await git(origin.topLevel, ['ls-remote', url, ref], { secretEnv })).stdout.trim();
    const there = listed.split(/\s+/)[0] ?? '';
    if (there === opts.commit) return { ok: true, pushed: false };
    if (there)
      return {
        ok: false,
        reason: `the remote already has branch ${opts.branch} at ${there.slice(0, 12)}, not the verified commit ${opts.commit.slice(0, 12)}; OpsGuard never force-pushes`,
      };
    await git(origin.topLevel, ['push', '--porcelain', url, `${opts.commit}:${ref}`], { secretEnv });
    return { ok: true, pushed: true };
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    return {
      ok: false,
      reason: `pushing to ${redactUrl(url)} failed: ${err.stderr.trim().split('\n').slice(-2).join(' / ')}`,
    };
  }
}

/** A URL fit for a message: any user:password part removed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
