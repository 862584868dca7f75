/**
 * Records workflow histories from real runs (real Temporal, real Docker, scripted model) as replay
 * fixtures for test/replay.test.ts. Rerun when a workflow change is intended to change histories
 * (and put that change behind patched()):  npx tsx test/record-histories.ts
 * Fixtures are named after the workflow version that made them (`proof-v2-...`); keep older ones:
 * they prove that incidents started on older code still replay.
 */
const VERSION = 'sandbox-queue-v1';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import { ApplicationFailure } from '@temporalio/common';
import { TRANSIENT_ERROR_TYPES } from '../workflows/error-types';
import { recordedTurns, remediate } from './support/remediation-harness';
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
// delivery-v1's runs (approved-not-git, cancelled, model-unavailable, delivered,
// delivery-failed-then-retried) are in this file's git history; sandbox-queue-v1 sends container
// steps to `<queue>-sandbox` and waits for the engine (docker-wait-v1).
// sandbox-queue-v1-unclassified-{runtime-error,keyboard-interrupt} were recorded at 74c7ddb, before
// classify-v2, with config-loader and a log whose last line was `RuntimeError: ...` or
// `KeyboardInterrupt` (turns: none): they ended unclassified, and must still (test/unit/replay.test.ts).
let engineDown = true;
const runs: [string, Parameters<typeof remediate>[0]][] = [
  ['approved-not-git', { example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK] }],
  [
    'waited-for-docker',
    {
      example: 'config-loader',
      turns: [REPRO_OK, FIX_OK, PR_OK],
      // The engine is "down" for the first container step: the incident waits 5 s, then goes on.
      wrapActivities: (a) => ({
        ...a,
        prepareEnvironment: async (args) => {
          if (engineDown) {
            engineDown = false;
            throw ApplicationFailure.nonRetryable(
              'the Docker engine does not answer at unix:///var/run/docker.sock (recording)',
              TRANSIENT_ERROR_TYPES.dockerUnavailable,
            );
          }
          return await a.prepareEnvironment(args);
        },
      }),
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
