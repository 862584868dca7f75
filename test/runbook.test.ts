/**
 * docs/runbook.md's commands, run exactly as written (read from its ```bash runbook block) with
 * the real `temporal` binary against the test dev server, with a worker on task queue `opsguard`.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { EXAMPLES, recordedTurns, scriptedActivities } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { TEST_TEMPORAL_ADDRESS, withWorker } from './support/temporal';

/** The commands of the runbook block, one per line (comments dropped). */
function runbookCommands(): string[] {
  const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'runbook.md'), 'utf8');
  const block = /```bash runbook\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/runbook.md has a ```bash runbook block');
  return block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
}

function sh(
  command: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("the runbook's temporal commands work as written", async () => {
  const commands = runbookCommands();
  assert.deepEqual(
    commands.map((c) => c.split(' ').slice(0, 3).join(' ')),
    [
      'temporal workflow start',
      'temporal workflow query',
      'temporal workflow list',
      'temporal workflow signal',
      'temporal workflow result',
    ],
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-runbook-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(EXAMPLES, 'config-loader', 'repo'), repo, { recursive: true });
  // A real git repository with a bare remote, as the runbook's delivery expects.
  const remote = path.join(tmp, 'remote.git');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], {
      cwd,
      encoding: 'utf8',
    }).trim();
  git(tmp, 'init', '-q', '--bare', '-b', 'main', remote);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'orders service');
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '-q', 'origin', 'main');
  fs.writeFileSync(
    path.join(tmp, 'incident.json'),
    JSON.stringify({
      repoPath: repo,
      errorLog: fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8'),
      profile: { delivery: { remote: 'origin', baseBranch: 'main' } },
    }),
  );
  const env = {
    PATH: `${path.dirname(settingsFromEnv().temporalBin)}:${process.env.PATH ?? ''}`,
    TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    INCIDENT_ID: `runbook-${process.pid}-${Date.now()}`,
  };
  const model = await startScriptedModel(recordedTurns('config-loader'));
  const activities = scriptedActivities(model.baseURL, tmp);
  try {
    // The runbook names task queue `opsguard`: the test server is our own, so the worker takes it.
    await withWorker(
      activities,
      async () => {
        const [start, query, list, signal, result] = commands as [string, string, string, string, string];
        const started = await sh(start, tmp, env);
        assert.equal(started.code, 0, started.stderr);
        assert.match(started.stdout, new RegExp(`WorkflowId\\s+${env.INCIDENT_ID}`));

        // "repeat until awaiting_approval"
        let state = '';
        for (let i = 0; i < 120 && !/"status":\s*"awaiting_approval"/.test(state); i++) {
          const q = await sh(query, tmp, env);
          assert.equal(q.code, 0, q.stderr);
          state = q.stdout;
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.match(state, /"status":\s*"awaiting_approval"/);
        assert.match(state, /"patch\.diff":\s*"/);

        let listed = '';
        for (let i = 0; i < 40 && !listed.includes(env.INCIDENT_ID); i++) {
          listed = (await sh(list, tmp, env)).stdout; // visibility is eventually consistent
          if (!listed.includes(env.INCIDENT_ID)) await new Promise((r) => setTimeout(r, 250));
        }
        assert.ok(listed.includes(env.INCIDENT_ID), listed);

        // Starting the same id again attaches instead of remediating twice.
        const again = await sh(start, tmp, env);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(/RunId\s+(\S+)/.exec(again.stdout)?.[1], /RunId\s+(\S+)/.exec(started.stdout)?.[1]);

        // The operator reads patch.diff (its path is in the state) and decides on that very file.
        const patchDiff = /"patch\.diff":\s*"([^"]+)"/.exec(state)?.[1] ?? '';
        const awaiting = /"patchSha256":\s*"([0-9a-f]{64})"/.exec(state)?.[1];
        assert.ok(awaiting, 'the state shows the sha256 of the patch awaiting a decision');
        const signalled = await sh(signal, tmp, { ...env, PATCH_DIFF: patchDiff });
        assert.equal(signalled.code, 0, signalled.stderr);
        const done = await sh(result, tmp, env);
        assert.equal(done.code, 0, done.stderr);
        assert.match(done.stdout, /"status":\s*"delivered"/);
        const branch = `opsguard/${env.INCIDENT_ID}`;
        assert.match(done.stdout, new RegExp(`"branch":\\s*"${branch}"`));
        const commit = /"commit":\s*"([0-9a-f]{40})"/.exec(done.stdout)?.[1];
        assert.equal(git(remote, 'rev-parse', `refs/heads/${branch}`), commit, 'the branch is on the remote');
        assert.match(done.stdout, /"by":\s*"alice"/);
        assert.match(done.stdout, /"comment":\s*"reviewed patch\.diff"/);
        assert.match(
          done.stdout,
          new RegExp(`"patchSha256":\\s*"${awaiting}"`),
          'the decision names the patch reviewed',
        );
      },
      { taskQueue: 'opsguard' },
    );
  } finally {
    await model.close();
  }
});
