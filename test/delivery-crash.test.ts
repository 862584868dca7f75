/**
 * Delivery survives a worker killed mid-way, exactly once. A real worker process (`opsguard worker`,
 * configured from its environment like any deployment) remediates a git repository with a bare
 * remote; after the approval it pushes the branch and asks the GitHub stand-in for the pull request,
 * which creates it and never answers. The worker is killed (SIGKILL) there, between the push and
 * the pull request's answer. A second worker takes over when the activity's heartbeat times out:
 * the branch is not pushed again and no second pull request is opened (the open one is found and
 * reused). The GitHub token appears in neither worker's output nor anywhere else but the
 * Authorization header.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startGitHubStandIn } from './support/github-api-server';
import { allText, exampleDir, historyText, recordedTurns } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';
import { approveWhenVerified, startIncident, startWorkerProcess, workerEnv } from './support/worker-process';
import type { WorkerProcess } from './support/worker-process';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

test('a worker killed between the push and the pull request: the next one delivers, nothing twice', async () => {
  const server = await startTestServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-crash-'));
  const repo = path.join(tmp, 'repo');
  const remote = path.join(tmp, 'remote.git');
  fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
  git(tmp, 'init', '-q', '--bare', '-b', 'main', remote);
  git(remote, 'config', 'core.logAllRefUpdates', 'always');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'orders service');
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '-q', 'origin', 'main');

  const token = `ghp_${randomBytes(18).toString('hex')}`;
  const gh = await startGitHubStandIn(token);
  gh.hangAfterCreate = true;
  const model = await startScriptedModel(recordedTurns('config-loader'));
  const taskQueue = `crash-${randomUUID()}`;
  const env = {
    TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    ...workerEnv({ taskQueue, dir: tmp, modelURL: model.baseURL }),
    OPSGUARD_GITHUB_API_URL: gh.apiUrl,
    GITHUB_TOKEN: token,
    OPSGUARD_LOG_LEVEL: 'INFO',
  };

  const first = startWorkerProcess(env);
  let second: WorkerProcess | undefined;
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection });
    const incidentId = `crash-${randomUUID()}`;
    const handle = await startIncident(client, {
      taskQueue,
      workflowId: incidentId,
      repo,
      input: { profile: { delivery: { remote: 'origin', baseBranch: 'main', repository: 'acme/orders' } } },
    });
    await approveWhenVerified(handle, () => first.output());

    // The pull request is created on GitHub's side; its answer never comes. Kill the worker there.
    await gh.hung;
    const branch = `opsguard/${incidentId}`;
    const pushed = git(remote, 'rev-parse', `refs/heads/${branch}`);
    await first.kill();
    assert.equal(gh.pulls.length, 1);

    second = startWorkerProcess(env);
    const result = await handle.result();
    assert.equal(result.status, 'delivered', JSON.stringify(result.delivery));
    assert.equal(result.delivery?.commit, pushed, 'the same commit');
    assert.deepEqual(result.delivery?.pullRequest, { number: 1, url: gh.pulls[0]?.html_url, reused: true });
    assert.equal(gh.pulls.length, 1, 'no second pull request');
    assert.equal(gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls')).length, 1);
    assert.equal(
      git(remote, 'reflog', 'show', '--format=%H', `refs/heads/${branch}`).split('\n').length,
      1,
      'pushed once',
    );
    assert.equal(git(remote, 'rev-list', '--count', `main..${branch}`), '1', 'one commit');
    assert.deepEqual(
      git(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/opsguard/').split('\n'),
      [`refs/heads/${branch}`],
      'one branch',
    );

    // The token: in the Authorization header, nowhere else.
    const history = historyText(await handle.fetchHistory());
    for (const [where, text] of [
      ['the first worker output', first.output()],
      ['the second worker output', second.output()],
      ['history', history],
      ['artifacts and work folders', allText(path.join(tmp, 'home'))],
      ['.git/config', fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8')],
    ] as const)
      assert.ok(!text.includes(token), `the token is in ${where}`);
    assert.ok(first.output().length > 0 && second.output().length > 0, 'both workers wrote output that was searched');
  } finally {
    await first.kill();
    await second?.kill();
    await connection.close();
    await gh.close();
    await model.close();
    if (!process.env.OPSGUARD_TEST_TEMPORAL_ADDRESS) await server.stop();
  }
});
