import { dockerFromEnv } from '../sandbox/docker-client';
import { removeLeftoverContainers } from '../sandbox/janitor';
import { NativeConnection } from '@temporalio/worker';
import { createWorker, installRuntimeOnce } from './create-worker';
import type { Settings } from './settings';
import { modelApiKey, SettingsError } from './settings';
import { checkFolders, checkModel, checkSandbox } from './start-checks';
import { checkSearchAttributes } from './search-attribute-check';
import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';
import { workerActivities } from './worker-activities';

/** Run a worker on the task queue until SIGINT/SIGTERM, then drain and stop. */
export async function runWorker(settings: Settings, log: (line: string) => void): Promise<void> {
  installRuntimeOnce(settings.logLevel);
  // Before anything polls: a namespace without OpsGuard's search attributes would hang every incident.
  const checking = await NativeConnection.connect(settings.temporal.connectionOptions);
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
  const docker = dockerFromEnv();
  const [sandboxFindings, modelFindings] = await Promise.all([
    checkSandbox(docker, settings.sandboxImage, settings.dockerHost),
    checkModel(settings.model, modelApiKey()),
  ]);
  for (const finding of [...sandboxFindings, ...modelFindings]) log(`[WORKER] ${finding}`);
  const { worker, connection } = await createWorker({
    connection: settings.temporal.connectionOptions,
    namespace: settings.temporal.namespace,
    taskQueue: settings.taskQueue,
    activities: workerActivities(settings),
  });
  // Leftovers of a worker that died on this host go before this one takes work.
  const sweep = async () => {
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
    `[WORKER] polling task queue '${settings.taskQueue}' on ${settings.temporal.address}${settings.temporal.secure ? ' (TLS)' : ''}, namespace '${settings.temporal.namespace}' (Ctrl-C to stop)`,
  );
  log(`[WORKER] reads repositories under ${settings.repositories.roots.join(', ')} only (OPSGUARD_REPO_ROOTS)`);
  const janitor = setInterval(() => void sweep(), 60_000);
  try {
    await worker.run(); // the SDK shuts down on SIGINT/SIGTERM
  } finally {
    clearInterval(janitor);
    await connection.close();
  }
}
