import { createWorker } from './create-worker';
import type { Settings } from './settings';
import { workerActivities } from './worker-activities';

/** Run a worker on the task queue until SIGINT/SIGTERM, then drain and stop. */
export async function runWorker(settings: Settings, log: (line: string) => void): Promise<void> {
  const { worker, connection } = await createWorker({
    address: settings.temporalAddress,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: workerActivities(settings),
  });
  log(`[WORKER] polling task queue '${settings.taskQueue}' on ${settings.temporalAddress} (Ctrl-C to stop)`);
  try {
    await worker.run(); // the SDK shuts down on SIGINT/SIGTERM
  } finally {
    await connection.close();
  }
}
