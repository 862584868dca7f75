/**
 * Artifacts that outlive the worker's host: S3-compatible object storage (AWS S3, MinIO, Ceph...)
 * through AWS's own client, where OPSGUARD_ARTIFACTS_S3 names a bucket. Without it, the artifacts
 * folder alone (a folder workers on many hosts may share: client/artifact-location.ts).
 *
 * Each incident's artifacts go under `<prefix>/<incidentId>/<name>` (the same relative names as in
 * the artifacts folder), each sent with its MD5 so the store refuses a damaged upload, and
 * proof.json last: a reader that finds proof.json finds the files it names. Uploads are idempotent
 * (the same bytes to the same key), so a retried activity sends them again.
 *
 * Credentials are the client's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile,
 * an instance role): OpsGuard never reads, stores or logs them, and nothing here reaches Temporal
 * history or a container.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { quietAwsNodeNotice } from '../worker/settings';
import type { ArtifactStore } from '../worker/settings';

export type { ArtifactStore };

/** Where one artifact of an incident is kept in the store. */
export function artifactKey(store: ArtifactStore, incidentId: string, name: string): string {
  return [store.prefix, incidentId, name].filter(Boolean).join('/');
}

export const artifactUrl = (store: ArtifactStore, incidentId: string, name: string) =>
  `s3://${store.bucket}/${artifactKey(store, incidentId, name)}`;

/** One client per store and process (the SDK is loaded only where a store is configured). */
const clients = new Map<string, Promise<S3Client>>();
function clientFor(store: ArtifactStore): Promise<S3Client> {
  const id = `${store.endpoint ?? 'aws'}|${store.region}`;
  let client = clients.get(id);
  if (!client) {
    quietAwsNodeNotice();
    client = import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          region: store.region,
          ...(store.endpoint ? { endpoint: store.endpoint, forcePathStyle: true } : {}),
          // Integrity by Content-MD5, which every S3-compatible service checks; the newer default
          // checksums are not implemented by all of them.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 4,
        }),
    );
    clients.set(id, client);
  }
  return client;
}

/**
 * Send an incident's artifacts (name -> local file) to the store, proof.json last. Returns
 * name -> s3:// URL. Throws (the activity retries) on any refusal, naming the artifact and why.
 */
export async function uploadArtifacts(
  store: ArtifactStore,
  incidentId: string,
  files: Record<string, string>,
): Promise<Record<string, string>> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await clientFor(store);
  const names = Object.keys(files).sort((a, b) => Number(a === 'proof.json') - Number(b === 'proof.json'));
  const out: Record<string, string> = {};
  for (const name of names) {
    const body = await fs.readFile(files[name] as string);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: artifactKey(store, incidentId, name),
          Body: body,
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ContentType: contentType(name),
        }),
      );
    } catch (err) {
      throw new Error(`could not store artifact ${name} at ${artifactUrl(store, incidentId, name)}: ${describe(err)}`, {
        cause: err,
      });
    }
    out[name] = artifactUrl(store, incidentId, name);
  }
  return out;
}

/**
 * Fetch an incident's artifacts (by name) from the store into `dir` (dir/<name>), each written
 * whole or not at all. Returns name -> local path; names the store does not hold are in `missing`.
 */
export async function downloadArtifacts(
  store: ArtifactStore,
  incidentId: string,
  names: string[],
  dir: string,
): Promise<{ files: Record<string, string>; missing: string[] }> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await clientFor(store);
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    if (name.split('/').some((part) => part === '..' || part === '') || path.isAbsolute(name)) {
      missing.push(name);
      continue;
    }
    let bytes: Uint8Array;
    try {
      const got = await client.send(
        new GetObjectCommand({ Bucket: store.bucket, Key: artifactKey(store, incidentId, name) }),
      );
      bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (err) {
      if (['NoSuchKey', 'NotFound'].includes((err as { name?: string }).name ?? '')) {
        missing.push(name);
        continue;
      }
      throw new Error(
        `could not read artifact ${name} from ${artifactUrl(store, incidentId, name)}: ${describe(err)}`,
        {
          cause: err,
        },
      );
    }
    const file = path.join(dir, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
    files[name] = file;
  }
  return { files, missing };
}

/**
 * Whether this worker may write the store: a small object put and deleted under the prefix. Null
 * when it may; else the service's reason (no such bucket, access denied, unreachable...).
 */
export async function probeArtifactStore(store: ArtifactStore): Promise<string | null> {
  const { DeleteObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await clientFor(store);
  const Key = [store.prefix, `.opsguard-write-check-${process.pid}`].filter(Boolean).join('/');
  try {
    await client.send(new PutObjectCommand({ Bucket: store.bucket, Key, Body: 'ok' }));
    await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key }));
    return null;
  } catch (err) {
    return describe(err);
  }
}

function contentType(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.md')) return 'text/markdown; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

/** The service's own words (its error code and message), never the request (which is signed). */
function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}${status}`;
}
