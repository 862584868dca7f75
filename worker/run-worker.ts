import { dockerFromEnv } from '../sandbox/docker-client';
import { JANITOR_SWEEP_SECONDS, removeLeftoverContainers } from '../sandbox/janitor';
import { settleOwedRemovals } from '../sandbox/owed-removals';
import { WARM_HOLD_SECONDS, WarmContainers } from '../sandbox/warm-containers';
import { limitSandboxRuns } from '../sandbox/run-slots';
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createWorker, installRuntimeOnce } from './create-worker';
import type { Settings } from './settings';
import { modelApiKey, SettingsError } from './settings';
import { ENGINE_RECHECK_SECONDS, checkArtifactStore, checkFolders, checkModel, checkSandbox } from './start-checks';
import { engineAnswers } from '../sandbox/docker-client';
import { sandboxTaskQueue } from '../workflows/task-queues';
import { checkSearchAttributes } from './search-attribute-check';
import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';
import { workerActivities } from './worker-activities';
import { removeClosedIncidentFolders, sweepEveryMs, temporalFolderState } from './work-folder-retention';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { hostTaskQueue } from '../activities/incident-host';
import type { HostOf } from '../activities/incident-host';
import type { WorkerGroup } from './worker-group';

/** Run a worker on the task queue until SIGINT/SIGTERM, then drain and stop. */
export async function runWorker(settings: Settings, log: (line: string) => void): Promise<void> {
  installRuntimeOnce(settings.logLevel);
  // Before anything polls: a namespace without OpsGuard's search attributes would hang every incident.
  const checking = await NativeConnection.connect(settings.temporal.connectionOptions).catch((err: unknown) => {
    const detail = (err as Error).message.split('\n')[0]?.slice(0, 200);
    throw new SettingsError(
      settings.temporal.secure
        ? `Temporal at ${settings.temporal.address} refused or did not answer the TLS connection (${detail}). Check TEMPORAL_TLS_* / TEMPORAL_API_KEY or the profile in TEMPORAL_CONFIG_FILE.`
        : `Temporal is not reachable at ${settings.temporal.address} (${detail}). Start it ('npx opsguard dev' locally) or set TEMPORAL_ADDRESS; the worker exits so that its supervisor restarts it.`,
    );
  });
  const attributes = await checkSearchAttributes(
    checking,
    settings.temporal.namespace,
    settings.createSearchAttributes,
  ).finally(() => checking.close());
  if (attributes.ok === false) {
    throw new SettingsError(
      `namespace '${settings.temporal.namespace}' lacks OpsGuard's search attributes ${attributes.missing.join(', ')}; incidents would hang at their first status update. Create them once:\n  ${attributes.commands.join('\n  ')}\n(or start the worker with OPSGUARD_CREATE_SEARCH_ATTRIBUTES=true where it may create them itself)`,
    );
  }
  if (attributes.ok === 'unknown')
    log(
      `[WORKER] could not check the namespace's search attributes (${attributes.why}); OpsGuard needs ${SEARCH_ATTRIBUTE_NAMES.join(', ')}`,
    );
  else if (attributes.created.length) log(`[WORKER] created the search attributes ${attributes.created.join(', ')}`);
  // The folders it writes (refused when it cannot), then the engine, the image and the model (said).
  await checkFolders(settings);
  await checkArtifactStore(settings);
  const docker = dockerFromEnv();
  const [sandboxFindings, modelFindings] = await Promise.all([
    checkSandbox(docker, settings.sandboxImage, settings.dockerHost),
    checkModel(settings.model, modelApiKey()),
  ]);
  for (const finding of [...sandboxFindings, ...modelFindings]) log(`[WORKER] ${finding}`);
  // Without an engine the worker takes no container step (they wait on the sandbox queue for a
  // worker that can run them) until its engine answers.
  const engineUp = await engineAnswers(docker, 2000);
  const visibility = lazyClient(settings);
  // Incidents whose workspace this worker makes are pinned to its own queue while it takes container
  // steps (workflows/host-pinning.ts); a worker without an engine pins none.
  const hostQueue = hostTaskQueue(settings.taskQueue, settings.host.workerId);
  const made: { group?: WorkerGroup } = {};
  const host: HostOf = () =>
    made.group?.takesSandboxWork
      ? { queue: hostQueue, worker: settings.host.workerId, waitSeconds: settings.host.waitSeconds }
      : null;
  // Runs in containers at once: beyond the cores they only share them (sandbox/run-slots.ts).
  limitSandboxRuns(settings.host.sandboxRuns);
  // Containers made while the model writes, only while this worker takes container steps.
  const warm = settings.host.warmContainers
    ? new WarmContainers(docker, {
        max: settings.host.warmContainers,
        holdSeconds: WARM_HOLD_SECONDS,
        enabled: () => made.group?.takesSandboxWork === true,
        log: (m) => log(`[SANDBOX] ${m}`),
      })
    : undefined;
  const { worker, connection } = await createWorker({
    connection: settings.temporal.connectionOptions,
    namespace: settings.temporal.namespace,
    taskQueue: settings.taskQueue,
    activities: workerActivities(settings, visibility.client, { host, warm }),
    workflowBundle: await prebuiltWorkflowBundle(log),
    sandbox: engineUp ? 'now' : 'later',
    hostQueue,
  });
  made.group = worker;
  const sandboxQueue = sandboxTaskQueue(settings.taskQueue);
  let engineWatch: NodeJS.Timeout | undefined;
  if (!engineUp) {
    log(`[WORKER] not polling '${sandboxQueue}' (container steps) until the Docker engine answers`);
    engineWatch = setInterval(() => {
      void engineAnswers(docker, 2000)
        .then(async (up) => {
          if (!up || worker.takesSandboxWork) return;
          clearInterval(engineWatch);
          await worker.startSandbox();
          await sweep();
          log(
            `[WORKER] the Docker engine answers at ${settings.dockerHost}: polling '${sandboxQueue}' for container steps`,
          );
        })
        .catch((err: unknown) => log(`[WORKER] could not start taking container steps: ${(err as Error).message}`));
    }, ENGINE_RECHECK_SECONDS * 1000);
  }
  // Leftovers of a worker that died on this host go before this one takes work.
  const sweep = async () => {
    const owed = await settleOwedRemovals().catch(() => 0);
    if (owed) log(`[JANITOR] removed ${owed} container(s) the engine could not remove while it did not answer`);
    const removed = await removeLeftoverContainers(docker).catch(() => []);
    if (removed.length) {
      const gone = removed.filter((r) => r.why === 'owner gone').length;
      log(
        `[JANITOR] removed ${removed.length} leftover sandbox container(s): ${gone} of a worker that has ended, ${removed.length - gone} past their deadline`,
      );
    }
  };
  await sweep();
  log(
    `[WORKER] polling task queue '${settings.taskQueue}'${engineUp ? `, '${sandboxQueue}'` : ''} and its own '${hostQueue}' (worker ${settings.host.workerId}) on ${settings.temporal.address}${settings.temporal.secure ? ' (TLS)' : ''}, namespace '${settings.temporal.namespace}' (Ctrl-C to stop)`,
  );
  log(`[WORKER] reads repositories under ${settings.repositories.roots.join(', ')} only (OPSGUARD_REPO_ROOTS)`);
  const janitor = setInterval(() => void sweep(), JANITOR_SWEEP_SECONDS * 1000);
  const retention = settings.host.workRetentionHours;
  const folderState = temporalFolderState(visibility.client, settings.temporal.namespace);
  const sweepWork = async () => {
    const { removed } = await removeClosedIncidentFolders(settings.workDir, retention * 3_600_000, folderState);
    if (removed.length)
      log(
        `[WORK] removed the work folders of ${removed.length} incident(s) closed more than ${retention} h ago (OPSGUARD_WORK_RETENTION_HOURS): ${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ', ...' : ''}`,
      );
  };
  const sweeping: { work?: Promise<void> } = {}; // one sweep at a time
  const workSweeper = retention
    ? setInterval(() => {
        sweeping.work ??= sweepWork()
          .catch((err: unknown) => log(`[WORK] could not sweep ${settings.workDir}: ${(err as Error).message}`))
          .finally(() => delete sweeping.work);
      }, sweepEveryMs(retention))
    : undefined;
  try {
    await worker.run(); // the SDK shuts down on SIGINT/SIGTERM
  } finally {
    clearInterval(janitor);
    clearInterval(workSweeper);
    await sweeping.work;
    clearInterval(engineWatch);
    await warm?.close();
    await connection.close();
    await visibility.close();
  }
}

/**
 * A client of the worker's namespace, connected on first use (past-incident lookups); a failed
 * connection is tried again at the next use.
 */
function lazyClient(settings: Settings): { client: () => Promise<Client>; close: () => Promise<void> } {
  let connecting: Promise<Connection> | undefined;
  return {
    client: async () => {
      connecting ??= Connection.connect(settings.temporal.connectionOptions);
      try {
        return new Client({ connection: await connecting, namespace: settings.temporal.namespace });
      } catch (err) {
        connecting = undefined;
        throw err;
      }
    },
    close: async () => {
      const connection = await connecting?.catch(() => undefined);
      await connection?.close();
    },
  };
}
