// Loads its dependencies inside the actions (see CONVENTIONS.md, "A quick command line").
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { ApprovalDecision, ApproveArgs, RejectArgs, RemediationState } from '../../workflows/incident-types';
import { UserError } from '../user-error';

type Kind = 'approve' | 'reject';

interface DecideOptions {
  json?: boolean;
  /** The sha256 of the patch.diff reviewed (required without a terminal). */
  patchSha256?: string;
  /** An Ed25519 private key (PEM) to sign the decision with. */
  key?: string;
  /** Do not ask (a terminal): the person has reviewed the patch shown. */
  yes?: boolean;
}

/** Ask a yes/no question on the terminal. */
async function confirm(question: string): Promise<boolean> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * The patch the decision is about: `--patch-sha256` as given, or, on a terminal, the patch.diff
 * shown to the person and confirmed. Without a terminal and without the hash: refused (nobody
 * decides on a patch they were not shown).
 */
async function reviewedPatch(
  kind: Kind,
  id: string,
  state: RemediationState,
  opts: DecideOptions,
): Promise<string | undefined> {
  const awaiting = state.result.patchSha256;
  if (opts.patchSha256) return opts.patchSha256.toLowerCase();
  if (!awaiting) return undefined; // an incident started before decisions named the patch
  const [fs, { createHash }, { localArtifacts }, { settingsFromEnv }] = await Promise.all([
    import('node:fs'),
    import('node:crypto'),
    import('../artifact-location'),
    import('../../worker/settings'),
  ]);
  const recorded = state.result.artifacts['patch.diff'];
  // Where the worker wrote it, the shared folder, or the artifact store; unreadable: said below.
  const file = recorded
    ? ((await localArtifacts(settingsFromEnv(), state.result.incidentId, { 'patch.diff': recorded }).catch(() => null))
        ?.files['patch.diff'] ?? recorded)
    : undefined;
  const bytes = file && fs.existsSync(file) ? fs.readFileSync(file) : null;
  const shown = bytes ? createHash('sha256').update(bytes).digest('hex') : awaiting;
  if (!process.stdin.isTTY || opts.json) {
    throw new UserError(
      `Review the patch first, then pass its hash: npx opsguard ${kind} ${id} --patch-sha256 ${awaiting}${file ? ` (patch.diff: ${file})` : ''}`,
      2,
    );
  }
  if (bytes) process.stderr.write(`${bytes.toString('utf8').trimEnd()}\n\n`);
  else process.stderr.write(`(patch.diff is not readable here; opsguard artifacts ${id} copies it)\n`);
  process.stderr.write(`patch.diff sha256 ${shown}\n`);
  if (!opts.yes && !(await confirm(`${kind === 'approve' ? 'Approve' : 'Reject'} this patch? [y/N] `)))
    throw new UserError('Nothing was decided.', 1);
  return shown;
}

/** Approve or reject through the workflow's update: the answer (or the refusal) comes back at once. */
async function decide(
  id: string,
  kind: Kind,
  args: (operatorName: string) => ApproveArgs | RejectArgs,
  opts: DecideOptions,
) {
  const [{ settingsFromEnv }, { WorkflowUpdateFailedError }, { approveUpdate, rejectUpdate, stateQuery }, connection] =
    await Promise.all([
      import('../../worker/settings'),
      import('@temporalio/client'),
      import('../../workflows/operator-api'),
      import('../temporal-connection'),
    ]);
  const { connectClient, incidentHandle } = connection;
  const settings = settingsFromEnv();
  const decision = args(settings.operatorName);
  const send = (h: WorkflowHandle, d: ApproveArgs | RejectArgs): Promise<ApprovalDecision> =>
    kind === 'approve'
      ? h.executeUpdate(approveUpdate, { args: [d as ApproveArgs] })
      : h.executeUpdate(rejectUpdate, { args: [d as RejectArgs] });
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
    // The query and the update need a worker: without one they would wait forever.
    const answered = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([
        p,
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
    const state = await answered(handle.query(stateQuery));
    const patchSha256 = await reviewedPatch(kind, id, state, opts);
    let signed = {};
    if (opts.key) {
      const [fs, { signDecision }] = await Promise.all([
        import('node:fs'),
        import('../../activities/decision-signatures'),
      ]);
      if (!fs.existsSync(opts.key)) throw new UserError(`--key ${opts.key}: no such file`, 2);
      if (!patchSha256) throw new UserError('This incident predates signed decisions (no patch hash to sign)', 2);
      try {
        signed = signDecision(fs.readFileSync(opts.key, 'utf8'), {
          incidentId: state.result.incidentId,
          decision: kind,
          by: decision.by,
          patchSha256,
          signedAt: new Date().toISOString(),
        });
      } catch (err) {
        throw new UserError(`--key ${opts.key}: not an Ed25519 private key (${(err as Error).message})`, 2);
      }
    }
    let decided: ApprovalDecision;
    try {
      decided = await answered(send(handle, { ...decision, ...(patchSha256 ? { patchSha256 } : {}), ...signed }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new UserError(`Refused: ${err.cause?.message ?? err.message}`, 6);
      throw err;
    }
    if (kind === 'approve' && decided.decision === 'approved' && !decided.pending && decided.deliver !== false) {
      // Delivery follows an approval: say where the patch went (or why it did not).
      console.log(
        opts.json
          ? JSON.stringify(decided)
          : `Incident ${id} approved by ${decided.by} at ${decided.at}${decided.patchSha256 ? ` on patch ${decided.patchSha256.slice(0, 12)}…` : ''}.`,
      );
      const [{ followDelivery }, { printDelivery, FOLLOW_DELIVERY_MS }] = await Promise.all([
        import('../follow-delivery'),
        import('./deliver'),
      ]);
      await printDelivery(id, await followDelivery(handle, FOLLOW_DELIVERY_MS), Boolean(opts.json));
      return;
    }
    const pending = decided.pending
      ? ` (approval ${decided.pending.approvals} of ${decided.pending.required}: the incident waits for more)`
      : '';
    console.log(
      opts.json
        ? JSON.stringify(decided)
        : `Incident ${id} ${decided.pending ? 'approval recorded' : decided.decision} by ${decided.by} at ${decided.at}${decided.patchSha256 ? ` on patch ${decided.patchSha256.slice(0, 12)}…` : ''}${pending}.`,
    );
  } finally {
    await close();
  }
}

const decisionOptions = (cmd: Command) =>
  cmd
    .option(
      '--patch-sha256 <hash>',
      'the sha256 of the patch.diff you reviewed (opsguard status shows it); required without a terminal',
    )
    .option(
      '--key <file>',
      'sign the decision with your Ed25519 private key (PEM); the worker checks it against OPSGUARD_APPROVER_KEYS',
    )
    .option('--yes', 'on a terminal: do not ask after showing the patch')
    .option('--json', 'print the decision as JSON');

export function registerDecide(program: Command): void {
  decisionOptions(
    program
      .command('approve <id>')
      .description(
        'Approve a verified fix that is awaiting approval: shows patch.diff and its sha256, and approves that exact patch (refused, with the reason, in any other state or by anyone the approval policy does not allow). Then follows delivery and prints the branch and the pull request.',
      )
      .option('--by <name>', 'who approves (default: $USER)')
      .option('--comment <text>', 'why')
      .option('--no-deliver', 'approve without delivery: no branch, no pull request (your team applies patch.diff)'),
  ).action(async (id: string, opts: DecideOptions & { by?: string; comment?: string; deliver?: boolean }) => {
    await decide(
      id,
      'approve',
      (operatorName) => ({
        by: opts.by ?? operatorName,
        comment: opts.comment,
        ...(opts.deliver === false ? { deliver: false } : {}),
      }),
      opts,
    );
  });

  decisionOptions(
    program
      .command('reject <id>')
      .description('Reject a verified fix that is awaiting approval (the same rules as approve).')
      .requiredOption('--reason <text>', 'why it is rejected (recorded in the result and proof.json)')
      .option('--by <name>', 'who rejects (default: $USER)'),
  ).action(async (id: string, opts: DecideOptions & { by?: string; reason: string }) => {
    await decide(id, 'reject', (operatorName) => ({ by: opts.by ?? operatorName, reason: opts.reason }), opts);
  });
}
