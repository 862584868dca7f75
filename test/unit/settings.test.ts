/**
 * The settings module: every variable the code reads is documented in README.md, the defaults are
 * the local ones, mistakes are one-line errors naming the variable, and Temporal connections follow
 * Temporal's own configuration (environment variables and temporal.toml profiles).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { modelApiKey, PROJECT_ROOT, SettingsError, settingsFromEnv } from '../../worker/settings';

/** Files that read variables: the settings module, the set-up scripts, the test harness. */
function sources(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? walk(p) : [p];
    });
  return [
    path.join(PROJECT_ROOT, 'worker', 'settings.ts'),
    ...walk(path.join(PROJECT_ROOT, 'scripts')),
    ...walk(path.join(PROJECT_ROOT, 'test', 'support')),
    path.join(PROJECT_ROOT, 'test', 'web-ui.test.ts'),
  ];
}

test('README.md names every variable the code reads', () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const names = new Set<string>();
  for (const file of sources()) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/\b(?:OPSGUARD|OPENAI)_[A-Z0-9_]+[A-Z0-9]\b/g))
      names.add(m[0]);
  }
  assert.ok(names.size >= 20, `found ${names.size} variables: the scan itself works`);
  const missing = [...names].filter((n) => !readme.includes(`\`${n}\``) && !readme.includes(n));
  assert.deepEqual(missing, [], `README.md does not mention: ${missing.join(', ')}`);
});

test('local defaults, and the model key kept out of the settings object', () => {
  const s = settingsFromEnv({ OPENAI_API_KEY: 'sk-canary-not-in-settings', USER: 'alice' });
  assert.equal(s.temporal.address, '127.0.0.1:7233');
  assert.equal(s.temporal.namespace, 'default');
  assert.equal(s.temporal.secure, false);
  assert.equal(s.taskQueue, 'opsguard');
  assert.equal(s.uiPort, 8233);
  assert.equal(s.logLevel, 'WARN');
  assert.equal(s.operatorName, 'alice');
  assert.deepEqual(s.model, { modelId: 'gpt-4.1', api: 'chat', keyConfigured: true, timeoutSeconds: 180 });
  assert.equal(s.testPauseAt, null, 'no fault point unless a test sets one');
  assert.equal(s.artifactStore, undefined, 'artifacts in the folder only unless a bucket is named');
  assert.deepEqual(
    settingsFromEnv({
      OPSGUARD_ARTIFACTS_S3: 's3://ops/prod',
      AWS_REGION: 'eu-west-1',
      AWS_SECRET_ACCESS_KEY: 'canary-s3',
    }).artifactStore,
    { bucket: 'ops', prefix: 'prod', region: 'eu-west-1' },
  );
  assert.ok(!JSON.stringify(s).includes('sk-canary-not-in-settings'), 'the key is not in Settings');
  assert.equal(modelApiKey({ OPENAI_API_KEY: 'sk-canary-not-in-settings' }), 'sk-canary-not-in-settings');
});

test('a wrong value is a SettingsError naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ OPSGUARD_LOG_LEVEL: 'LOUD' }, /OPSGUARD_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, not 'LOUD'/],
    [{ OPSGUARD_OPENAI_API: 'completions' }, /OPSGUARD_OPENAI_API must be 'chat' or 'responses'/],
    [{ OPSGUARD_UI_PORT: 'eighty' }, /OPSGUARD_UI_PORT must be a positive number, not 'eighty'/],
    [{ OPSGUARD_DECISION_TIMEOUT_MS: '-1' }, /OPSGUARD_DECISION_TIMEOUT_MS must be a positive number/],
    [{ OPSGUARD_WORK_RETENTION_HOURS: '-2' }, /OPSGUARD_WORK_RETENTION_HOURS must be a number of 0 or more, not '-2'/],
    [{ OPSGUARD_TEMPORAL_HTTP_URL: '127.0.0.1:7243' }, /OPSGUARD_TEMPORAL_HTTP_URL must be an http:\/\/ URL or 'off'/],
    [{ OPSGUARD_TEMPORAL_HTTP_URL: 'https://temporal.internal:7243' }, /must be a plain http:\/\/ URL/],
    [{ OPSGUARD_ARTIFACTS_S3: 'ops-artifacts' }, /OPSGUARD_ARTIFACTS_S3 must be s3:\/\/<bucket>\[\/<prefix>\]/],
    [{ OPSGUARD_S3_ENDPOINT: 'http://minio:9000' }, /OPSGUARD_S3_ENDPOINT is set but OPSGUARD_ARTIFACTS_S3/],
    [
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
      },
      /Temporal connection settings cannot be read .*\/nonexistent\/client\.pem/,
    ],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => settingsFromEnv(env),
      (err: unknown) => err instanceof SettingsError && message.test(err.message),
      JSON.stringify(env),
    );
  }
});

test("Temporal's own configuration: environment variables, API keys and temporal.toml profiles", () => {
  const cloud = settingsFromEnv({
    TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
    TEMPORAL_API_KEY: 'api-key-canary',
  });
  assert.equal(cloud.temporal.address, 'my-ns.a1b2c.tmprl.cloud:7233');
  assert.equal(cloud.temporal.namespace, 'my-ns.a1b2c');
  assert.equal(cloud.temporal.secure, true, 'an API key implies TLS');
  assert.equal(cloud.temporal.connectionOptions.apiKey, 'api-key-canary');
  assert.equal(cloud.temporal.connectionOptions.tls, true);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-envconfig-'));
  fs.writeFileSync(path.join(dir, 'client.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(path.join(dir, 'client.key'), '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
  const toml = path.join(dir, 'temporal.toml');
  fs.writeFileSync(
    toml,
    [
      '[profile.prod]',
      'address = "temporal.internal:7233"',
      'namespace = "payments"',
      '[profile.prod.tls]',
      `client_cert_path = "${path.join(dir, 'client.pem')}"`,
      `client_key_path = "${path.join(dir, 'client.key')}"`,
      'server_name = "temporal.internal"',
      '',
    ].join('\n'),
  );
  const prod = settingsFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
  assert.equal(prod.temporal.address, 'temporal.internal:7233');
  assert.equal(prod.temporal.namespace, 'payments');
  assert.equal(prod.temporal.secure, true);
  const tls = prod.temporal.connectionOptions.tls;
  assert.ok(tls && typeof tls === 'object' && tls.clientCertPair && tls.serverNameOverride === 'temporal.internal');
  // The environment overrides the profile, as with the temporal CLI.
  assert.equal(
    settingsFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'staging' }).temporal
      .namespace,
    'staging',
  );
});

test("the command line's HTTP API: the local server's by default, never a secure cluster's unless asked", () => {
  const http = (env: Record<string, string>) => settingsFromEnv(env).temporal.httpApi;
  assert.equal(http({}), 'http://127.0.0.1:7243', 'the dev server OpsGuard starts: gRPC port + 10');
  assert.equal(http({ TEMPORAL_ADDRESS: 'localhost:17233' }), 'http://localhost:17243');
  assert.equal(
    http({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }),
    null,
    'another machine: gRPC unless a URL is given',
  );
  assert.equal(http({ TEMPORAL_API_KEY: 'k' }), null, 'credentials are not sent over plain HTTP');
  assert.equal(http({ OPSGUARD_TEMPORAL_HTTP_URL: 'off' }), null);
  assert.equal(
    http({ TEMPORAL_ADDRESS: 'temporal.internal:7233', OPSGUARD_TEMPORAL_HTTP_URL: 'http://temporal.internal:7243/' }),
    'http://temporal.internal:7243',
  );
});
