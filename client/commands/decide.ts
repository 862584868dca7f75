// Loads its dependencies inside the actions (see CONVENTIONS.md, "A quick command line").
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { ApprovalDecision, ApproveArgs, RejectArgs } from '../../workflows/incident-types';
import { UserError } from '../user-error';

type Decision = { approve: ApproveArgs } | { reject: RejectArgs };

/** Approve or reject through the workflow's update: the answer (or the refusal) comes back at once. */
async function decide(id: string, args: (operatorName: string) => Decision, json?: boolean) {
  const [{ settingsFromEnv }, { WorkflowUpdateFailedError }, { approveUpdate, rejectUpdate }, connection] =
    await Promise.all([
      import('../../worker/settings'),
      import('@temporalio/client'),
      import('../../workflows/operator-api'),
      import('../temporal-connection'),
    ]);
  const { connectClient, incidentHandle } = connection;
  const settings = settingsFromEnv();
  const decision = args(settings.operatorName);
  const send = (h: WorkflowHandle): Promise<ApprovalDecision> =>
    'approve' in decision
      ? h.executeUpdate(approveUpdate, { args: [decision.approve] })
      : h.executeUpdate(rejectUpdate, { args: [decision.reject] });
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
    let decided: ApprovalDecision;
    try {
      // An update needs a worker to run its validator: without one it would wait forever.
      decided = await Promise.race([
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
      json ? JSON.stringify(decided) : `Incident ${id} ${decided.decision} by ${decided.by} at ${decided.at}.`,
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
        (operatorName) => ({ approve: { by: opts.by ?? operatorName, comment: opts.comment } }),
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
      await decide(id, (operatorName) => ({ reject: { by: opts.by ?? operatorName, reason: opts.reason } }), opts.json);
    });
}
