// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';
import { UserError } from '../user-error';

/** How long `cancel` waits for the incident to write its ending. */
const CANCEL_WAIT_MS = 60_000;

export function registerCancel(program: Command): void {
  program
    .command('cancel <id>')
    .description(
      'Cancel a running incident: its running container is stopped within seconds, what was known is written (proof.json, the report) and it ends `cancelled`. Nothing is delivered after it.',
    )
    .option('--json', 'print the final state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const [{ settingsFromEnv }, connection] = await Promise.all([
        import('../../worker/settings'),
        import('../temporal-connection'),
      ]);
      const settings = settingsFromEnv();
      const { client, close } = await connection.connectClient(settings);
      try {
        const handle = await connection.incidentHandle(client, id);
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING')
          throw new UserError(
            `Incident ${id} has already ended (${d.status.name.toLowerCase()}); nothing to cancel.`,
            6,
          );
        await handle.cancel();
        process.stderr.write(
          `Cancellation requested for ${id}; waiting for it to stop its work and write its ending…\n`,
        );
        const result = await Promise.race([
          handle.result(),
          new Promise<null>((r) => setTimeout(() => r(null), CANCEL_WAIT_MS).unref()),
        ]);
        if (!result) {
          console.log(
            `Incident ${id}: cancellation requested; no worker finished it within ${CANCEL_WAIT_MS / 1000} s (it ends when a worker on '${d.taskQueue}' runs).`,
          );
          return;
        }
        console.log(opts.json ? JSON.stringify(result) : `Incident ${id}: ${result.status} — ${result.reason}`);
      } finally {
        await close();
      }
    });
}
