import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { createActivities } from '../../activities';
import { createWorker } from '../../worker/create-worker';
import { settingsFromEnv } from '../../worker/settings';
import type { smokeWorkflow } from '../../workflows/smoke';
import { ensureLocalServices } from '../local-services';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Bring up the local services and run a workflow through them end to end.')
    .action(async () => {
      const settings = settingsFromEnv();
      const log = (line: string) => console.log(line);
      await ensureLocalServices(settings, log);
      const { worker, connection: workerConnection } = await createWorker({
        address: settings.temporalAddress,
        namespace: settings.namespace,
        taskQueue: settings.taskQueue,
        activities: createActivities(),
      });
      const connection = await Connection.connect({ address: settings.temporalAddress });
      try {
        const client = new Client({ connection, namespace: settings.namespace });
        const answer = await worker.runUntil(
          client.workflow.execute<typeof smokeWorkflow>('smokeWorkflow', {
            taskQueue: settings.taskQueue,
            workflowId: `smoke-${Date.now()}`,
            args: ['demo'],
          }),
        );
        log(`[SMOKE] ${answer}`);
      } finally {
        await connection.close();
        await workerConnection.close();
      }
    });
}
