/**
 * Repository secrets: which values are found (and which ordinary code is not mistaken for one),
 * placeholders in and out, files withheld by name, binary and oversized files left out, and what is
 * recorded (names and counts, never values).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { incidentPaths } from '../../activities/incident-paths';
import { refusePath } from '../../activities/patch-policy';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import {
  findSecretValues,
  isSecretFile,
  loadSecretMap,
  redact,
  restorePlaceholders,
  saveSecretMap,
  scanRepository,
} from '../../activities/repo-secrets';
import { readRepositoryRedactions } from '../../activities/repository-redactions';
import { incidentModelContext } from '../../activities/context/incident-context';

const SETTINGS = `
API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e"
DATABASE_URL = "postgresql://orders:Hunter2-canary-9931@db.internal:5432/orders"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SESSION_SECRET = 'aB3dE5gH7jK9'
webhook = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo0NTY3"
GITHUB = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
redis: redis://:s3cr3t-Pass@cache:6379/0
SIGNING_KEY = """-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBg
-----END PRIVATE KEY-----"""
`;

test('secret values in the forms repositories hold them are found', () => {
  const values = new Set(findSecretValues(SETTINGS).map((s) => s.value));
  for (const v of [
    'sk-live-4f9a8b7c6d5e4f3a2b1c0d9e',
    'Hunter2-canary-9931',
    'AKIAIOSFODNN7EXAMPLE',
    'aB3dE5gH7jK9',
    'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo0NTY3',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    's3cr3t-Pass',
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----',
  ])
    assert.ok(values.has(v), `found ${v.slice(0, 20)}`);
});

test('a secret-named assignment alone in a file is found, for every form and case of the name', () => {
  // The scan skips the assignment pattern in files that mention no secret-like word: each word, in
  // any case, must still reach it (a file holding one such line and nothing else).
  const names = ['api_key', 'API-KEY', 'ApiKey', 'client_secret', 'Auth_Token', 'db_passwd', 'DB_PASSWORD'].concat([
    'smtp_pwd',
    'Credential',
    'PRIVATE_KEY',
    'privateKey',
    'access-key',
    'AccessKey',
    'oauth',
  ]);
  for (const name of names) {
    const text = `# settings\n${name} = "Zq8-rT4v-Lp2x"\n`;
    assert.deepEqual(
      findSecretValues(text).map((s) => s.value),
      ['Zq8-rT4v-Lp2x'],
      `${name} = "..." found`,
    );
  }
  assert.deepEqual(findSecretValues('colour = "Zq8-rT4v-Lp2x"\n'), [], 'a name saying nothing of secrets is not one');
});

test('ordinary code is not a secret (values are replaced everywhere later, so words must never be)', () => {
  const code = `
password_field = "password"
token = request.headers["X-Token"]
SECRET_KEY = os.environ.get("SECRET_KEY")
client_secret: Optional[str] = None
def check_password(password: str) -> bool:
    api_key = settings.API_KEY
TOKEN_URL = "https://auth.example.com/oauth/token"
secret_path = "/etc/app/secret.json"
PASSWORD_MIN_LENGTH = 12
auth_header = f"Bearer {token}"
password = "\${DB_PASSWORD}"
`;
  assert.deepEqual(findSecretValues(code), []);
});

test('placeholders: known values out and back in; a foreign placeholder is refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-secrets-'));
  fs.writeFileSync(path.join(dir, 'settings.py'), SETTINGS);
  fs.writeFileSync(path.join(dir, '.env'), 'STRIPE_SECRET=whsec_0123456789abcdefABCDEF\n');
  const map = await scanRepository(dir, ['settings.py', '.env']);
  assert.deepEqual(map.secretFiles, ['.env']);
  const shown = redact(SETTINGS, map);
  assert.ok(!shown.text.includes('Hunter2-canary-9931') && !shown.text.includes('MIIEvQIBADANBg'));
  assert.match(shown.text, /postgresql:\/\/orders:\[REDACTED:url_password#\d+\]@db\.internal/);
  assert.ok(shown.counts.url_password && shown.counts.private_key);
  // The model edits the file as shown; the values come back.
  const edited = shown.text.replace('SESSION_SECRET', 'SESSION_COOKIE_SECRET');
  const restored = restorePlaceholders(edited, map);
  assert.ok(restored.ok);
  assert.equal(restored.content, SETTINGS.replace('SESSION_SECRET', 'SESSION_COOKIE_SECRET'));
  // A placeholder OpsGuard did not issue (invented, or the log's anonymous form) cannot be restored.
  const foreign = restorePlaceholders('KEY = "[REDACTED:api_key#99]"\nX = "[REDACTED:url_password]"\n', map);
  assert.deepEqual(foreign, { ok: false, placeholders: ['[REDACTED:api_key#99]', '[REDACTED:url_password]'] });
  // The map lives in the work folder, readable by the worker only.
  const file = path.join(dir, 'secret-map.json');
  await saveSecretMap(file, map);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(await loadSecretMap(file), map);
});

test('the model context withholds secret files by name, redacts values, shows an oversized file in excerpts; all is recorded', async () => {
  const roots = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-source-'));
  const paths = incidentPaths({ artifactsDir: path.join(roots, 'a'), workDir: path.join(roots, 'w') }, 'inc');
  fs.mkdirSync(paths.baseline, { recursive: true });
  const filler = Array.from({ length: 400 }, (_, i) => `def unrelated_${i}(x):\n    return x + ${i}\n`).join('\n');
  const files: Record<string, string | Buffer> = {
    'app/settings.py': `${SETTINGS}\ndef database_url():\n    return DATABASE_URL\n`,
    'app/big.py': `from app.settings import database_url\n\n${filler}\n\ndef connect():\n    return open_db(database_url())\n`,
    'app/blob.py': Buffer.from([0x70, 0x00, 0x01]),
    '.env': 'A_SECRET=abcdef123456\n',
    'deploy/id_rsa': 'key',
  };
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(paths.baseline, rel)), { recursive: true });
    fs.writeFileSync(path.join(paths.baseline, rel), content);
  }
  await saveSecretMap(paths.secrets, await scanRepository(paths.baseline, Object.keys(files)));
  const frame = (repoPath: string, line: number, func: string) => ({ file: `/srv/${repoPath}`, line, func, repoPath });
  const bigLines = String(files['app/big.py']).split('\n');
  const ctx = {
    incidentId: 'inc',
    repoPath: roots,
    errorLog: 'Traceback (most recent call last):\nNameError: name open_db is not defined',
    exceptionType: 'NameError',
    frames: [frame('app/big.py', bigLines.findIndex((l) => l.includes('open_db(')) + 1, 'connect')],
    testsFound: false,
  };
  const context = await incidentModelContext(paths, ctx, {
    promptFileBytes: 4096,
    cacheDir: path.join(roots, 'cache'),
  });
  const shown = Object.fromEntries(context.code.files.map((f) => [f.path, f]));
  assert.equal(shown['app/big.py']?.shown, 'excerpt', 'a file over the size limit contributes excerpts, not nothing');
  assert.ok(shown['app/big.py']?.symbols.includes('connect'));
  assert.match(shown['app/big.py'].content, /def connect\(\):/);
  assert.doesNotMatch(shown['app/big.py'].content, /def unrelated_200/, 'unrelated definitions stay out');
  assert.match(shown['app/big.py'].content, /# \.\.\. \(lines \d+-\d+ not shown\)/);
  assert.equal(shown['app/settings.py']?.shown, 'whole', "the called helper's module is shown (it is small)");
  assert.ok(!JSON.stringify(context).includes('Hunter2'), 'no secret value in what the model is shown');
  assert.ok(!Object.keys(shown).some((f) => f === '.env' || f === 'deploy/id_rsa' || f === 'app/blob.py'));
  assert.deepEqual(context.withheld.sort(), ['.env', 'deploy/id_rsa']);
  const report = await readRepositoryRedactions(paths);
  assert.ok(report.redacted['app/settings.py']?.url_password);
  assert.ok(!JSON.stringify(report).includes('Hunter2'), 'the record holds names and counts, never values');
});

test('secret files by name, and a fix may not write one', () => {
  for (const f of [
    '.env',
    '.env.production',
    'config/prod.pem',
    'deploy/id_ed25519',
    '.netrc',
    '.pypirc',
    'credentials.json',
    'k8s/kubeconfig',
    'secrets.yaml',
  ])
    assert.ok(isSecretFile(f), f);
  for (const f of ['envoy.py', 'app/environment.py', 'docs/keys.md', 'tests/test_credentials.py'])
    assert.ok(!isSecretFile(f), f);
  assert.match(refusePath('.env', DEFAULT_PATCH_POLICY) ?? '', /files that hold secrets/);
});

test('a repository outside the roots is refused before anything is copied or scanned', async () => {
  const { setupWorkspace } = await import('../../activities/workspace');
  const roots = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-roots-'));
  const allowed = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-allowed-'));
  const workDir = path.join(roots, 'work');
  await assert.rejects(
    setupWorkspace(
      {
        artifactsDir: path.join(roots, 'artifacts'),
        workDir,
        repositories: { roots: [allowed], maxBytes: 1 << 30, promptFileBytes: 1 << 20 },
      },
      {
        incidentId: 'outside',
        repoPath: '/root',
        errorLog: 'Traceback (most recent call last):\n  File "/root/.ssh/id_rsa", line 1, in <module>\nKeyError: 1\n',
      },
    ),
    /outside the folders this worker may read \(OPSGUARD_REPO_ROOTS: /,
  );
  assert.equal(fs.existsSync(workDir), false, 'no workspace, no copy, no scan');
  // Too big is refused the same way.
  const repo = fs.mkdtempSync(path.join(allowed, 'repo-'));
  fs.writeFileSync(path.join(repo, 'big.bin'), Buffer.alloc(2048));
  await assert.rejects(
    setupWorkspace(
      {
        artifactsDir: path.join(roots, 'artifacts'),
        workDir,
        repositories: { roots: [allowed], maxBytes: 1024, promptFileBytes: 1024 },
      },
      { incidentId: 'big', repoPath: repo, errorLog: 'x' },
    ),
    /holds more than 0 MiB \(OPSGUARD_REPO_MAX_MB\)/,
  );
  assert.equal(fs.existsSync(workDir), false);
});
