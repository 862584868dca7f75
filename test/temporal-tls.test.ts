/**
 * Production connections for real: the dev server has no TLS flags, so Debian's nginx stands in front
 * of it as a production cluster's frontend would (TLS, client certificates required, `grpc_pass`).
 * Certificates are made here with openssl. A worker and the `opsguard` CLI configured the way
 * Temporal's own tools are (TEMPORAL_TLS_* variables, read by worker/settings.ts through
 * @temporalio/envconfig) connect and run a workflow through it; without a client certificate, or with
 * one from another authority, they are refused.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createSmokeActivities } from '../activities/ping';
import { bundleWorkflows, createWorker, installRuntimeOnce } from '../worker/create-worker';
import { PROJECT_ROOT, settingsFromEnv } from '../worker/settings';
import type { smokeWorkflow } from '../workflows/smoke';
import { startTestServer, TEST_TEMPORAL_ADDRESS } from './support/temporal';

const NGINX = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 / temporal.test, a client certificate, and a rogue one. */
function makeCertificates(dir: string): void {
  const ca = (name: string) => {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    );
  };
  const leaf = (name: string, issuer: string, ext: string) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  ca('test-ca');
  ca('rogue-ca');
  leaf('server', 'test-ca', 'subjectAltName=DNS:temporal.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('worker', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function startNginx(dir: string, port: number): Promise<ChildProcess> {
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events {}
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;
    ssl_client_certificate ${dir}/test-ca.pem;
    ssl_verify_client on;
    grpc_read_timeout 300s;
    grpc_send_timeout 300s;
    client_body_timeout 300s;
    location / {
      grpc_pass grpc://${TEST_TEMPORAL_ADDRESS};
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`nginx did not listen on ${port}: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
}

function cli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'client', 'cli.ts'), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    timeout: 60_000,
  });
}

test('a worker and the CLI reach Temporal through mutual TLS with a client certificate; without one, or a rogue one, they are refused', async (t) => {
  if (!NGINX) {
    t.skip("NOT RUN: no nginx (npm run setup installs Debian's nginx-core as root)");
    return;
  }
  installRuntimeOnce();
  await startTestServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-mtls-'));
  makeCertificates(dir);
  const port = await freePort();
  const nginx = await startNginx(dir, port);
  const address = `127.0.0.1:${port}`;
  const withCert = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'test-ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'worker.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'worker.key'),
  };
  const noCert = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'test-ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
  };
  const rogueCert = {
    ...noCert,
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'intruder.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'intruder.key'),
  };
  try {
    // 1. A worker and a client with the certificate: a workflow runs end to end through nginx.
    const settings = settingsFromEnv(withCert);
    assert.equal(settings.temporal.secure, true);
    const taskQueue = `mtls-${process.pid}`;
    const { worker, connection: workerConnection } = await createWorker({
      connection: settings.temporal.connectionOptions,
      namespace: settings.temporal.namespace,
      taskQueue,
      activities: createSmokeActivities(),
      workflowBundle: await bundleWorkflows(),
    });
    const connection = await Connection.connect(settings.temporal.connectionOptions);
    try {
      const answer = await worker.runUntil(
        new Client({ connection, namespace: settings.temporal.namespace }).workflow.execute<typeof smokeWorkflow>(
          'smokeWorkflow',
          { taskQueue, workflowId: `mtls-smoke-${process.pid}`, args: ['over mTLS'] },
        ),
      );
      assert.match(answer, /^pong over mTLS from worker pid \d+/);
    } finally {
      await connection.close();
      await workerConnection.close();
    }
    const proxied = fs.readFileSync(path.join(dir, 'access.log'), 'utf8');
    assert.match(
      proxied,
      /temporal\.api\.workflowservice\.v1\.WorkflowService\/StartWorkflowExecution/,
      'the calls went through nginx',
    );

    // 2. The CLI, configured the same way.
    const ok = cli(['list', '--json'], withCert);
    assert.equal(ok.status, 0, ok.stderr);

    // 3. Without a client certificate, and with one from another authority: refused, in one line.
    for (const [name, env] of [
      ['no client certificate', noCert],
      ['a client certificate from another authority', rogueCert],
    ] as const) {
      const refused = cli(['list'], env);
      assert.equal(refused.status, 3, `${name}: ${refused.stdout}${refused.stderr}`);
      assert.match(
        refused.stderr,
        /^opsguard: Temporal at 127\.0\.0\.1:\d+ refused or did not answer the TLS connection/,
      );
      assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
      await assert.rejects(
        (async () => {
          const c = await NativeConnection.connect(settingsFromEnv(env).temporal.connectionOptions);
          await c.close();
        })(),
        `${name}: a worker's connection is refused`,
      );
    }
  } finally {
    nginx.kill('SIGTERM');
    await new Promise((r) => nginx.once('exit', r));
  }
});
