/**
 * A real S3-compatible server on 127.0.0.1 for the artifact-store tests: moto's server, installed
 * by `npm run setup` (scripts/setup/s3-test-server.sh) into .tools/moto/. Not a mock of ours: the
 * AWS client signs real requests and the server checks them (Content-MD5 included). Missing, the
 * tests fail saying so.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PROJECT_ROOT, quietAwsNodeNotice } from '../../worker/settings';

export const MOTO_SERVER = path.join(PROJECT_ROOT, '.tools', 'moto', 'bin', 'moto_server');

/** Credentials the server accepts (moto checks the signature's form, not the key). Test-only. */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'AKIAOPSGUARDTEST0001', secretAccessKey: 'opsguard-test-secret' };

export interface S3Server {
  endpoint: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startS3Server(credentials = S3_TEST_CREDENTIALS): Promise<S3Server> {
  if (!fs.existsSync(MOTO_SERVER))
    throw new Error(
      `NOT RUN: the S3-compatible test server is not installed (${MOTO_SERVER}); run 'npm run setup' (its s3-test-server step)`,
    );
  const port = await freePort();
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || i > 150) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start on ${endpoint}:\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  quietAwsNodeNotice();
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  return {
    endpoint,
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop: async () => {
      client.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
