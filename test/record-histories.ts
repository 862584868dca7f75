/**
 * Records workflow histories from real runs (real Temporal, real Docker, scripted model) as replay
 * fixtures for test/replay.test.ts. Rerun when a workflow change is intended to change histories
 * (and put that change behind patched()):  npx tsx test/record-histories.ts
 * Fixtures are named after the workflow version that made them (`proof-v2-...`); keep older ones:
 * they prove that incidents started on older code still replay.
 */
const VERSION = 'delivery-v1';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { approveUpdate, deliverUpdate, stateQuery } from '../workflows/operator-api';
import { startGitHubStandIn } from './support/github-api-server';
import { patchAwaiting, recordedTurns, remediate } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';

const [REPRO_OK, FIX_OK, PR_OK] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const server = await startTestServer();
// proof-v2 fixtures were recorded with the config-loader runs of an earlier version of this file
// (git history); environment-v1 added the prepare_environment step; approval-v2 binds decisions to
// the patch hash and the approval policy.
// approval-v2's runs (approved-first-try, dependencies-approved, two-person-approved,
// environment-failed) are in this file's git history; delivery-v1 adds delivery after approval, and
// model-unavailable-v1 the ending when the model cannot be reached.
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd });
/** The copied example as a git repository on main with a bare remote beside it. */
const gitRepository = (original: string) => {
  const remote = path.join(path.dirname(original), 'remote.git');
  git(path.dirname(original), 'init', '-q', '--bare', '-b', 'main', remote);
  git(original, 'init', '-q', '-b', 'main');
  git(original, 'add', '-A');
  git(original, 'commit', '-q', '-m', 'orders service');
  git(original, 'remote', 'add', 'origin', remote);
  git(original, 'push', '-q', 'origin', 'main');
};
const TOKEN = 'ghp_recording000000000000000000000000';
const gh = await startGitHubStandIn(TOKEN);
const delivery = {
  author: { name: 'OpsGuard', email: 'opsguard@localhost' },
  githubApiUrl: gh.apiUrl,
  token: () => TOKEN,
  webUiUrl: 'http://127.0.0.1:8233',
};
const input = { profile: { delivery: { remote: 'origin', baseBranch: 'main', repository: 'acme/orders' } } };
const runs: [string, Parameters<typeof remediate>[0]][] = [
  ['approved-not-git', { example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK] }],
  [
    'cancelled',
    {
      example: 'config-loader',
      turns: [{ ...REPRO_OK, answer: '```python\nimport time\ntime.sleep(600)\n```\n' }],
      onStarted: async (h) => {
        while ((await h.query(stateQuery).catch(() => null))?.step !== 'reproduce_attempt_1')
          await new Promise((r) => setTimeout(r, 200));
        await new Promise((r) => setTimeout(r, 1500)); // the container runs
        await h.cancel();
      },
    },
  ],
  [
    'model-unavailable',
    {
      example: 'config-loader',
      turns: [REPRO_OK, ...Array.from({ length: 4 }, () => ({ ...FIX_OK, fault: { status: 500 } }))],
    },
  ],
  [
    'delivered',
    { example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK], prepare: gitRepository, input, delivery },
  ],
  [
    'delivery-failed-then-retried',
    {
      example: 'config-loader',
      turns: [REPRO_OK, FIX_OK, PR_OK],
      prepare: gitRepository,
      input,
      delivery,
      decide: async (h) => {
        gh.refuse = { status: 401, message: 'Bad credentials' };
        await h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256: await patchAwaiting(h) }] });
        while ((await h.query(stateQuery)).status !== 'delivery_failed') await new Promise((r) => setTimeout(r, 200));
        gh.refuse = null;
        await h.executeUpdate(deliverUpdate, { args: [{ by: 'alice' }] });
      },
    },
  ],
];
for (const [name, opts] of runs) {
  const run = await remediate(opts);
  // The CLI's JSON is the format Worker.runReplayHistory reads (proto3 JSON).
  const json = execFileSync(settingsFromEnv().temporalBin, [
    'workflow',
    'show',
    '--workflow-id',
    run.result.incidentId,
    '--output',
    'json',
    '--address',
    TEST_TEMPORAL_ADDRESS,
  ]);
  fs.writeFileSync(path.join(dir, `${VERSION}-${name}.json`), json);
  console.log(`${name}: ${run.result.status}, ${run.history.events?.length} events`);
}
await gh.close();
if (!server.reused) await server.stop();
