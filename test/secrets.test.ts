/**
 * Secrets: a canary model key and token in the worker's environment must appear nowhere in the
 * workflow history, the artifacts, the logs or the sandbox's environment; secrets in the incoming
 * error log are redacted before the model sees anything, and the redaction is in proof.json.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { redactSecrets } from '../activities/redact-secrets';
import { EXAMPLES, historyText, recordedTurns, remediate, allText } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

const [, FIX_OK, PR_OK] = recordedTurns('config-loader') as [ScriptedTurn, ScriptedTurn, ScriptedTurn];

/** Reproduces the bug and, first, prints the sandbox's whole environment. */
const REPRO_DUMPS_ENV: ScriptedTurn = {
  task: 'write_reproduction',
  answer:
    '```python\nimport json, os\nprint("ENV", json.dumps(dict(os.environ)))\nfrom app.config_loader import database_url, load_config\nurl = database_url(load_config({"database": "orders", "host": "db.internal"}))\nassert url.startswith("postgresql://"), url\n```\n',
};

/** Capture everything this process prints (the worker's logs included) while `fn` runs. */
async function captureOutput<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  let output = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tap =
    (write: typeof out) =>
    (chunk: string | Uint8Array, ...rest: never[]) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return write(chunk, ...rest);
    };
  process.stdout.write = tap(out);
  process.stderr.write = tap(err);
  try {
    return { value: await fn(), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('canary secrets in the worker environment reach no history, artifact, log or sandbox', async () => {
  const modelKey = `sk-canary-${randomUUID()}`;
  const token = `ghp_canary${randomUUID().replace(/-/g, '')}`;
  const saved = { key: process.env.OPENAI_API_KEY, token: process.env.GITHUB_TOKEN };
  process.env.OPENAI_API_KEY = modelKey;
  process.env.GITHUB_TOKEN = token;
  try {
    const { value: run, output } = await captureOutput(() =>
      remediate({ example: 'config-loader', turns: [REPRO_DUMPS_ENV, FIX_OK, PR_OK], modelFromEnv: true }),
    );
    assert.equal(run.result.status, 'approved', run.result.reason);
    // The key was really in use: it reached the model endpoint, and only there.
    assert.ok(run.model.requests.every((r) => r.authorization === `Bearer ${modelKey}`));
    const places: [string, string][] = [
      ['workflow history', historyText(run.history)],
      ['artifacts', allText(run.roots.artifactsDir)],
      ['work folder', allText(run.roots.workDir)],
      ['logs (everything printed during the run)', output],
      ['model prompts', run.model.requests.map((r) => r.system + r.prompt).join('\n')],
    ];
    for (const [where, text] of places) {
      assert.ok(text.length > 0, `${where} was searched and is not empty`);
      assert.ok(!text.includes(modelKey), `the model key leaked into ${where}`);
      assert.ok(!text.includes(token), `the token leaked into ${where}`);
    }
    // The sandbox's environment, as the reproduction printed it.
    const stdout = fs.readFileSync(run.result.reproductionAttempts[0]?.run?.stdoutPath ?? '', 'utf8');
    const env = JSON.parse(/^ENV (.*)$/m.exec(stdout)?.[1] ?? 'null') as Record<string, string>;
    assert.equal(env.HOME, '/tmp', 'the environment dump is real');
    assert.equal(env.OPENAI_API_KEY, undefined);
    assert.equal(env.GITHUB_TOKEN, undefined);
  } finally {
    process.env.OPENAI_API_KEY = saved.key;
    process.env.GITHUB_TOKEN = saved.token;
    if (saved.key === undefined) delete process.env.OPENAI_API_KEY;
    if (saved.token === undefined) delete process.env.GITHUB_TOKEN;
  }
});

const LOG_SECRETS = {
  aws: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHNndWFyZCJ9.c2lnbmF0dXJl',
  urlPassword: 'hunter2-Pr0d',
  privateKey: 'MIIEowIBAAKCAQEA7canaryPRIVATEKEYbody',
  github: `ghp_${'a1B2'.repeat(9)}`,
};

const LOG_WITH_SECRETS = `2026-11-21T03:12:09Z orders-service starting
DATABASE_URL=postgresql://orders:${LOG_SECRETS.urlPassword}@db.internal:5432/orders
AWS_ACCESS_KEY_ID=${LOG_SECRETS.aws} aws_secret_access_key=${LOG_SECRETS.awsSecret}
request headers: {'Authorization': 'Bearer ${LOG_SECRETS.bearer}'}
GITHUB_TOKEN=${LOG_SECRETS.github}
-----BEGIN RSA PRIVATE KEY-----
${LOG_SECRETS.privateKey}
-----END RSA PRIVATE KEY-----
${fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8')}`;

test('secrets in the incoming log are redacted before the model sees them, and proof.json says so', async () => {
  const [REPRO_OK] = recordedTurns('config-loader') as [ScriptedTurn];
  const run = await remediate({
    example: 'config-loader',
    errorLog: LOG_WITH_SECRETS,
    turns: [
      { ...REPRO_OK, expectInPrompt: ['[REDACTED:url_password]', '[REDACTED:private_key]', "KeyError: 'user'"] },
      FIX_OK,
      PR_OK,
    ],
  });
  assert.equal(run.result.status, 'approved', run.result.reason);
  const seenByModel = run.model.requests.map((r) => r.prompt).join('\n');
  const artifacts = allText(run.roots.artifactsDir);
  for (const [name, secret] of Object.entries(LOG_SECRETS)) {
    assert.ok(!seenByModel.includes(secret), `${name} reached the model`);
    assert.ok(!artifacts.includes(secret), `${name} reached an artifact`);
  }
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as {
    redactions: { kind: string; count: number }[];
  };
  const kinds = proof.redactions.map((r) => r.kind).sort();
  assert.deepEqual(kinds, [
    'aws_access_key_id',
    'aws_secret_access_key',
    'bearer_token',
    'github_token',
    'private_key',
    'url_password',
  ]);
  assert.match(
    fs.readFileSync(run.result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8'),
    /Redacted from the log before the model saw it: /,
  );
});

test('redaction keeps the traceback and ordinary text intact', () => {
  const tb = fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8');
  assert.deepEqual(redactSecrets(tb), { text: tb, redactions: [] });
  const { text } = redactSecrets('password=s3cretvalue token: abcdef123456 user=admin');
  assert.equal(text, 'password=[REDACTED:secret_assignment] token: [REDACTED:secret_assignment] user=admin');
});
