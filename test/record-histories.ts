/**
 * Records workflow histories from real runs (real Temporal, real Docker, scripted model) as replay
 * fixtures for test/replay.test.ts. Rerun when a workflow change is intended to change histories
 * (and put that change behind patched()):  npx tsx test/record-histories.ts
 * Fixtures are named after the workflow version that made them (`proof-v2-...`); keep older ones:
 * they prove that incidents started on older code still replay.
 */
const VERSION = 'approval-v2';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { approveSignal, approveUpdate } from '../workflows/operator-api';
import { patchAwaiting, recordedTurns, remediate } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';

const [REPRO_OK, FIX_OK, PR_OK] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const server = await startTestServer();
// proof-v2 fixtures were recorded with the config-loader runs of an earlier version of this file
// (git history); environment-v1 added the prepare_environment step; approval-v2 binds decisions to
// the patch hash and the approval policy.
const runs: [string, Parameters<typeof remediate>[0]][] = [
  ['approved-first-try', { example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK] }],
  ['dependencies-approved', { example: 'uptime-digest', turns: recordedTurns('uptime-digest') }],
  [
    'two-person-approved',
    {
      example: 'config-loader',
      turns: [REPRO_OK, FIX_OK, PR_OK],
      approval: {
        policy: { approvers: ['alice', 'bob'], noSelfApproval: false, required: 2, signaturesRequired: false },
        groups: {},
        keysDir: null,
      },
      decide: async (h) => {
        const patchSha256 = await patchAwaiting(h);
        await h.executeUpdate(approveUpdate, { args: [{ by: 'mallory', patchSha256 }] }).catch(() => undefined);
        await h.executeUpdate(approveUpdate, { args: [{ by: 'alice', patchSha256 }] });
        await h.signal(approveSignal, { by: 'bob' }); // refused: no hash
        await h.executeUpdate(approveUpdate, { args: [{ by: 'bob', patchSha256 }] });
      },
    },
  ],
  [
    'environment-failed',
    {
      example: 'config-loader',
      turns: [],
      prepare: (original) => fs.writeFileSync(path.join(original, '.opsguard.toml'), 'pyhton = "3.9"\n'),
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
if (!server.reused) await server.stop();
