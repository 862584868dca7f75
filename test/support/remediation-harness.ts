import { createHash, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities';
import { createModelClient } from '../../activities/model-client';
import { dockerFromEnv } from '../../sandbox/docker-client';
import { INCIDENT_LABEL } from '../../sandbox/labels';
import { WARM_HOLD_SECONDS, WarmContainers } from '../../sandbox/warm-containers';
import { modelApiKey, PROJECT_ROOT, settingsFromEnv } from '../../worker/settings';
import type { RemediationResult } from '../../workflows/incident-types';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { sandboxImage } from './docker';
import { startScriptedModel } from './scripted-model-server';
import type { ScriptedModel, ScriptedTurn } from './scripted-model-server';
import { TEST_TEMPORAL_ADDRESS, withWorker } from './temporal';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { parseTraceback } from '../../workflows/traceback';
import { approveUpdate, stateQuery } from '../../workflows/operator-api';

/** The default person: approves a verified fix through the update. */
/** The sha256 of the patch awaiting a decision, as `opsguard status` shows it (the state query). */
export async function patchAwaiting(handle: WorkflowHandle<typeof remediateIncident>): Promise<string | undefined> {
  return (await handle.query(stateQuery)).result.patchSha256;
}

export async function approveAsOperator(handle: WorkflowHandle<typeof remediateIncident>): Promise<void> {
  await handle.executeUpdate(approveUpdate, {
    args: [{ by: 'e2e-operator', comment: 'looks right', patchSha256: await patchAwaiting(handle) }],
  });
}

export const EXAMPLES = path.join(PROJECT_ROOT, 'examples');
/** Repositories written for the tests (test/fixtures/repos/<name>/{repo,incident.log}). */
export const FIXTURE_REPOS = path.join(PROJECT_ROOT, 'test', 'fixtures', 'repos');

/** An example's folder (repo/ and incident.log): examples/ first, then the test fixtures. */
export function exampleDir(name: string): string {
  const example = path.join(EXAMPLES, name);
  return fs.existsSync(example) ? example : path.join(FIXTURE_REPOS, name);
}

/** The worker's repository settings, with the temporary folder (where tests copy repositories) allowed. */
export function testRepositories(extraRoots: string[] = []) {
  return { ...settingsFromEnv().repositories, roots: [fs.realpathSync(os.tmpdir()), PROJECT_ROOT, ...extraRoots] };
}

/** The worker's environment settings, with a dependency cache of the test's own. */
export function testEnvironment(cacheDir: string) {
  return { ...settingsFromEnv().environment, cacheDir };
}

/** Real activities (real Docker, folders and a dependency cache under `dir`) for tests that need no model. */
export function localActivities(dir: string) {
  return createActivities({
    docker: dockerFromEnv(),
    artifactsDir: path.join(dir, 'artifacts'),
    workDir: path.join(dir, 'work'),
    defaultImage: sandboxImage(),
    environment: testEnvironment(path.join(dir, 'cache')),
    repositories: testRepositories(),
  });
}

/** Real activities (real Docker, folders under `dir`) whose model is the scripted server at `baseURL`. */
export function scriptedActivities(baseURL: string, dir: string) {
  return createActivities({
    docker: dockerFromEnv(),
    artifactsDir: path.join(dir, 'artifacts'),
    workDir: path.join(dir, 'work'),
    defaultImage: sandboxImage(),
    environment: testEnvironment(path.join(dir, 'cache')),
    repositories: testRepositories(),
    model: () => createModelClient({ baseURL, apiKey: 'sk-test-not-a-secret', modelId: 'scripted', api: 'chat' }),
  });
}

/** The recorded answers of an example or a fixture: [reproduction, fix, PR description]. */
export function recordedTurns(example: string): (ScriptedTurn & { answer: string })[] {
  return (
    JSON.parse(fs.readFileSync(path.join(exampleDir(example), 'recorded-model.json'), 'utf8')) as {
      turns: (ScriptedTurn & { answer: string })[];
    }
  ).turns;
}

/** A hash of every file's path and bytes under a folder: equal hashes mean byte-for-byte equal trees. */
export function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    for (const e of fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(rel, e.name);
      h.update(`${p}\0`);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) h.update(`->${fs.readlinkSync(path.join(dir, p))}`);
      else h.update(fs.readFileSync(path.join(dir, p)));
    }
  };
  walk('');
  return h.digest('hex');
}

/** `git apply --check` at the original's root, outside any git repository (so nothing is skipped). */
export function gitApplyCheck(repoDir: string, diffPath: string): { ok: boolean; output: string } {
  const r = spawnSync('git', ['apply', '--check', '-v', diffPath], { cwd: repoDir, encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && !/Skipped patch/.test(output), output };
}

export interface ContainerEvents {
  created: number;
  destroyed: number;
}

/** What the Docker engine itself saw for this incident's containers. */
export async function containerEvents(incidentId: string, sinceSec: number): Promise<ContainerEvents> {
  const docker = dockerFromEnv();
  const stream = await docker.getEvents({
    since: sinceSec,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: JSON.stringify({ type: ['container'], label: [`${INCIDENT_LABEL}=${incidentId}`] }),
  });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string });
  return {
    created: events.filter((e) => e.Action === 'create').length,
    destroyed: events.filter((e) => e.Action === 'destroy').length,
  };
}

export interface RemediationRun {
  result: RemediationResult;
  model: ScriptedModel;
  original: string;
  originalUnchanged: boolean;
  containers: ContainerEvents;
  /** Containers made while the model wrote: made, used by a run, removed unused (none: warm off). */
  warm?: WarmContainers['counts'];
  roots: { artifactsDir: string; workDir: string };
  /** The workflow's whole history, as JSON text (for searching) and as events (for the audit). */
  historyJson: string;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
}

/**
 * Remediate a copy of an example repository through the real workflow, worker, Temporal server and
 * Docker engine, with the scripted model answering `turns` through the real @ai-sdk/openai client.
 */
export async function remediate(opts: {
  example: string;
  turns: ScriptedTurn[];
  api?: 'chat' | 'responses';
  errorLog?: string;
  input?: Record<string, unknown>;
  /** Change the copied original before the run (e.g. plant a symlink). */
  prepare?: (original: string) => void;
  /** A dependency cache shared with another run (default: this run's own, so it starts cold). */
  cacheDir?: string;
  /** What the worker may read (default: the temporary folder and this checkout). */
  repositories?: ReturnType<typeof testRepositories>;
  /** The worker's approval policy and approver keys (default: anyone may decide, no keys). */
  approval?: Parameters<typeof createActivities>[0]['approval'];
  /** One model request's limit (default: the client's). */
  modelTimeoutSeconds?: number;
  /** Build the model client from the worker's environment (OPENAI_API_KEY...) as a real worker does. */
  modelFromEnv?: boolean;
  /** What the person does with a verified fix (default: approve through the update). */
  decide?: (handle: WorkflowHandle<typeof remediateIncident>) => Promise<void>;
  /** Runs right after the workflow starts (to act on it mid-flight). */
  onStarted?: (handle: WorkflowHandle<typeof remediateIncident>) => Promise<void>;
  /** Delivery's settings (author, GitHub API, token); default: local only, no token. */
  delivery?: Parameters<typeof createActivities>[0]['delivery'];
  /** Extra activity wrappers (timing seams for state tests). */
  wrapActivities?: (a: ReturnType<typeof createActivities>) => ReturnType<typeof createActivities>;
  /** An earlier run whose repository and folders this one uses (a second incident on the same service). */
  after?: RemediationRun;
  /** Containers made while the model writes, as a worker does by default (false: every run makes its own). */
  warm?: boolean;
}): Promise<RemediationRun> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-e2e-'));
  const original = opts.after?.original ?? path.join(tmp, 'original');
  if (!opts.after) fs.cpSync(path.join(exampleDir(opts.example), 'repo'), original, { recursive: true });
  opts.prepare?.(original);
  const before = hashTree(original);
  const roots = opts.after?.roots ?? { artifactsDir: path.join(tmp, 'artifacts'), workDir: path.join(tmp, 'work') };
  // Temporal for past-incident lookups, as a worker has it (connected on first use).
  let visibility: Promise<Connection> | undefined;
  const temporal = async () =>
    new Client({ connection: await (visibility ??= Connection.connect({ address: TEST_TEMPORAL_ADDRESS })) });
  const model = await startScriptedModel(opts.turns);
  const incidentId = `e2e-${randomUUID()}`;
  const errorLog = opts.errorLog ?? fs.readFileSync(path.join(exampleDir(opts.example), 'incident.log'), 'utf8');
  const since = Math.floor(Date.now() / 1000) - 1;
  const docker = dockerFromEnv();
  const warm = opts.warm === false ? undefined : new WarmContainers(docker, { max: 8, holdSeconds: WARM_HOLD_SECONDS });
  try {
    const created = createActivities({
      docker,
      ...(warm ? { warm } : {}),
      ...roots,
      defaultImage: sandboxImage(),
      environment: testEnvironment(opts.cacheDir ?? path.join(tmp, 'cache')),
      repositories: opts.repositories ?? testRepositories(),
      ...(opts.approval ? { approval: opts.approval } : {}),
      ...(opts.delivery ? { delivery: opts.delivery } : {}),
      temporal,
      model: () =>
        opts.modelFromEnv
          ? (() => {
              // As a real worker does: the model's settings and key from the environment.
              const env = { ...process.env, OPENAI_BASE_URL: model.baseURL };
              return createModelClient({ ...settingsFromEnv(env).model, apiKey: modelApiKey(env) });
            })()
          : createModelClient({
              baseURL: model.baseURL,
              apiKey: 'sk-test-not-a-secret',
              modelId: 'scripted',
              api: opts.api ?? 'chat',
              ...(opts.modelTimeoutSeconds ? { timeoutSeconds: opts.modelTimeoutSeconds } : {}),
            }),
    });
    const activities = opts.wrapActivities ? opts.wrapActivities(created) : created;
    const { result, history, historyJson } = await withWorker(activities, async ({ env, taskQueue }) => {
      const handle = await env.client.workflow.start<typeof remediateIncident>('remediateIncident', {
        taskQueue,
        workflowId: incidentId,
        staticSummary: `OpsGuard: ${parseTraceback(errorLog)?.exceptionType ?? 'incident'} in ${opts.example}`,
        args: [
          {
            repoPath: original,
            errorLog,
            incidentId,
            ...opts.input,
          },
        ],
      });
      await opts.onStarted?.(handle);
      // Wait for the end, or for the person: a verified fix waits in awaiting_approval.
      for (;;) {
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') break;
        const state = await handle.query(stateQuery).catch(() => null);
        if (state?.status === 'awaiting_approval') {
          await (opts.decide ?? approveAsOperator)(handle);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const result = await handle.result();
      const history = await handle.fetchHistory();
      return { result, history, historyJson: JSON.stringify(history) };
    });
    return {
      result,
      model,
      original,
      originalUnchanged: hashTree(original) === before,
      containers: await containerEvents(incidentId, since),
      ...(warm ? { warm: { ...warm.counts } } : {}),
      roots,
      historyJson,
      history,
    };
  } finally {
    await warm?.close();
    await model.close();
    await (await visibility?.catch(() => undefined))?.close();
  }
}

/**
 * Everything a history holds as text: the events' JSON with every payload's bytes decoded (payload
 * data are byte arrays, which JSON.stringify would spell as numbers, hiding what they say).
 */
export function historyText(history: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) {
      parts.push(Buffer.from(v).toString('utf8'));
      return '<bytes>';
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  parts.unshift(JSON.stringify(walk(history)));
  return parts.join('\n');
}

/** Every file under a folder, as text (for searching artifacts and work folders for leaks). */
export function allText(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}
