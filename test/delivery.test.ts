/**
 * Delivery after approval, on real git (a real repository with a real bare repository as its
 * remote), the real Temporal server, worker and Docker, and a local stand-in for GitHub's REST API
 * reached through the real Octokit. Shown: one branch with one commit holding exactly patch.diff; the
 * user's working tree, index and HEAD untouched (a dirty tree stays dirty); the pull request's title,
 * body, head, base, draft flag and labels; GitHub's 401/403/422 end in delivery_failed with the reason
 * and `deliver` retries; a base branch that moved on is used only after re-verification there; the
 * token appears nowhere but the Authorization header.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { DeliveryConfig, RemediationState } from '../workflows/incident-types';
import { deliverUpdate, stateQuery } from '../workflows/operator-api';
import type { remediateIncident } from '../workflows/remediate-incident';
import { buildAudit, renderAudit } from '../client/audit-report';
import { startGitHubStandIn } from './support/github-api-server';
import type { GitHubStandIn } from './support/github-api-server';
import { allText, approveAsOperator, historyText, recordedTurns, remediate } from './support/remediation-harness';

type Handle = WorkflowHandle<typeof remediateIncident>;

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Dev',
      GIT_AUTHOR_EMAIL: 'dev@example.com',
      GIT_COMMITTER_NAME: 'Dev',
      GIT_COMMITTER_EMAIL: 'dev@example.com',
    },
  }).trim();

/**
 * Make the copied example a git repository on `main` with a bare remote; leave its working tree
 * dirty. `monorepo`: the repository is the folder above, the example one service in it.
 */
function gitRepository(original: string, monorepo = false): { remote: string } {
  const remote = monorepo
    ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-remote-')), 'remote.git')
    : path.join(path.dirname(original), 'remote.git');
  const top = monorepo ? path.dirname(original) : original;
  sh(path.dirname(remote), 'init', '-q', '--bare', '-b', 'main', remote);
  sh(remote, 'config', 'core.logAllRefUpdates', 'always'); // every update of a branch is counted
  sh(top, 'init', '-q', '-b', 'main');
  if (monorepo) fs.writeFileSync(path.join(top, 'README.md'), '# the company monorepo\n');
  sh(top, 'add', '-A');
  sh(top, 'commit', '-q', '-m', 'orders service');
  sh(top, 'remote', 'add', 'origin', remote);
  sh(top, 'push', '-q', 'origin', 'main');
  // A developer's work in progress: must stay exactly as it is.
  fs.appendFileSync(path.join(original, 'main.py'), '\n# TODO: structured logging\n');
  fs.writeFileSync(path.join(original, 'scratch.txt'), 'notes\n');
  return { remote };
}

/** What must not change: the working tree's files, the index's bytes, HEAD, the status. */
function userState(repo: string) {
  const files = sh(repo, 'ls-files', '-co', '--exclude-standard')
    .split('\n')
    .sort()
    .map((f) => `${f}:${fs.readFileSync(path.join(repo, f)).toString('base64')}`)
    .join('\n');
  const gitDir = sh(repo, 'rev-parse', '--absolute-git-dir');
  return {
    files,
    index: fs.readFileSync(path.join(gitDir, 'index')).toString('base64'),
    head: fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8'),
    headCommit: sh(repo, 'rev-parse', 'HEAD'),
    status: sh(repo, 'status', '--porcelain', '--', '.'),
  };
}

/** The tree `patch.diff` makes on `base`, applied by plain git in a fresh clone. */
function treeOfPatchOn(remote: string, base: string, patchFile: string): string {
  const clone = fs.mkdtempSync(path.join(path.dirname(remote), 'check-'));
  sh(path.dirname(remote), 'clone', '-q', remote, clone);
  sh(clone, 'checkout', '-q', base);
  sh(clone, 'apply', patchFile);
  sh(clone, 'add', '-A');
  return sh(clone, 'write-tree');
}

/** Wait until the incident reaches one of `statuses`. */
async function until(h: Handle, statuses: string[]): Promise<RemediationState> {
  for (let i = 0; i < 600; i++) {
    const s = await h.query(stateQuery);
    if (statuses.includes(s.status)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the incident never reached ${statuses.join('|')}`);
}

interface Scenario {
  /** The example is one folder of a bigger repository (its parent). */
  monorepo?: boolean;
  config?: Partial<DeliveryConfig>;
  /** Before the approval (the repository or the remote may move on meanwhile). */
  beforeApproval?: (ctx: { original: string; remote: string }) => void;
  /** After the approval: act on the incident (retry a failed delivery...). */
  afterApproval?: (h: Handle, gh: GitHubStandIn) => Promise<void>;
  refuse?: { status: number; message: string };
}

async function deliverScenario(s: Scenario) {
  const token = `ghp_${randomBytes(18).toString('hex')}`;
  const gh = await startGitHubStandIn(token);
  if (s.refuse) gh.refuse = s.refuse;
  let ctx: { original: string; remote: string } | undefined;
  let before: ReturnType<typeof userState> | undefined;
  try {
    const run = await remediate({
      example: 'config-loader',
      turns: recordedTurns('config-loader'),
      prepare: (original) => {
        ctx = { original, ...gitRepository(original, s.monorepo) };
        before = userState(original);
      },
      input: {
        profile: {
          delivery: {
            remote: 'origin',
            baseBranch: 'main',
            repository: 'acme/orders',
            draft: true,
            labels: ['opsguard', 'bug'],
            ...s.config,
          },
        },
      },
      delivery: {
        author: { name: 'OpsGuard', email: 'opsguard@localhost' },
        githubApiUrl: gh.apiUrl,
        token: () => token,
        webUiUrl: 'http://127.0.0.1:18233',
      },
      decide: async (h) => {
        if (!ctx) throw new Error('no repository');
        s.beforeApproval?.(ctx);
        await approveAsOperator(h);
        await s.afterApproval?.(h, gh);
      },
    });
    if (!ctx || !before) throw new Error('no repository');
    return { run, gh, token, ...ctx, before, after: userState(ctx.original) };
  } finally {
    await gh.close();
  }
}

test("an approved fix is delivered: one branch, one commit holding exactly patch.diff, one pull request; the user's tree untouched", async () => {
  let details = '';
  const d = await deliverScenario({
    afterApproval: async (h) => {
      await until(h, ['delivered']);
      // What the Web UI shows as the workflow's current details.
      details = (await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
    },
  });
  const { result } = d.run;
  assert.equal(result.status, 'delivered', `${result.reason} ${JSON.stringify(result.delivery)}`);
  const delivery = result.delivery;
  assert.ok(delivery?.branch && delivery.commit && delivery.pullRequest);
  assert.equal(delivery.branch, `opsguard/${result.incidentId}`);
  assert.equal(delivery.onto, 'analysed');
  assert.equal(delivery.baseCommit, d.before.headCommit);

  // The remote has the branch at the commit; one commit on top of the analysed one, holding exactly patch.diff.
  assert.equal(sh(d.remote, 'rev-parse', `refs/heads/${delivery.branch}`), delivery.commit);
  assert.equal(sh(d.remote, 'rev-list', '--count', `${d.before.headCommit}..${delivery.commit}`), '1');
  assert.equal(sh(d.remote, 'rev-parse', `${delivery.commit}^`), d.before.headCommit);
  const patchFile = result.artifacts['patch.diff'] ?? '';
  assert.equal(
    sh(d.remote, 'rev-parse', `${delivery.commit}^{tree}`),
    treeOfPatchOn(d.remote, d.before.headCommit, patchFile),
  );
  const message = sh(d.remote, 'log', '-1', '--format=%an <%ae>%n%B', delivery.commit);
  assert.match(message, /^OpsGuard <opsguard@localhost>\nFix KeyError in app\/config_loader\.py:database_url/);
  assert.match(message, /Proof: the reproduction failed with KeyError before the patch and passes with it/);
  assert.match(message, /Approved-by: e2e-operator/);
  assert.match(message, new RegExp(`OpsGuard-Incident: ${result.incidentId}`));
  assert.equal(
    sh(d.remote, 'reflog', 'show', '--format=%H', `refs/heads/${delivery.branch}`).split('\n').length,
    1,
    'pushed once',
  );

  // The user's working tree (dirty), index, HEAD and status: exactly as before.
  assert.deepEqual(d.after, d.before);
  assert.match(d.after.status, /M main\.py/);

  // The pull request, through Octokit.
  assert.equal(d.gh.pulls.length, 1);
  const pr = d.gh.pulls[0];
  assert.ok(pr);
  assert.equal(pr.head, delivery.branch);
  assert.equal(pr.base, 'main');
  assert.equal(pr.draft, true);
  assert.deepEqual(pr.labels, ['opsguard', 'bug']);
  const description = fs.readFileSync(result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.equal(pr.title, /^#+\s*(.+)$/m.exec(description)?.[1]?.trim());
  assert.ok(pr.body.startsWith(description.trimEnd()), 'the body is PR_DESCRIPTION.md, then the link');
  assert.match(pr.body, new RegExp(`http://127\\.0\\.0\\.1:18233/namespaces/default/workflows/${result.incidentId}`));
  assert.deepEqual(delivery.pullRequest, { number: 1, url: pr.html_url, reused: false });

  // proof.json and the state carry the delivery; the search attribute names the pull request.
  const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as {
    status: string;
    delivery: unknown;
  };
  assert.equal(proof.status, 'delivered');
  assert.deepEqual(proof.delivery, JSON.parse(JSON.stringify(delivery)));
  assert.match(d.run.historyJson, /OpsGuardPullRequest/);
  assert.ok(
    details.includes(
      `**Delivered:** branch \`${delivery.branch}\` at \`${delivery.commit.slice(0, 12)}\` — pull request [#1](${pr.html_url})`,
    ),
    details,
  );

  // The token: only ever in the Authorization header.
  for (const r of d.gh.requests) assert.equal(r.headers.authorization, `token ${d.token}`);
  const gitConfigs =
    fs.readFileSync(path.join(d.original, '.git', 'config'), 'utf8') +
    fs.readFileSync(path.join(d.remote, 'config'), 'utf8');
  for (const [where, text] of [
    ['history', historyText(d.run.history)],
    ['artifacts', allText(d.run.roots.artifactsDir)],
    ['work folder', allText(d.run.roots.workDir)],
    ['.git/config', gitConfigs],
    ['pull request', JSON.stringify(d.gh.pulls)],
  ] as const)
    assert.ok(!text.includes(d.token), `the token is in the ${where}`);
});

for (const refusal of [
  { status: 401, message: 'Bad credentials', expect: /GitHub refused the token \(401/ },
  { status: 403, message: 'Resource not accessible by integration', expect: /GitHub forbade it \(403\)/ },
  { status: 422, message: 'Validation Failed', expect: /could not open the pull request \(422\)/ },
]) {
  test(`GitHub answering ${refusal.status} ends in delivery_failed with the reason; 'deliver' retries and delivers once`, async () => {
    const d = await deliverScenario({
      refuse: { status: refusal.status, message: refusal.message },
      afterApproval: async (h, gh) => {
        const failed = await until(h, ['delivery_failed', 'delivered']);
        assert.equal(failed.status, 'delivery_failed');
        assert.match(failed.result.delivery?.reason ?? '', refusal.expect);
        assert.match(failed.result.delivery?.reason ?? '', /retry with: opsguard deliver/);
        assert.ok(failed.result.delivery?.commit, 'the branch was made and pushed before GitHub refused');
        // Only a failed delivery can be retried; now it can.
        gh.refuse = null;
        assert.match(await h.executeUpdate(deliverUpdate, { args: [{ by: 'e2e-operator' }] }), /restarted/);
      },
    });
    const { result } = d.run;
    assert.equal(result.status, 'delivered');
    assert.equal(result.delivery?.attempts, 2);
    assert.equal(d.gh.pulls.length, 1);
    assert.ok(
      result.delivery?.notes.some((n) => /already had the commit/.test(n)),
      'not pushed twice',
    );
    assert.equal(
      sh(d.remote, 'reflog', 'show', '--format=%H', `refs/heads/${result.delivery?.branch}`).split('\n').length,
      1,
    );
  });
}

test("'deliver' is refused unless the delivery failed", async () => {
  let answer = '';
  const run = await remediate({
    example: 'config-loader',
    turns: recordedTurns('config-loader'),
    decide: async (h) => {
      try {
        await h.executeUpdate(deliverUpdate, { args: [{ by: 'e2e-operator' }] });
        answer = 'accepted';
      } catch (err) {
        assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
        answer = String((err.cause as Error).message);
      }
      await approveAsOperator(h);
    },
  });
  assert.match(answer, /is awaiting_approval; only a failed delivery \(delivery_failed\) can be retried/);
  assert.equal(run.result.status, 'approved');
});

test('the base branch moved on: the patch is re-verified on its head and the branch starts there', async () => {
  let newHead = '';
  const d = await deliverScenario({
    beforeApproval: ({ remote }) => {
      const other = fs.mkdtempSync(path.join(path.dirname(remote), 'colleague-'));
      sh(path.dirname(remote), 'clone', '-q', remote, other);
      fs.writeFileSync(path.join(other, 'CHANGELOG.md'), '# Changes\n- faster startup\n');
      sh(other, 'add', '-A');
      sh(other, 'commit', '-q', '-m', 'changelog');
      sh(other, 'push', '-q', 'origin', 'main');
      newHead = sh(other, 'rev-parse', 'HEAD');
    },
  });
  const { result } = d.run;
  assert.equal(result.status, 'delivered', JSON.stringify(result.delivery));
  assert.equal(result.delivery?.onto, 'head');
  assert.equal(result.delivery?.baseCommit, newHead);
  assert.equal(sh(d.remote, 'rev-parse', `${result.delivery?.commit}^`), newHead);
  assert.ok(
    result.delivery?.notes.some((n) => /re-verified/.test(n)),
    JSON.stringify(result.delivery?.notes),
  );
  // Re-verified in fresh containers: the reproduction on the head, and the tests.
  assert.match(historyText(d.run.history), /"onHead":true/);
  assert.ok(fs.existsSync(path.join(d.run.roots.artifactsDir, result.incidentId, 'attempts', 'deliver-1')));
  assert.ok(fs.existsSync(path.join(d.run.roots.artifactsDir, result.incidentId, 'attempts', 'deliver-tests-1')));
  // The audit shows the re-verification and the delivery, recomputed from history.
  const audit = renderAudit(result.incidentId, buildAudit(d.run.history.events ?? []));
  assert.match(audit, /gate 2 \(on the newer head, delivery 1\)\s+PASSED/);
  assert.match(audit, /regression gate \(deliver-tests-1\)\s+PASSED/);
  assert.match(
    audit,
    new RegExp(
      `delivery delivered\\s+branch ${result.delivery?.branch} at ${result.delivery?.commit}, pull request #1`,
    ),
  );
});

/** A colleague's commit on the remote's main, made after the analysis. */
function colleagueCommits(remote: string, change: (clone: string) => void): string {
  const other = fs.mkdtempSync(path.join(path.dirname(remote), 'colleague-'));
  sh(path.dirname(remote), 'clone', '-q', remote, other);
  change(other);
  sh(other, 'add', '-A');
  sh(other, 'commit', '-q', '-m', "a colleague's change");
  sh(other, 'push', '-q', 'origin', 'main');
  return sh(other, 'rev-parse', 'HEAD');
}

const editFile = (file: string, edit: (text: string) => string) =>
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));

test('the base branch moved on where the patch does not apply: delivered on the analysed commit, and said so', async () => {
  const d = await deliverScenario({
    beforeApproval: ({ remote }) =>
      colleagueCommits(remote, (clone) =>
        editFile(path.join(clone, 'app', 'config_loader.py'), (t) => t.replace('"pool_size": 5,', '"pool_size": 10,')),
      ),
  });
  const { result } = d.run;
  assert.equal(result.status, 'delivered', JSON.stringify(result.delivery));
  assert.equal(result.delivery?.onto, 'analysed');
  assert.equal(result.delivery?.baseCommit, d.before.headCommit);
  assert.ok(
    result.delivery?.notes.some((n) => /does not apply there cleanly/.test(n)),
    JSON.stringify(result.delivery?.notes),
  );
});

test('the base branch moved on where the patch applies but no longer fixes the bug: delivered on the analysed commit', async () => {
  const d = await deliverScenario({
    beforeApproval: ({ remote }) =>
      colleagueCommits(remote, (clone) =>
        editFile(path.join(clone, 'app', 'config_loader.py'), (t) => t.replace('config["user"]', 'config["username"]')),
      ),
  });
  const { result } = d.run;
  assert.equal(result.status, 'delivered', JSON.stringify(result.delivery));
  assert.equal(result.delivery?.onto, 'analysed');
  assert.equal(sh(d.remote, 'rev-parse', `${result.delivery?.commit}^`), d.before.headCommit);
  assert.ok(
    result.delivery?.notes.some((n) =>
      /applies there but did not verify \(Not fixed: the reproduction still fails/.test(n),
    ),
    JSON.stringify(result.delivery?.notes),
  );
});

test('without a remote the branch stays local and the result says so; without git nothing is delivered', async () => {
  const local = await deliverScenario({ config: { remote: undefined } });
  assert.equal(local.run.result.status, 'delivered');
  const branch = local.run.result.delivery?.branch ?? '';
  assert.equal(sh(local.original, 'rev-parse', branch), local.run.result.delivery?.commit);
  assert.equal(sh(local.remote, 'branch', '--list', branch), '', 'nothing pushed');
  assert.ok(local.run.result.delivery?.notes.some((n) => /no remote configured/.test(n)));
  assert.equal(local.gh.requests.length, 0);
  assert.deepEqual(local.after, local.before);

  const plain = await remediate({ example: 'config-loader', turns: recordedTurns('config-loader') });
  assert.equal(plain.result.status, 'approved');
  assert.equal(plain.result.delivery?.status, 'skipped');
  assert.match(plain.result.delivery?.reason ?? '', /not a git repository; apply patch\.diff yourself/);
});

test("a service inside a monorepo: the branch holds the patch at the service's path, re-verified on a newer head", async () => {
  let newHead = '';
  const d = await deliverScenario({
    monorepo: true,
    beforeApproval: ({ remote }) => {
      newHead = colleagueCommits(remote, (clone) =>
        fs.writeFileSync(path.join(clone, 'CHANGELOG.md'), '- billing: retries\n'),
      );
    },
  });
  const { result } = d.run;
  assert.equal(result.status, 'delivered', JSON.stringify(result.delivery));
  assert.equal(result.origin?.prefix, 'original');
  assert.equal(result.delivery?.onto, 'head');
  assert.equal(result.delivery?.baseCommit, newHead);
  const changed = sh(d.remote, 'diff', '--name-only', `${newHead}..${result.delivery?.commit}`);
  assert.equal(changed, 'original/app/config_loader.py');
  assert.deepEqual(d.after, d.before);
});
