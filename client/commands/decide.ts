import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { settingsFromEnv } from '../../worker/settings';
import { approveUpdate, rejectUpdate } from '../../workflows/operator-api';
import type { ApprovalDecision } from '../../workflows/incident-types';
import { connectClient, incidentHandle } from '../temporal-connection';
import { UserError } from '../user-error';

/** Approve or reject through the workflow's update: the answer (or the refusal) comes back at once. */
async function decide(
  id: string,
  send: (h: Awaited<ReturnType<typeof incidentHandle>>) => Promise<ApprovalDecision>,
  json?: boolean,
) {
  const settings = settingsFromEnv();
  const { client, close } = await connectClient(settings);
  try {
    const handle = await incidentHandle(client, id);
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') {
      throw new UserError(
        `Incident ${id} has ended (${d.status.name.toLowerCase()}); there is nothing left to decide. See: npx opsguard status ${id}`,
        6,
      );
    }
    let decision: ApprovalDecision;
    try {
      // An update needs a worker to run its validator: without one it would wait forever.
      decision = await Promise.race([
        send(handle),
        new Promise<never>((_, reject) =>
          setTimeout(
            () =>
              reject(
                new UserError(
                  `No worker answered within ${settings.decisionTimeoutMs / 1000} s. Start one on the incident's task queue '${d.taskQueue}' (OPSGUARD_TASK_QUEUE=${d.taskQueue} npx opsguard worker) and decide again.`,
                  3,
                ),
              ),
            settings.decisionTimeoutMs,
          ).unref(),
        ),
      ]);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new UserError(`Refused: ${err.cause?.message ?? err.message}`, 6);
      throw err;
    }
    console.log(
      json ? JSON.stringify(decision) : `Incident ${id} ${decision.decision} by ${decision.by} at ${decision.at}.`,
    );
  } finally {
    await close();
  }
}

export function registerDecide(program: Command): void {
  program
    .command('approve <id>')
    .description('Approve a verified fix that is awaiting approval (refused, with the reason, in any other state).')
    .option('--by <name>', 'who approves (default: $USER)')
    .option('--comment <text>', 'why')
    .option('--json', 'print the decision as JSON')
    .action(async (id: string, opts: { by?: string; comment?: string; json?: boolean }) => {
      await decide(
        id,
        (h) =>
          h.executeUpdate(approveUpdate, {
            args: [{ by: opts.by ?? settingsFromEnv().operatorName, comment: opts.comment }],
          }),
        opts.json,
      );
    });

  program
    .command('reject <id>')
    .description('Reject a verified fix that is awaiting approval.')
    .requiredOption('--reason <text>', 'why it is rejected (recorded in the result and proof.json)')
    .option('--by <name>', 'who rejects (default: $USER)')
    .option('--json', 'print the decision as JSON')
    .action(async (id: string, opts: { by?: string; reason: string; json?: boolean }) => {
      await decide(
        id,
        (h) =>
          h.executeUpdate(rejectUpdate, {
            args: [{ by: opts.by ?? settingsFromEnv().operatorName, reason: opts.reason }],
          }),
        opts.json,
      );
    });
}
