/**
 * Cancelling an incident with `opsguard cancel` (the real command line, real Temporal, worker and
 * Docker): the reproduction's container, busy for minutes, is stopped within seconds; the incident
 * writes what was known (proof.json, the report) and ends `cancelled`; no container of its own is
 * left; the original repository is untouched.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { test } from 'node:test';
import { INCIDENT_LABEL } from '../sandbox/labels';
import { PROJECT_ROOT } from '../worker/settings';
import { stateQuery } from '../workflows/operator-api';
import { recordedTurns, remediate } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';
import { TEST_TEMPORAL_ADDRESS } from './support/temporal';

const [REPRO] = recordedTurns('config-loader') as [ScriptedTurn];
/** A reproduction that works for ten minutes before it would fail like the incident. */
const SLOW_REPRO: ScriptedTurn = {
  ...REPRO,
  answer:
    '```python\nimport time\nfrom app.config_loader import database_url, load_config\ntime.sleep(600)\ndatabase_url(load_config({}))\n```\n',
};

const running = (incidentId: string) =>
  execFileSync('docker', ['ps', '-q', '--filter', `label=${INCIDENT_LABEL}=${incidentId}`], {
    encoding: 'utf8',
  }).trim();

test('opsguard cancel stops the running container within seconds and the incident ends cancelled', async () => {
  let cli = { code: -1, stdout: '', stderr: '' };
  let stoppedAfterMs = -1;
  const run = await remediate({
    example: 'config-loader',
    turns: [SLOW_REPRO],
    onStarted: async (h) => {
      // Wait for the reproduction's container to run.
      const reproducing = async () =>
        (await h.query(stateQuery).catch(() => null))?.step === 'reproduce_attempt_1' && running(h.workflowId) !== '';
      for (let i = 0; i < 300 && !(await reproducing()); i++) await new Promise((r) => setTimeout(r, 200));
      assert.ok(await reproducing(), 'a container runs the reproduction');
      const t = Date.now();
      cli = await new Promise((resolve) =>
        execFile(
          process.execPath,
          [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'cancel', h.workflowId],
          { env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS }, timeout: 120_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
      );
      stoppedAfterMs = running(h.workflowId) ? -1 : Date.now() - t;
    },
  });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(
    cli.stdout,
    new RegExp(
      `Incident ${run.result.incidentId}: cancelled — Cancelled by an operator during step reproduce_attempt_1`,
    ),
  );
  assert.ok(stoppedAfterMs >= 0, 'no container of the incident runs once cancel returns');
  assert.equal(run.result.status, 'cancelled');
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as { status: string };
  assert.equal(proof.status, 'cancelled');
  assert.ok(run.result.artifacts['failure_report.md'], JSON.stringify(Object.keys(run.result.artifacts)));
  assert.equal(running(run.result.incidentId), '');
  assert.ok(run.originalUnchanged, 'the original repository is untouched');
  // Cancelling an ended incident is refused, saying so.
  const again = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'cancel', run.result.incidentId],
      { env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS } },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
    ),
  );
  assert.equal(again.code, 6);
  assert.match(again.stderr, /has already ended \(completed\); nothing to cancel/);
});
