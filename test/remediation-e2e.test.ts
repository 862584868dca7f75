/**
 * The remediation workflow end to end: real Temporal dev server, real worker, real Docker
 * containers; the model is the scripted OpenAI-compatible server reached through @ai-sdk/openai.
 * Every scenario checks the status, the attempt counts, the artifacts' content, that patch.diff
 * applies to the original with `git apply --check`, and that the original is byte-for-byte unchanged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sha256 } from '../activities/incident-paths';
import { gitApplyCheck, recordedTurns, remediate } from './support/remediation-harness';
import type { RemediationRun } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

type Recorded = ScriptedTurn & { answer: string };
const [REPRO_OK, FIX_OK, PR_OK] = recordedTurns('config-loader') as [Recorded, Recorded, Recorded];
const CONFIG_SRC = fs.readFileSync(
  path.join(import.meta.dirname, '../examples/config-loader/repo/app/config_loader.py'),
  'utf8',
);

const repro = (code: string, expectInPrompt?: string[]): ScriptedTurn => ({
  task: 'write_reproduction',
  answer: `\`\`\`python\n${code}\n\`\`\`\n`,
  expectInPrompt,
});
const fix = (content: string, expectInPrompt?: string[]): ScriptedTurn => ({
  task: 'write_fix',
  answer: JSON.stringify({ summary: 'a candidate fix', files: [{ path: 'app/config_loader.py', content }] }),
  expectInPrompt,
});

/** Runs without error: the bug is not triggered (a hallucinated reproduction). */
const REPRO_PASSES = repro('from app.config_loader import load_config\nprint(load_config({"user": "x"}))');
/** Fails, but with another exception than the incident's KeyError. */
const REPRO_WRONG_EXCEPTION = repro('from app.config_loader import load_config\nload_config(None)');
/** Changes a comment only: the reproduction still raises KeyError. */
const FIX_COSMETIC = fix(CONFIG_SRC.replace('"""Loads the service', '"""Loads (and merges) the service'));
/** Reads another key: still a KeyError. */
const FIX_WRONG_KEY = fix(CONFIG_SRC.replace('config["user"]', 'config["username"]'));
/** Hard-codes the reproduction's answer: the reproduction passes, the repository's tests catch it. */
const FIX_HARDCODED = fix(
  CONFIG_SRC.replace(
    `    user = config["user"]\n    return f"postgresql://{user}@{config['host']}:{config['port']}/{config['database']}"`,
    '    return "postgresql://orders_app@db.internal:5432/orders"',
  ),
);

function assertCommon(run: RemediationRun): void {
  assert.ok(run.originalUnchanged, 'the original repository is byte-for-byte unchanged');
  assert.equal(run.containers.created, run.containers.destroyed, 'every container created was removed');
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as {
    status: string;
    incidentId: string;
  };
  assert.equal(proof.status, run.result.status, 'proof.json records the final status');
  assert.equal(proof.incidentId, run.result.incidentId);
  // Which workflow made the work folder, for the worker's retention sweep (work-folder-retention.ts).
  assert.deepEqual(
    JSON.parse(fs.readFileSync(path.join(run.roots.workDir, run.result.incidentId, 'owner.json'), 'utf8')),
    { workflowId: run.result.incidentId, namespace: 'default' },
  );
}

function assertVerified(run: RemediationRun, expected: { repro: number; fix: number }): void {
  const { result } = run;
  assert.equal(result.status, 'approved', result.reason);
  assert.equal(result.reproductionAttempts.length, expected.repro);
  assert.equal(result.fixAttempts.length, expected.fix);
  assertCommon(run);
  const a = result.artifacts;
  for (const name of ['patch.diff', 'PR_DESCRIPTION.md', 'reproduction.py', 'proof.json']) {
    assert.ok(a[name] && fs.existsSync(a[name]), `${name} exists`);
  }
  const check = gitApplyCheck(run.original, a['patch.diff'] ?? '');
  assert.ok(check.ok, `patch.diff applies to the original: ${check.output}`);
  const diff = fs.readFileSync(a['patch.diff'] ?? '', 'utf8');
  assert.match(diff, /^\+ {4}"user": "orders_app",$/m, 'the verified fix is in the patch');

  const script = fs.readFileSync(a['reproduction.py'] ?? '', 'utf8');
  assert.equal(
    script,
    /```python\n([\s\S]*?)```/.exec(REPRO_OK.answer)?.[1],
    'reproduction.py is the script that passed gate 1',
  );

  const pr = fs.readFileSync(a['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.ok(pr.startsWith('# Default the database user'), 'the model-written description comes first');
  assert.match(pr, /## Evidence \(appended by OpsGuard/);
  assert.match(pr, /### Before the patch: exit code 1, KeyError: 'user'/);
  assert.match(pr, /### After the patch \(fix attempt \d\): exit code 0/);
  assert.match(pr, /2 passed/, 'the repository tests result is in the evidence');

  const proof = JSON.parse(fs.readFileSync(a['proof.json'] ?? '', 'utf8')) as {
    reproductionAttempts: {
      scriptSha256?: string;
      run?: {
        exitCode: number;
        imageId: string;
        durationMs: number;
        limits: { memoryMb: number };
        exception: { type: string } | null;
      };
    }[];
    fixAttempts: { run?: { exitCode: number } }[];
    tokenUsage: { inputTokens: number; outputTokens: number };
  };
  const passing = proof.reproductionAttempts.at(-1);
  assert.equal(passing?.scriptSha256, sha256(script), 'proof.json pins the script by its hash');
  assert.equal(passing?.run?.exitCode, 1);
  assert.equal(passing?.run?.exception?.type, 'KeyError');
  assert.equal(passing?.run?.limits.memoryMb, 512);
  assert.match(passing?.run?.imageId ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.ok((passing?.run?.durationMs ?? 0) > 0);
  assert.equal(proof.fixAttempts.at(-1)?.run?.exitCode, 0);
  assert.ok(proof.tokenUsage.inputTokens > 0 && proof.tokenUsage.outputTokens > 0, 'token usage recorded');
  assert.equal(run.model.remaining(), 0, 'every scripted answer was asked for');
}

test('reproduced and fixed on the first tries (chat completions API)', async () => {
  const run = await remediate({ example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK] });
  assertVerified(run, { repro: 1, fix: 1 });
  // The environment is prepared once (one container, even with nothing to install: it reads the
  // interpreter and setup.py); gate 1 runs the reproduction 3 times, the baseline tests once, gate 2
  // the reproduction 3 times, the tests once.
  assert.equal(run.containers.created, 9);
  // Gate 1's and gate 2's three runs each took a container made while the model wrote; none was wasted.
  assert.deepEqual(run.warm, { prepared: 6, used: 6, discarded: 0 });
  assert.ok(run.model.requests.every((r) => r.path === '/v1/chat/completions'));
  // coverage.py measures only the runs a gate reads it from (proof-rules.ts coverageRuns): this
  // incident is not a failed check, so gate 1 reads none (the first is measured as evidence), and gate
  // 2 reads the first run with the fix, which must have executed the change.
  const measured = (runs: { coverage?: unknown }[] | undefined) => (runs ?? []).map((r) => r.coverage != null);
  assert.deepEqual(measured(run.result.reproductionAttempts[0]?.runs), [true, false, false]);
  const withFix = run.result.fixAttempts[0]?.runs;
  assert.deepEqual(measured(withFix), [true, false, false]);
  assert.ok((withFix?.[0]?.coverage?.executedChanged ?? 0) > 0, 'the first run with the fix executed the change');
});

test('the responses API can be chosen instead of chat completions', async () => {
  const run = await remediate({ example: 'config-loader', turns: [REPRO_OK, FIX_OK, PR_OK], api: 'responses' });
  assertVerified(run, { repro: 1, fix: 1 });
  assert.ok(run.model.requests.every((r) => r.path === '/v1/responses'));
});

test('a reproduction that passes is a hallucination: its output goes back, the second try reproduces', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [
      REPRO_PASSES,
      {
        ...REPRO_OK,
        expectInPrompt: [
          'Attempt 1 was refused: Not reproduced: the script ran to its end and exited 0',
          "'user': 'x'",
        ],
      },
      FIX_OK,
      PR_OK,
    ],
  });
  assertVerified(run, { repro: 2, fix: 1 });
  const first = run.result.reproductionAttempts[0];
  assert.equal(first?.run?.exitCode, 0);
  assert.equal(first?.gate.passed, false);
  assert.match(first?.gate.reason ?? '', /ran to its end and exited 0, so the bug did not happen/);
});

test('fix fails twice (still failing, then a hard-coded answer the tests catch), third passes', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [
      REPRO_OK,
      FIX_COSMETIC,
      {
        ...FIX_HARDCODED,
        expectInPrompt: ['Attempt 1 was refused: Not fixed: the reproduction still fails (exit code 1 with KeyError'],
      },
      { ...FIX_OK, expectInPrompt: ['Attempt 2 was refused: Regression', 'test_url_with_explicit_user'] },
      PR_OK,
    ],
  });
  assertVerified(run, { repro: 1, fix: 3 });
  const [f1, f2, f3] = run.result.fixAttempts;
  assert.equal(f1?.gate.passed, false);
  assert.equal(f1?.run?.exception?.type, 'KeyError');
  assert.equal(f2?.gate.passed, true, 'the hard-coded fix passes the reproduction...');
  assert.equal(f2?.testsGate?.passed, false, '...and is stopped by the repository tests');
  assert.equal(f3?.testsGate?.passed, true);
  // The workspace was restored between attempts: the final diff holds only the third fix.
  const diff = fs.readFileSync(run.result.artifacts['patch.diff'] ?? '', 'utf8');
  assert.doesNotMatch(diff, /Loads \(and merges\)|orders_app@db\.internal/);
});

test('never reproduced: two attempts, then reproduction_failed with its report and no fix asked for', async () => {
  const run = await remediate({ example: 'config-loader', turns: [REPRO_PASSES, REPRO_WRONG_EXCEPTION] });
  const { result } = run;
  assert.equal(result.status, 'reproduction_failed');
  assert.equal(result.reproductionAttempts.length, 2);
  assert.equal(result.fixAttempts.length, 0);
  assertCommon(run);
  assert.match(
    result.reproductionAttempts[1]?.gate.reason ?? '',
    /raised (AttributeError|TypeError).*expected KeyError/,
  );
  assert.equal(result.artifacts['patch.diff'], undefined);
  const report = fs.readFileSync(result.artifacts['failure_report.md'] ?? '', 'utf8');
  assert.match(report, /The bug could not be reproduced/);
  assert.match(report, /\| reproduce \| 2 \|/);
  assert.equal(run.model.requests.length, 2, 'no fix was requested');
});

test('never fixed: three attempts, then fix_failed with its report and no patch', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [REPRO_OK, FIX_COSMETIC, FIX_WRONG_KEY, FIX_COSMETIC],
  });
  const { result } = run;
  assert.equal(result.status, 'fix_failed');
  assert.equal(result.fixAttempts.length, 3);
  assert.ok(result.fixAttempts.every((f) => !f.gate.passed && f.run?.exitCode === 1));
  assertCommon(run);
  assert.equal(result.artifacts['patch.diff'], undefined);
  const report = fs.readFileSync(result.artifacts['failure_report.md'] ?? '', 'utf8');
  assert.match(report, /No fix could be verified/);
  assert.match(report, /\| fix \| 3 \|/);
  // The workspace ends restored to the baseline.
  const ws = path.join(run.roots.workDir, result.incidentId, 'workspace', 'app', 'config_loader.py');
  assert.equal(fs.readFileSync(ws, 'utf8'), CONFIG_SRC);
});

test('malformed model answers are failed attempts with a clear reason', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: [
      { task: 'write_reproduction', answer: "Sure! Here's what I would do: call database_url without a user." },
      { ...REPRO_OK, expectInPrompt: ['The answer is prose, not a script'] },
      { task: 'write_fix', answer: 'I changed config_loader.py to add a default user.' },
      {
        task: 'write_fix',
        answer: '{"summary": "x", "files": [{"path": "app/config_loader.py"}]}',
        expectInPrompt: ['The answer is not JSON'],
      },
      {
        task: 'write_fix',
        answer: JSON.stringify({ summary: 'x', files: [{ path: '../outside.py', content: 'x = 1\n' }] }),
        expectInPrompt: ['wrong shape'],
      },
    ],
  });
  const { result } = run;
  assert.equal(result.status, 'fix_failed');
  assert.equal(result.reproductionAttempts.length, 2);
  assert.match(result.reproductionAttempts[0]?.gate.reason ?? '', /refused: The answer is prose, not a script/);
  const reasons = result.fixAttempts.map((f) => f.gate.reason);
  assert.match(reasons[0] ?? '', /The answer is not JSON/);
  assert.match(reasons[1] ?? '', /wrong shape \(files\.0\.content: /);
  assert.match(reasons[2] ?? '', /\.\.\/outside\.py: '\.\.' would leave the repository/);
  assertCommon(run);
  assert.equal(
    fs.existsSync(path.join(run.roots.workDir, result.incidentId, 'outside.py')),
    false,
    'nothing written outside',
  );
  assert.equal(fs.existsSync(path.join(path.dirname(run.original), 'outside.py')), false);
  assert.ok(
    result.fixAttempts.every((f) => f.run === undefined),
    'no container ran for a refused answer',
  );
});

const INFRA_401 = `Traceback (most recent call last):
  File "/srv/orders-service/main.py", line 14, in <module>
    main()
  File "/srv/orders-service/app/config_loader.py", line 19, in database_url
    resp.raise_for_status()
  File "/usr/local/lib/python3.11/site-packages/requests/models.py", line 1021, in raise_for_status
    raise HTTPError(http_error_msg, response=self)
requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.example.com/v1/orders
`;

test('an infra log (401 from an API) ends in infra_error without any model call or container', async () => {
  const run = await remediate({ example: 'config-loader', turns: [], errorLog: INFRA_401 });
  const { result } = run;
  assert.equal(result.status, 'infra_error');
  assert.equal(result.classification?.kind, 'infra');
  assert.equal(run.model.requests.length, 0, 'no model call');
  assert.equal(run.containers.created, 0, 'no container');
  assertCommon(run);
  const report = fs.readFileSync(result.artifacts['infra_report.md'] ?? '', 'utf8');
  assert.match(report, /no code fix attempted/);
  assert.match(report, /HTTP 401 Unauthorized/);
  assert.match(report, /What an operator should check\n- HTTP 401 Unauthorized: check the credentials/);
});

test('an input with an unknown or malformed field fails at once with a clear, non-retryable error', async () => {
  await assert.rejects(
    remediate({ example: 'config-loader', turns: [], input: { repoPth: '/x', limits: { memoryMb: 999999 } } }),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'InvalidIncidentInput');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /unknown field: repoPth/);
      assert.match(cause.message, /limits\.memoryMb must be at most 8192/);
      return true;
    },
  );
});

const [RF_REPRO, RF_FIX, RF_PR] = recordedTurns('report-formatter') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
const FORMATTER_SRC = fs.readFileSync(
  path.join(import.meta.dirname, '../examples/report-formatter/repo/reports/formatter.py'),
  'utf8',
);

test('fail-to-pass: a test failing with the incident exception must pass; a fix for the reproduction only is incomplete', async () => {
  // Makes the reproduction pass (its assertion only checks the prefix) but not the test's two decimals.
  const truncatingFix: ScriptedTurn = {
    task: 'write_fix',
    answer: JSON.stringify({
      summary: 'stringify the total',
      files: [
        {
          path: 'reports/formatter.py',
          content: FORMATTER_SRC.replace('"Total: " + total(rows)', '"Total: " + str(int(total(rows)))'),
        },
      ],
    }),
  };
  const run = await remediate({
    example: 'report-formatter',
    turns: [
      RF_REPRO,
      truncatingFix,
      {
        ...RF_FIX,
        expectInPrompt: ['Incomplete: 1 of 1 tests that failed with the incident', 'test_report_ends_with_total'],
      },
      RF_PR,
    ],
  });
  const { result } = run;
  assert.equal(result.status, 'approved', result.reason);
  assert.deepEqual(result.baselineTests?.failToPassCandidates, [
    'tests/test_formatter.py::test_report_ends_with_total',
  ]);
  assert.deepEqual(result.baselineTests?.counts, { passed: 2, failed: 1, error: 0, skipped: 0, timeout: 0 });
  const [first, second] = result.fixAttempts;
  assert.equal(first?.gate.passed, true, 'the reproduction passes with the truncating fix...');
  assert.equal(first?.testsGate?.passed, false, '...but the inferred fail-to-pass test does not');
  assert.deepEqual(first?.tests?.regression?.failToPass.stillFailing, [
    'tests/test_formatter.py::test_report_ends_with_total',
  ]);
  assert.deepEqual(second?.tests?.regression, {
    passToPass: { count: 2, broken: [] },
    failToPass: { count: 1, stillFailing: [] },
    incomplete: { count: 0, stillFailing: [] },
    unrelatedFailures: [],
    exempted: [],
  });
  assertCommon(run);
  assert.ok(gitApplyCheck(run.original, result.artifacts['patch.diff'] ?? '').ok);
  assert.match(
    fs.readFileSync(result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8'),
    /pass-to-pass 2\/2 still pass; fail-to-pass 1\/1 now pass/,
  );
});
