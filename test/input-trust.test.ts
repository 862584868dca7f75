/**
 * Trust boundaries of the input, on the real Temporal server, worker and Docker, with the scripted
 * model recording every request: a repository outside the worker's roots (or a symlink out of them)
 * is refused before anything is copied; secrets in a repository's files (an API key, a password in a
 * database URL, a private-key block, a .env file) reach no model request, no artifact and no history,
 * while the fix is written with the original values intact.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../workflows/error-types';
import { historyText, remediate, testRepositories, allText } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

const canary = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}Zq9`;
const API_KEY = canary('sk-live-');
const DB_PASSWORD = canary('Pw-');
const PRIVATE_KEY_BODY = `MIIEow${randomBytes(24).toString('base64')}`;
const WEBHOOK_SECRET = canary('whsec_');
const CANARIES = [API_KEY, DB_PASSWORD, PRIVATE_KEY_BODY, WEBHOOK_SECRET];

function billingRepo(root: string): void {
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('billing/__init__.py', '');
  write(
    'billing/settings.py',
    `"""Billing service settings (secrets inline, as too many services still have them)."""
DATABASE_URL = "postgresql://billing:${DB_PASSWORD}@db.internal:5432/billing"
SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----
${PRIVATE_KEY_BODY}
-----END RSA PRIVATE KEY-----"""


def provider_headers(overrides):
    """Headers for the payment provider; the timeout may be overridden per call."""
    token = "${API_KEY}"
    return {"Authorization": "Bearer " + token, "X-Timeout": str(overrides["timeout"])}
`,
  );
  write('.env', `STRIPE_WEBHOOK_SECRET=${WEBHOOK_SECRET}\n`);
  write(
    'jobs/charge.py',
    'from billing.settings import provider_headers\n\n\ndef main():\n    print(provider_headers({}))\n\n\nif __name__ == "__main__":\n    main()\n',
  );
  write(
    'tests/test_settings.py',
    'from billing.settings import provider_headers\n\n\ndef test_timeout_override():\n    assert provider_headers({"timeout": 5})["X-Timeout"] == "5"\n',
  );
}

const INCIDENT = `Traceback (most recent call last):
  File "/srv/billing/jobs/charge.py", line 9, in <module>
    main()
  File "/srv/billing/jobs/charge.py", line 5, in main
    print(provider_headers({}))
  File "/srv/billing/billing/settings.py", line 11, in provider_headers
    return {"Authorization": "Bearer " + token, "X-Timeout": str(overrides["timeout"])}
KeyError: 'timeout'
`;

/** The fix edits settings.py as the model was shown it: placeholders kept, the buggy line changed. */
function fixFromPrompt(prompt: string): string {
  const shown = /### billing\/settings\.py\n```python\n([\s\S]*?)```/.exec(prompt)?.[1];
  assert.ok(shown, 'the prompt shows billing/settings.py');
  assert.match(shown, /token = "\[REDACTED:api_key#\d+\]"/, 'the key is a placeholder in the prompt');
  const content = shown.replace('str(overrides["timeout"])', 'str(overrides.get("timeout", 30))');
  return JSON.stringify({
    summary: 'Default the timeout to 30 s when it is not overridden.',
    files: [{ path: 'billing/settings.py', content }],
  });
}

const TURNS: ScriptedTurn[] = [
  {
    task: 'write_reproduction',
    answer:
      '```python\nfrom billing.settings import provider_headers\n\nheaders = provider_headers({})\nassert headers["X-Timeout"] == "30", headers\n```\n',
    expectInPrompt: ['Files withheld from you because they hold secrets', '.env'],
  },
  { task: 'write_fix', answer: fixFromPrompt },
  {
    task: 'write_pr_description',
    answer: '# Default the provider timeout\n\n## Root cause\nx\n\n## Change\ny\n\n## Risk\nLow.\n',
  },
];

test('secrets in repository files reach no model request, artifact or history; the fix keeps them', async () => {
  const run = await remediate({
    example: 'config-loader',
    turns: TURNS,
    errorLog: INCIDENT,
    prepare: (original) => {
      fs.rmSync(original, { recursive: true, force: true });
      billingRepo(original);
      // A git repository: delivery commits the fix (with the real values) on a local branch.
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd: original });
      git('init', '-q', '-b', 'main');
      git('add', '-A');
      git('commit', '-q', '-m', 'billing');
    },
  });
  assert.equal(run.result.status, 'delivered', run.result.reason);
  assert.equal(run.model.requests.length, 3, 'the model was asked three times');
  const places: [string, string][] = [
    ['model requests', run.model.requests.map((r) => r.system + r.prompt).join('\n')],
    ['artifacts', allText(run.roots.artifactsDir)],
    ['workflow history (payloads decoded)', historyText(run.history)],
  ];
  for (const [where, text] of places) {
    assert.ok(text.length > 1000, `${where} was searched and is not empty`);
    for (const c of CANARIES)
      assert.ok(!text.includes(c), `a repository secret (${c.slice(0, 8)}…) leaked into ${where}`);
  }
  // The model saw the redacted file and the withheld file's name.
  const prompts = run.model.requests.map((r) => r.prompt).join('\n');
  assert.match(prompts, /postgresql:\/\/billing:\[REDACTED:url_password#\d+\]@db\.internal/);
  assert.match(prompts, /\[REDACTED:private_key#\d+\]/);
  // The patched file in the workspace holds the original values beside the changed line.
  const patched = fs.readFileSync(
    path.join(run.roots.workDir, run.result.incidentId, 'workspace', 'billing', 'settings.py'),
    'utf8',
  );
  assert.ok(patched.includes(`token = "${API_KEY}"`), 'the line next to the fix keeps its real value');
  assert.ok(patched.includes(DB_PASSWORD) && patched.includes(PRIVATE_KEY_BODY));
  assert.ok(patched.includes('overrides.get("timeout", 30)'));
  assert.ok(!patched.includes('[REDACTED'), 'no placeholder was written');
  // proof.json and the PR evidence say what was kept from the model: names and counts only.
  const proof = JSON.parse(fs.readFileSync(run.result.artifacts['proof.json'] ?? '', 'utf8')) as {
    repositoryRedactions: { withheld: string[]; redacted: Record<string, Record<string, number>> };
  };
  assert.deepEqual(proof.repositoryRedactions.withheld, ['.env']);
  assert.ok(proof.repositoryRedactions.redacted['billing/settings.py'], JSON.stringify(proof.repositoryRedactions));
  const pr = fs.readFileSync(run.result.artifacts['PR_DESCRIPTION.md'] ?? '', 'utf8');
  assert.match(pr, /Repository secrets kept from the model: withheld \.env; values redacted in billing\/settings\.py/);
  // The delivered commit holds the real values (as the workspace does), never a placeholder.
  const branch = run.result.delivery?.branch ?? '';
  const committed = execFileSync('git', ['show', `${branch}:billing/settings.py`], {
    cwd: run.original,
    encoding: 'utf8',
  });
  assert.equal(committed, patched, 'the commit holds exactly the verified file');
  const message = execFileSync('git', ['log', '-1', '--format=%B', branch], { cwd: run.original, encoding: 'utf8' });
  for (const c of CANARIES) assert.ok(!message.includes(c), 'no secret in the commit message');
  // patch.diff shows the neighbouring value as its placeholder.
  assert.match(fs.readFileSync(run.result.artifacts['patch.diff'] ?? '', 'utf8'), /token = "\[REDACTED:api_key#\d+\]"/);
});

async function refused(repoPath: string): Promise<{ message: string }> {
  const allowed = fs.mkdtempSync(path.join(PROJECT_TMP, 'allowed-'));
  try {
    await remediate({
      example: 'config-loader',
      turns: [],
      input: { repoPath },
      errorLog:
        'Traceback (most recent call last):\n  File "/root/.ssh/id_rsa", line 1, in <module>\n    x\nKeyError: \'x\'\n',
      repositories: { ...testRepositories(), roots: [allowed] },
    });
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause?.cause ?? err.cause;
    assert.ok(
      cause instanceof ApplicationFailure,
      `not an ApplicationFailure: ${(cause as Error | undefined)?.message}`,
    );
    assert.equal(cause.type, ERROR_TYPES.repoNotAllowed);
    assert.equal(cause.nonRetryable, true);
    return { message: cause.message };
  }
  assert.fail('the workflow should have failed');
}

const PROJECT_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-trust-'));

test('a repository outside the allowed roots is refused before any copy, naming the setting', async () => {
  const { message } = await refused('/root');
  assert.match(message, /repoPath \/root is outside the folders this worker may read \(OPSGUARD_REPO_ROOTS: /);
});

test('a symlinked repository that resolves outside the allowed roots is refused', async () => {
  const link = path.join(PROJECT_TMP, 'innocent-repo');
  fs.symlinkSync('/etc', link);
  const { message } = await refused(link);
  assert.match(message, /innocent-repo \(really \/etc\) is outside the folders this worker may read/);
});
