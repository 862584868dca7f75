/**
 * Everything OpsGuard reads from the environment, in one place, with its local default (ESLint refuses
 * `process.env` anywhere else). The worker, the command line, the tests and the benchmarks all start
 * here. README.md's configuration table lists every variable this file reads.
 *
 * Temporal connections are configured the way Temporal's own tools are (@temporalio/envconfig):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* and profiles in a
 * temporal.toml (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), so a worker and `opsguard` reach Temporal
 * Cloud or a self-hosted cluster with mTLS or an API key exactly as `temporal` does.
 *
 * Secrets (the model key, Temporal's API key and TLS keys) never go into a log line: the model key is
 * not in Settings at all (modelApiKey() is read by the model client only), and Temporal's credentials
 * stay inside `temporal.connectionOptions`, which nothing prints.
 */
import { FAULT_POINTS } from '../activities/fault-points';
import type { FaultPoint } from '../activities/fault-points';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { LogLevel, NativeConnectionOptions } from '@temporalio/worker';
import { PROJECT_ROOT } from './project-root';
import { SettingsError } from './settings-error';

export { PROJECT_ROOT } from './project-root';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_MODEL = 'gpt-4.1';

export { SettingsError } from './settings-error';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** TLS (or an API key, which implies TLS) is configured: for messages; the material is below. */
  secure: boolean;
  /** For NativeConnection.connect (worker) and Connection.connect (client). Holds credentials: never log it. */
  connectionOptions: Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;
  /**
   * Temporal's HTTP API (base URL), which the command line's read-only commands (`status`, `watch`,
   * `list`) use because it answers without loading the gRPC client; null: gRPC only.
   */
  httpApi: string | null;
}

/** A local server's HTTP API listens this many ports above its gRPC port (7233 -> 7243, as Temporal's own defaults). */
export const HTTP_API_PORT_OFFSET = 10;

export interface ModelSettings {
  modelId: string;
  api: 'chat' | 'responses';
  /** An OpenAI-compatible server (vLLM, Ollama, LM Studio, Azure...); absent: api.openai.com. */
  baseURL?: string;
  /** OPENAI_API_KEY is set (the key itself is read by modelApiKey() only). */
  keyConfigured: boolean;
  /** One request's limit (OPSGUARD_MODEL_TIMEOUT_SECONDS, default 180): a hung service is a retried try, not a stuck step. */
  timeoutSeconds: number;
}

/** Where the sandbox's Pythons and the repositories' dependencies come from (activities/prepare-environment.ts). */
export interface EnvironmentSettings {
  /** Prepared dependency folders, keyed by (image id, declarations): $OPSGUARD_CACHE_DIR/deps/<key>/. */
  cacheDir: string;
  /** Python version -> sandbox image (OPSGUARD_PYTHON_IMAGES="3.9=img,3.11=img"). */
  pythonImages: Record<string, string>;
  /** Folder holding pip's wheel (scripts/setup/sandbox-image.sh fetches it). */
  pipWheelDir: string;
  /** CA bundle the preparation container trusts for the package index (null: the image's own). */
  caBundle: string | null;
  /** The package index (PIP_INDEX_URL in the preparation container only; may hold credentials). */
  indexUrl: string | null;
  prepareTimeoutSeconds: number;
}

export const DEFAULT_PYTHON_IMAGES: Record<string, string> = {
  '3.9': 'opsguard/sandbox-python:3.9',
  '3.11': 'opsguard/sandbox-python:3.11',
  '3.13': 'opsguard/sandbox-python:3.13',
};

/** Who may decide on this worker's incidents (workflows/approval-policy.ts), and their keys. */
export interface ApprovalSettings {
  policy: {
    approvers: string[] | null;
    noSelfApproval: boolean;
    required: number;
    signaturesRequired: boolean;
  };
  /** group name -> people, for `group:<name>` in approver lists. */
  groups: Record<string, string[]>;
  /** A folder of approvers' Ed25519 public keys, `<name>.pem` (null: signed decisions cannot verify). */
  keysDir: string | null;
}

/** Which repositories this worker may read, and how much of them. */
export interface RepositorySettings {
  /** Absolute folders (real paths) under which repositories may be; the worker refuses any other. */
  roots: string[];
  /** A repository larger than this is refused before it is copied. */
  maxBytes: number;
  /** A file larger than this is shown to the model as excerpts of its relevant definitions, never whole. */
  promptFileBytes: number;
  /** Tokens of repository context (code, docs, past incidents) a prompt may hold. */
  contextTokens: number;
  /** Retrieval tool calls the fix's model may make per attempt (0: no tools offered). */
  modelToolCalls: number;
}

/** Delivery after approval (activities/delivery.ts): who commits, where GitHub is, the Web UI link. */
export interface DeliverySettings {
  author: { name: string; email: string };
  /** GitHub's REST API (GitHub Enterprise: https://<host>/api/v3); its host is the only one the token goes to. */
  githubApiUrl: string;
  /** GITHUB_TOKEN is set (the token itself is read by githubToken() inside the delivery activities only). */
  tokenConfigured: boolean;
  /** The Temporal Web UI, for the incident link in the pull request. */
  webUiUrl: string;
}

/** This worker as the holder of incidents' workspaces (workflows/host-pinning.ts). */
export interface HostSettings {
  /** Names its own task queue `<queue>-host-<id>`: stable across restarts with the same work folder. */
  workerId: string;
  /** How long a pinned incident's step waits for this worker before the incident moves elsewhere. */
  waitSeconds: number;
  /**
   * Containers this worker makes ahead, while the model writes, for the runs of its answer
   * (sandbox/warm-containers.ts); 0: none, every run makes its own.
   */
  warmContainers: number;
  /** Guarded runs in containers at once (sandbox/run-slots.ts); 0: no limit. */
  sandboxRuns: number;
  /** Hours a closed incident's work folder is kept (worker/work-folder-retention.ts); 0: for ever. */
  workRetentionHours: number;
}

export interface Settings {
  temporal: TemporalSettings;
  host: HostSettings;
  /** The Docker engine the sandbox uses (DOCKER_HOST, which dockerode reads; else the local socket). */
  dockerHost: string;
  /** A worker may create OpsGuard's search attributes it finds missing (OPSGUARD_CREATE_SEARCH_ATTRIBUTES). */
  createSearchAttributes: boolean;
  delivery: DeliverySettings;
  repositories: RepositorySettings;
  approval: ApprovalSettings;
  taskQueue: string;
  /** Web UI port of the dev server `opsguard dev` / `npm start` starts. */
  uiPort: number;
  /** Root of per-incident artifact folders. */
  artifactsDir: string;
  /** Where artifacts are also kept to outlive this host (OPSGUARD_ARTIFACTS_S3); none: the folder only. */
  artifactStore?: ArtifactStore;
  /** Root of per-incident isolated workspaces. */
  workDir: string;
  sandboxImage: string;
  environment: EnvironmentSettings;
  temporalBin: string;
  stateDir: string;
  /** The worker runtime's log level (operator lines are printed whatever it is). */
  logLevel: LogLevel;
  model: ModelSettings;
  /** Who decides at this terminal (`opsguard approve` / `reject` without --by). */
  operatorName: string;
  /** How long `opsguard approve` / `reject` wait for a worker to answer the update. */
  decisionTimeoutMs: number;
  /** Fault tests only (OPSGUARD_TEST_PAUSE_AT): where the worker stops to be killed (activities/fault-points.ts). */
  testPauseAt: FaultPoint | null;
}

const LOG_LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

function temporalFromEnv(env: NodeJS.ProcessEnv): TemporalSettings {
  let config;
  try {
    config = loadClientConnectConfig({
      overrideEnvVars: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    });
  } catch (err) {
    throw new SettingsError(
      `The Temporal connection settings cannot be read (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, TEMPORAL_TLS_*): ${(err as Error).message}`,
    );
  }
  const { address = DEFAULT_TEMPORAL_ADDRESS, tls, apiKey, metadata } = config.connectionOptions;
  const secure = !!tls || !!apiKey;
  return {
    address,
    namespace: config.namespace ?? 'default',
    secure,
    connectionOptions: { address, tls, apiKey, metadata },
    httpApi: httpApiFromEnv(env, address, secure),
  };
}

/**
 * OPSGUARD_TEMPORAL_HTTP_URL when set ('off' turns the HTTP API off); otherwise, for a plaintext
 * server on this machine, its gRPC port + HTTP_API_PORT_OFFSET (the dev server OpsGuard starts listens
 * there). Secure clusters are read over gRPC unless a URL is given: their credentials (TLS client
 * certificates) are not sent over HTTP.
 */
function httpApiFromEnv(env: NodeJS.ProcessEnv, address: string, secure: boolean): string | null {
  const raw = env.OPSGUARD_TEMPORAL_HTTP_URL;
  if (raw === 'off') return null;
  if (raw) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SettingsError(`OPSGUARD_TEMPORAL_HTTP_URL must be an http:// URL or 'off', not '${raw}'`);
    }
    if (url.protocol !== 'http:') {
      throw new SettingsError(
        `OPSGUARD_TEMPORAL_HTTP_URL must be a plain http:// URL (a local or in-cluster frontend) or 'off', not '${raw}'`,
      );
    }
    return raw.replace(/\/+$/, '');
  }
  if (secure) return null;
  const m = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(address);
  if (!m) return null;
  return `http://${m[1]}:${Number(m[2]) + HTTP_API_PORT_OFFSET}`;
}

function modelFromEnv(env: NodeJS.ProcessEnv): ModelSettings {
  const api = env.OPSGUARD_OPENAI_API ?? 'chat';
  if (api !== 'chat' && api !== 'responses') {
    throw new SettingsError(`OPSGUARD_OPENAI_API must be 'chat' or 'responses', not '${api}'`);
  }
  return {
    modelId: env.OPSGUARD_MODEL || DEFAULT_MODEL,
    api,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    keyConfigured: !!env.OPENAI_API_KEY,
    timeoutSeconds: positiveNumber(env, 'OPSGUARD_MODEL_TIMEOUT_SECONDS', 180),
  };
}

function faultPointFromEnv(env: NodeJS.ProcessEnv): FaultPoint | null {
  const raw = env.OPSGUARD_TEST_PAUSE_AT;
  if (!raw) return null;
  if (!(FAULT_POINTS as readonly string[]).includes(raw))
    throw new SettingsError(`OPSGUARD_TEST_PAUSE_AT must be one of ${FAULT_POINTS.join(', ')}, not '${raw}'`);
  return raw as FaultPoint;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new SettingsError(`${name} must be a positive number, not '${raw}'`);
  return n;
}

function nonNegativeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new SettingsError(`${name} must be a number of 0 or more, not '${raw}'`);
  return n;
}

/** A whole number from 0 to `max`. */
function countSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new SettingsError(`${name} must be a whole number from 0 to ${max}, not '${raw}'`);
  return n;
}

/**
 * OPSGUARD_REPO_ROOTS: colon-separated absolute folders. The local default is this checkout (which
 * holds the examples) and the folder the worker was started in; production sets it explicitly.
 */
function repoRootsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const raw = env.OPSGUARD_REPO_ROOTS;
  const roots = raw ? raw.split(':').filter(Boolean) : [PROJECT_ROOT, process.cwd()];
  for (const r of roots) {
    if (!path.isAbsolute(r))
      throw new SettingsError(`OPSGUARD_REPO_ROOTS holds absolute folders separated by ':', not '${r}'`);
  }
  return [...new Set(roots.map((r) => (fs.existsSync(r) ? fs.realpathSync(r) : path.resolve(r))))];
}

function booleanFromEnv(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  throw new SettingsError(`${name} must be true or false, not '${env[name]}'`);
}

function approvalFromEnv(env: NodeJS.ProcessEnv): ApprovalSettings {
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const groups: Record<string, string[]> = {};
  for (const part of (env.OPSGUARD_APPROVER_GROUPS ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([\w.-]+)=(.*)$/.exec(part);
    if (!m?.[1]) throw new SettingsError(`OPSGUARD_APPROVER_GROUPS holds 'group=alice,bob;other=carol', not '${part}'`);
    groups[m[1]] = list(m[2]);
  }
  const approvers = list(env.OPSGUARD_APPROVERS);
  for (const a of approvers)
    if (a.startsWith('group:') && !groups[a.slice(6)])
      throw new SettingsError(`OPSGUARD_APPROVERS names ${a}, which OPSGUARD_APPROVER_GROUPS does not define`);
  const signed = env.OPSGUARD_SIGNED_DECISIONS ?? 'optional';
  if (signed !== 'optional' && signed !== 'required')
    throw new SettingsError(`OPSGUARD_SIGNED_DECISIONS must be 'optional' or 'required', not '${signed}'`);
  const keysDir = env.OPSGUARD_APPROVER_KEYS ? path.resolve(env.OPSGUARD_APPROVER_KEYS) : null;
  if (keysDir && !fs.existsSync(keysDir))
    throw new SettingsError(`OPSGUARD_APPROVER_KEYS names ${keysDir}, which does not exist`);
  const required = positiveNumber(env, 'OPSGUARD_APPROVALS_REQUIRED', 1);
  if (!Number.isInteger(required) || required > 5)
    throw new SettingsError(
      `OPSGUARD_APPROVALS_REQUIRED must be a whole number from 1 to 5, not '${env.OPSGUARD_APPROVALS_REQUIRED}'`,
    );
  return {
    policy: {
      approvers: approvers.length ? approvers : null,
      noSelfApproval: booleanFromEnv(env, 'OPSGUARD_NO_SELF_APPROVAL'),
      required,
      signaturesRequired: signed === 'required',
    },
    groups,
    keysDir,
  };
}

function pythonImagesFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const raw = env.OPSGUARD_PYTHON_IMAGES;
  if (!raw) return { ...DEFAULT_PYTHON_IMAGES };
  const out: Record<string, string> = {};
  for (const pair of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(3\.\d{1,2})=(\S+)$/.exec(pair);
    if (!m?.[1] || !m[2])
      throw new SettingsError(
        `OPSGUARD_PYTHON_IMAGES holds VERSION=IMAGE pairs such as '3.9=my/python:3.9', not '${pair}'`,
      );
    out[m[1]] = m[2];
  }
  return out;
}

function caBundleFromEnv(env: NodeJS.ProcessEnv): string | null {
  const raw = env.OPSGUARD_PREPARE_CA_BUNDLE;
  if (raw === 'off') return null;
  if (raw) {
    if (!fs.existsSync(raw)) throw new SettingsError(`OPSGUARD_PREPARE_CA_BUNDLE names ${raw}, which does not exist`);
    return path.resolve(raw);
  }
  // The host's trust store: where TLS is re-signed by a local authority, only the host trusts it.
  for (const candidate of [env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'])
    if (candidate && fs.existsSync(candidate)) return candidate;
  return null;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const home = path.resolve(env.OPSGUARD_HOME ?? path.join(PROJECT_ROOT, '.opsguard'));
  const logLevel = (env.OPSGUARD_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new SettingsError(
      `OPSGUARD_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not '${env.OPSGUARD_LOG_LEVEL}'`,
    );
  }
  const workDir = path.resolve(env.OPSGUARD_WORK_DIR ?? path.join(home, 'work'));
  return {
    temporal: temporalFromEnv(env),
    host: hostFromEnv(env, workDir),
    approval: approvalFromEnv(env),
    delivery: deliveryFromEnv(env),
    createSearchAttributes: env.OPSGUARD_CREATE_SEARCH_ATTRIBUTES === 'true',
    dockerHost: env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
    repositories: {
      roots: repoRootsFromEnv(env),
      maxBytes: positiveNumber(env, 'OPSGUARD_REPO_MAX_MB', 2048) * 1024 * 1024,
      promptFileBytes: positiveNumber(env, 'OPSGUARD_PROMPT_FILE_KB', 100) * 1024,
      contextTokens: positiveNumber(env, 'OPSGUARD_CONTEXT_TOKENS', 8000),
      modelToolCalls: countSetting(env, 'OPSGUARD_MODEL_TOOL_CALLS', 8, 50),
    },
    taskQueue: env.OPSGUARD_TASK_QUEUE ?? 'opsguard',
    uiPort: positiveNumber(env, 'OPSGUARD_UI_PORT', 8233),
    artifactsDir: path.resolve(env.OPSGUARD_ARTIFACTS_DIR ?? path.join(home, 'artifacts')),
    ...artifactStoreFromEnv(env),
    workDir,
    sandboxImage: env.OPSGUARD_SANDBOX_IMAGE ?? 'opsguard/sandbox-python:3.11',
    environment: {
      cacheDir: path.resolve(env.OPSGUARD_CACHE_DIR ?? path.join(home, 'cache')),
      pythonImages: pythonImagesFromEnv(env),
      pipWheelDir: path.resolve(env.OPSGUARD_PIP_WHEEL_DIR ?? path.join(PROJECT_ROOT, '.tools', 'pip')),
      caBundle: caBundleFromEnv(env),
      indexUrl: env.OPSGUARD_PACKAGE_INDEX_URL || null,
      prepareTimeoutSeconds: positiveNumber(env, 'OPSGUARD_PREPARE_TIMEOUT_SECONDS', 900),
    },
    temporalBin: env.OPSGUARD_TEMPORAL_BIN ?? path.join(PROJECT_ROOT, '.tools', 'bin', 'temporal'),
    stateDir: path.resolve(env.OPSGUARD_STATE_DIR ?? path.join(PROJECT_ROOT, '.state')),
    logLevel,
    model: modelFromEnv(env),
    operatorName: env.OPSGUARD_USER ?? env.USER ?? os.userInfo().username,
    decisionTimeoutMs: positiveNumber(env, 'OPSGUARD_DECISION_TIMEOUT_MS', 15_000),
    testPauseAt: faultPointFromEnv(env),
  };
}

/**
 * OPSGUARD_WORKER_ID (default: the host name and a hash of the work folder, so a worker restarted
 * with the same folder gets its incidents back, and two workers with their own folders on one machine
 * are two hosts), OPSGUARD_HOST_WAIT_SECONDS (default 60: a restart within it keeps the incidents) and
 * OPSGUARD_WARM_CONTAINERS (default 8: containers held ready across this worker's incidents) and
 * OPSGUARD_SANDBOX_RUNS (default twice the CPUs: guarded runs in containers at once; 0: no limit) and
 * OPSGUARD_WORK_RETENTION_HOURS (default 24: how long a closed incident's work folder stays; 0: for ever).
 */
function hostFromEnv(env: NodeJS.ProcessEnv, workDir: string): HostSettings {
  const fallback = `${os
    .hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 40)}-${createHash('sha256').update(workDir).digest('hex').slice(0, 8)}`;
  const workerId = env.OPSGUARD_WORKER_ID || fallback;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(workerId))
    throw new SettingsError(
      `OPSGUARD_WORKER_ID must be 1 to 64 letters, digits, '.', '_' or '-' (it names a task queue), not '${workerId}'`,
    );
  return {
    workerId,
    waitSeconds: positiveNumber(env, 'OPSGUARD_HOST_WAIT_SECONDS', 60),
    warmContainers: countSetting(env, 'OPSGUARD_WARM_CONTAINERS', 8, 64),
    sandboxRuns: countSetting(env, 'OPSGUARD_SANDBOX_RUNS', 2 * os.availableParallelism(), 256),
    workRetentionHours: nonNegativeNumber(env, 'OPSGUARD_WORK_RETENTION_HOURS', 24),
  };
}

function deliveryFromEnv(env: NodeJS.ProcessEnv): DeliverySettings {
  const rawAuthor = env.OPSGUARD_GIT_AUTHOR ?? 'OpsGuard <opsguard@localhost>';
  const m = /^\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]*)>\s*$/.exec(rawAuthor);
  if (!m) throw new SettingsError(`OPSGUARD_GIT_AUTHOR must look like 'Name <email>', not '${rawAuthor}'`);
  const githubApiUrl = env.OPSGUARD_GITHUB_API_URL ?? 'https://api.github.com';
  if (!/^https?:\/\/[^/\s]+/.test(githubApiUrl))
    throw new SettingsError(`OPSGUARD_GITHUB_API_URL must be an http(s) URL, not '${githubApiUrl}'`);
  return {
    author: { name: m[1] as string, email: m[2] as string },
    githubApiUrl,
    tokenConfigured: Boolean(env.GITHUB_TOKEN),
    webUiUrl: env.OPSGUARD_WEB_UI_URL ?? `http://127.0.0.1:${positiveNumber(env, 'OPSGUARD_UI_PORT', 8233)}`,
  };
}

/** The GitHub token: read here, used inside the delivery activities only, never stored in Settings. */
export function githubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.GITHUB_TOKEN || undefined;
}

/** Where programs the worker runs (git) are found: PATH, and nothing else of its environment. */
export function searchPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
}

/** Where artifacts are kept to outlive the worker's host (activities/artifact-store.ts). */
export interface ArtifactStore {
  bucket: string;
  /** Key prefix, without leading or trailing '/'; '' for the bucket's root. */
  prefix: string;
  /** An S3-compatible service's URL (path-style addressing); none: AWS S3 itself. */
  endpoint?: string;
  region: string;
}

/** The store named by `s3://bucket[/prefix]`, or why the text is not one. */
export function parseArtifactStore(
  url: string,
  opts: { endpoint?: string; region?: string },
): { store: ArtifactStore } | { error: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(url.trim());
  if (!m)
    return {
      error: `OPSGUARD_ARTIFACTS_S3 must be s3://<bucket>[/<prefix>] (a bucket name of 3-63 lower-case letters, digits, dots and dashes); got ${JSON.stringify(url)}`,
    };
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '.' || part === '..'))
    return { error: `OPSGUARD_ARTIFACTS_S3's prefix may not hold '.' or '..' parts; got ${JSON.stringify(url)}` };
  if (opts.endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(opts.endpoint))
    return { error: `OPSGUARD_S3_ENDPOINT must be an http(s) URL; got ${JSON.stringify(opts.endpoint)}` };
  return {
    store: {
      bucket: m[1] as string,
      prefix,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      region: opts.region || 'us-east-1',
    },
  };
}

/**
 * OPSGUARD_ARTIFACTS_S3=s3://bucket[/prefix], with OPSGUARD_S3_ENDPOINT for an S3-compatible
 * service (MinIO...) and OPSGUARD_S3_REGION (else AWS_REGION, else us-east-1). The credentials are
 * the AWS client's own chain, never part of Settings.
 */
function artifactStoreFromEnv(env: NodeJS.ProcessEnv): { artifactStore?: ArtifactStore } {
  const url = env.OPSGUARD_ARTIFACTS_S3?.trim();
  if (!url) {
    if (env.OPSGUARD_S3_ENDPOINT)
      throw new SettingsError('OPSGUARD_S3_ENDPOINT is set but OPSGUARD_ARTIFACTS_S3 (s3://bucket[/prefix]) is not');
    return {};
  }
  const parsed = parseArtifactStore(url, {
    ...(env.OPSGUARD_S3_ENDPOINT ? { endpoint: env.OPSGUARD_S3_ENDPOINT } : {}),
    region: env.OPSGUARD_S3_REGION || env.AWS_REGION || 'us-east-1',
  });
  if ('error' in parsed) throw new SettingsError(parsed.error);
  return { artifactStore: parsed.store };
}

/**
 * The pinned AWS client supports this Node (20); its notice that releases after January 2027 will
 * need Node 22 says nothing an operator can act on (package.json pins the version), so it is not
 * printed on every worker start and command. Set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
 * yourself to decide otherwise.
 */
export function quietAwsNodeNotice(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** The model service's key: read here, used by the model client only, never stored in Settings. */
export function modelApiKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.OPENAI_API_KEY || undefined;
}
