import { dockerFromEnv } from '../sandbox/docker-client';
import { removeLeftoverContainers } from '../sandbox/janitor';
import { createWorker, installRuntimeOnce } from './create-worker';
import type { Settings } from './settings';
import { workerActivities } from './worker-activities';

/** Run a worker on the task queue until SIGINT/SIGTERM, then drain and stop. */
export async function runWorker(settings: Settings, log: (line: string) => void): Promise<void> {
  installRuntimeOnce(settings.logLevel);
  const { worker, connection } = await createWorker({
    connection: settings.temporal.connectionOptions,
    namespace: settings.temporal.namespace,
    taskQueue: settings.taskQueue,
    activities: workerActivities(settings),
  });
  log(
    `[WORKER] polling task queue '${settings.taskQueue}' on ${settings.temporal.address}${settings.temporal.secure ? ' (TLS)' : ''}, namespace '${settings.temporal.namespace}' (Ctrl-C to stop)`,
  );
  log(`[WORKER] reads repositories under ${settings.repositories.roots.join(', ')} only (OPSGUARD_REPO_ROOTS)`);
  const docker = dockerFromEnv();
  const sweep = async () => {
    const removed = await removeLeftoverContainers(docker).catch(() => []);
    if (removed.length) log(`[JANITOR] removed ${removed.length} leftover sandbox container(s) past their deadline`);
  };
  await sweep();
  const janitor = setInterval(() => void sweep(), 60_000);
  try {
    await worker.run(); // the SDK shuts down on SIGINT/SIGTERM
  } finally {
    clearInterval(janitor);
    await connection.close();
  }
}
