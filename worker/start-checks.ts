/**
 * What a worker checks before it takes work, each finding one clear line: its folders can be written
 * (else it refuses: every incident would fail at its first file); the Docker engine answers, the
 * sandbox image is there and runs python3 (else it says so: sandbox steps fail, and are retried,
 * until that is fixed; queries and approvals still work); the model service accepts the key and
 * knows the model, where it can say (`GET /models`; a service without that list is not judged).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { engineAnswers } from '../sandbox/docker-client';
import { runInSandbox } from '../sandbox/run-container';
import { withDefaults } from '../sandbox/limits';
import { SettingsError } from './settings-error';
import type { Settings } from './settings';

/** Each folder the worker writes must be a folder it can write; refused with the variable to change. */
export async function checkFolders(settings: Settings): Promise<void> {
  const folders: [string, string][] = [
    ['OPSGUARD_ARTIFACTS_DIR', settings.artifactsDir],
    ['OPSGUARD_WORK_DIR', settings.workDir],
    ['OPSGUARD_CACHE_DIR', settings.environment.cacheDir],
  ];
  for (const [name, dir] of folders) {
    try {
      await fs.mkdir(dir, { recursive: true });
      const probe = path.join(dir, `.opsguard-write-check-${process.pid}`);
      await fs.writeFile(probe, '');
      await fs.rm(probe);
    } catch (err) {
      throw new SettingsError(
        `${name} (${dir}) is not a folder this worker can write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
}

/** The artifact store (OPSGUARD_ARTIFACTS_S3), when set, must take a write: refused with the reason. */
export async function checkArtifactStore(settings: Settings): Promise<void> {
  const store = settings.artifactStore;
  if (!store) return;
  const { probeArtifactStore } = await import('../activities/artifact-store');
  const why = await probeArtifactStore(store);
  if (why)
    throw new SettingsError(
      `OPSGUARD_ARTIFACTS_S3 (s3://${store.bucket}/${store.prefix}${store.endpoint ? ` at ${store.endpoint}` : ''}) does not take this worker's writes: ${why}. Check the bucket exists, the endpoint (OPSGUARD_S3_ENDPOINT) and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile).`,
    );
}

/** The engine and the default sandbox image: lines to print (empty when all is well). */
/** How often a worker started without an engine looks for it again. */
export const ENGINE_RECHECK_SECONDS = 5;

export async function checkSandbox(docker: Docker, image: string, engine: string): Promise<string[]> {
  if (!(await engineAnswers(docker, 5000)))
    return [
      `the Docker engine does not answer at ${engine} (not running, or no permission on its socket): this worker takes no container step until it does (it checks every ${ENGINE_RECHECK_SECONDS} s); it serves queries, approvals, model and file steps meanwhile`,
    ];
  const found = await docker
    .getImage(image)
    .inspect()
    .then(() => true)
    .catch(() => false);
  if (!found)
    return [
      `the sandbox image ${image} is not on the Docker engine: run 'npm run setup' or set OPSGUARD_SANDBOX_IMAGE`,
    ];
  const ran = await runInSandbox(docker, {
    image,
    argv: ['python3', '-c', 'import sys; print(sys.version_info[0])'],
    limits: withDefaults({ timeoutSeconds: 30 }),
    purpose: 'worker-start-check',
  }).catch((err: unknown) => ({ exitCode: -1, stdout: '', stderr: (err as Error).message }));
  if (ran.exitCode !== 0 || ran.stdout.trim() !== '3')
    return [
      `the sandbox image ${image} does not run python3 (exit ${ran.exitCode}: ${ran.stderr.trim().split('\n').pop() ?? ''})`,
    ];
  return [];
}

/** The model service, where it lists its models: a refused key or an unknown model, one line each. */
export async function checkModel(model: Settings['model'], apiKey: string | undefined): Promise<string[]> {
  if (!model.keyConfigured && !model.baseURL)
    return ['no model is configured (OPENAI_API_KEY or OPENAI_BASE_URL): incidents will end model_unavailable'];
  const base = (model.baseURL ?? 'https://api.openai.com/v1').replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    return [
      `the model service at ${base} does not answer (${(err as Error).message}): model steps will be retried, then end model_unavailable`,
    ];
  }
  if (res.status === 401 || res.status === 403)
    return [`the model service at ${base} refused the key (HTTP ${res.status}): check OPENAI_API_KEY`];
  if (!res.ok) return []; // no model list here: nothing to judge
  const body = (await res.json().catch(() => null)) as { data?: { id?: string }[] } | null;
  const ids = (body?.data ?? []).map((m) => m.id).filter(Boolean);
  if (ids.length && !ids.includes(model.modelId))
    return [
      `the model service at ${base} has no model '${model.modelId}' (it has ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}): check OPSGUARD_MODEL`,
    ];
  return [];
}
