// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';
import type { followDelivery } from '../follow-delivery';
import { UserError } from '../user-error';

/** How long `approve` and `deliver` follow delivery before leaving it to `opsguard status`. */
export const FOLLOW_DELIVERY_MS = 300_000;

/** Print what delivery did; exit 7 when it failed. */
export async function printDelivery(
  id: string,
  outcome: Awaited<ReturnType<typeof followDelivery>>,
  json: boolean,
): Promise<void> {
  const { describeDelivery } = await import('../render-incident');
  if (!outcome) {
    console.log(`Delivery of ${id} is still under way; follow it with: npx opsguard watch ${id}`);
    return;
  }
  if (json) console.log(JSON.stringify(outcome));
  else if (outcome.delivery) console.log(describeDelivery(outcome.delivery).join('\n'));
  else console.log(`Incident ${id}: ${outcome.status}; nothing was delivered.`);
  if (outcome.status === 'delivery_failed') process.exitCode = 7;
}

export function registerDeliver(program: Command): void {
  program
    .command('deliver <id>')
    .description(
      'Retry the delivery of an approved fix whose delivery failed (delivery_failed): the branch, the push and the pull request, each made once. Prints the branch and the pull request.',
    )
    .option('--by <name>', 'who retries (default: $USER)')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, opts: { by?: string; json?: boolean }) => {
      const [{ settingsFromEnv }, { WorkflowUpdateFailedError }, { deliverUpdate }, connection, { followDelivery }] =
        await Promise.all([
          import('../../worker/settings'),
          import('@temporalio/client'),
          import('../../workflows/operator-api'),
          import('../temporal-connection'),
          import('../follow-delivery'),
        ]);
      const settings = settingsFromEnv();
      const { client, close } = await connection.connectClient(settings);
      try {
        const handle = await connection.incidentHandle(client, id);
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING')
          throw new UserError(
            `Incident ${id} has ended (${d.status.name.toLowerCase()}); only an incident waiting in delivery_failed can be delivered again. Its patch.diff is in: npx opsguard artifacts ${id}`,
            6,
          );
        try {
          const answer = await handle.executeUpdate(deliverUpdate, {
            args: [{ by: opts.by ?? settings.operatorName }],
          });
          if (!opts.json) process.stderr.write(`${answer}\n`);
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError)
            throw new UserError(`Refused: ${err.cause?.message ?? err.message}`, 6);
          throw err;
        }
        await printDelivery(id, await followDelivery(handle, FOLLOW_DELIVERY_MS), Boolean(opts.json));
      } finally {
        await close();
      }
    });
}
