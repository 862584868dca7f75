/**
 * The fix's model retrieves code itself (activities/context/retrieval-tools.ts), end to end: real
 * Temporal, real Docker, the scripted model making tool calls through @ai-sdk/openai's chat and
 * responses APIs. The repository (test/fixtures/repos/pricing-tools) is a nightly job whose assert
 * catches a wrong quote; the wrong rounding lives in a helper module the traceback never passes
 * through, beside a settings module holding a token and a .env file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { recordedTurns, remediate, testRepositories } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';
import type { ToolUse } from '../workflows/incident-types';

const TOKEN = 'sk-live-9fQ2xV7mR4tL8nB3kZ6pW1yD5hJ0cA';

/** The reproduction, the fix (an exact-text edit of money.py) and the PR description. */
const [REPRO, FIX, PR] = recordedTurns('pricing-tools') as [
  ScriptedTurn,
  ScriptedTurn & { answer: string },
  ScriptedTurn,
];
const EDIT = FIX.answer;

test('the fix model searches, reads and edits a module outside the traceback; secrets and paths out of the repository refused', async () => {
  const fix: ScriptedTurn = {
    task: 'write_fix',
    expectInPrompt: ['## Tools', 'at most 8 calls'],
    toolCalls: [
      [{ name: 'search_code', input: { query: 'def round_cents' } }],
      [
        { name: 'read_file', input: { path: 'pricing/money.py' } },
        { name: 'read_file', input: { path: '.env' } },
        { name: 'read_file', input: { path: 'jobs/../../outside.txt' } },
        { name: 'read_symbol', input: { name: 'quote' } },
        { name: 'read_file', input: { path: 'pricing/settings.py' } },
        { name: 'list_dir', input: { path: '.' } },
      ],
    ],
    answer: EDIT,
  };
  const run = await remediate({
    example: 'pricing-tools',
    turns: [REPRO, fix, PR],
    prepare: (original) => fs.writeFileSync(path.join(original, '..', 'outside.txt'), `${TOKEN} outside\n`),
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  assert.ok(run.originalUnchanged, 'the original repository was not touched');

  // What the model got back, as the scripted server received it.
  const fixRequests = run.model.requests.filter((r) => r.task === 'write_fix');
  assert.equal(fixRequests.length, 3, 'two rounds of tool calls, then the answer');
  assert.deepEqual(fixRequests[0]?.tools.sort(), ['list_dir', 'read_file', 'read_symbol', 'search_code']);
  const results = fixRequests[2]?.toolResults ?? [];
  assert.equal(results.length, 7);
  const [search, money, env, outside, symbol, settings, dir] = results;
  assert.match(search ?? '', /^pricing\/money\.py:4: def round_cents\(amount\):/m);
  assert.match(money ?? '', /^6: {5}return int\(amount \* 100\) \/ 100$/m);
  assert.match(env ?? '', /^refused: \.env holds secrets and is withheld/);
  assert.match(outside ?? '', /^refused: the path leads outside the repository/);
  assert.match(symbol ?? '', /pricing\/quote\.py lines 5-9: quote/);
  assert.match(settings ?? '', /BILLING_API_TOKEN = "\[REDACTED:[a-z_]+#\d+\]"/);
  assert.match(dir ?? '', /^\.env \(withheld: holds secrets\)$/m);
  assert.match(dir ?? '', /^pricing\/$/m);
  const sent = run.model.requests.map((r) => r.prompt + r.toolResults.join('\n')).join('\n');
  assert.ok(!sent.includes(TOKEN), 'the repository token never reached the model');

  // The edit applied to the file read through the tool, verified by the gates.
  const diff = fs.readFileSync(run.result.artifacts['patch.diff'] ?? '', 'utf8');
  assert.match(diff, /^\+\+\+ b\/pricing\/money\.py$/m);
  assert.match(diff, /^\+ {4}return round\(amount \* 100\) \/ 100$/m);

  // Every call, its outcome and its result size: in the result (history), proof.json and the attempt folder.
  const tools = run.result.fixAttempts[0]?.model.tools as ToolUse;
  assert.equal(tools.maxCalls, 8);
  assert.deepEqual(
    tools.calls.map((c) => `${c.tool}:${c.outcome}`),
    [
      'search_code:ok',
      'read_file:ok',
      'read_file:refused',
      'read_file:refused',
      'read_symbol:ok',
      'read_file:ok',
      'list_dir:ok',
    ],
  );
  assert.ok(tools.calls.every((c) => c.resultTokens > 0));
  assert.equal(
    tools.resultTokens,
    tools.calls.reduce((a, c) => a + c.resultTokens, 0),
  );
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as {
    fixAttempts: { model: { tools?: ToolUse } }[];
  };
  assert.deepEqual(proof.fixAttempts[0]?.model.tools, tools);
  const attemptDir = path.join(run.roots.artifactsDir, run.result.incidentId, 'attempts', 'fix-1');
  const logged = JSON.parse(fs.readFileSync(path.join(attemptDir, 'tool-calls.json'), 'utf8')) as {
    calls: unknown[];
    results: string[];
  };
  assert.equal(logged.calls.length, 7);
  assert.deepEqual(logged.results, results, 'the attempt folder holds exactly what the model got');
  assert.ok(!run.historyJson.includes('return int(amount'), 'tool results stay out of history');
});

test('tool calls through the responses API; with OPSGUARD_MODEL_TOOL_CALLS=0 no tool is offered', async () => {
  const viaResponses = await remediate({
    example: 'pricing-tools',
    api: 'responses',
    turns: [
      REPRO,
      {
        task: 'write_fix',
        toolCalls: [[{ name: 'read_symbol', input: { name: 'round_cents', path: 'pricing/money.py' } }]],
        answer: EDIT,
      },
      PR,
    ],
  });
  assert.equal(viaResponses.result.status, 'approved', viaResponses.result.reason);
  const last = viaResponses.model.requests.filter((r) => r.task === 'write_fix').at(-1);
  assert.match(last?.toolResults[0] ?? '', /pricing\/money\.py lines 4-6: round_cents/);

  const without = await remediate({
    example: 'pricing-tools',
    repositories: { ...testRepositories(), modelToolCalls: 0 },
    turns: [
      REPRO,
      {
        task: 'write_fix',
        answer: (prompt) =>
          // Edits of a file shown whole apply too: this one is in the prompt, not read with a tool.
          prompt.includes('### pricing/money.py\n') ? EDIT : '{"summary": "money.py was not shown", "files": []}',
      },
      PR,
    ],
  });
  assert.equal(without.result.status, 'approved', without.result.reason);
  const fixRequest = without.model.requests.find((r) => r.task === 'write_fix');
  assert.deepEqual(fixRequest?.tools, []);
  assert.ok(!fixRequest?.prompt.includes('## Tools'));
  assert.equal(without.result.fixAttempts[0]?.model.tools, undefined);
});
