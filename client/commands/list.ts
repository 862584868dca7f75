import type { Command } from 'commander';
import { settingsFromEnv } from '../../worker/settings';
import { connectClient } from '../temporal-connection';
import { UserError } from '../user-error';
import { INCIDENT_STATUSES } from '../../workflows/incident-types';

const STATUSES: readonly string[] = INCIDENT_STATUSES;

export function registerList(program: Command): void {
  program
    .command('list')
    .description('List incidents, newest first, from the OpsGuard search attributes (the same the Web UI filters on).')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print as JSON')
    .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
      if (opts.status && !STATUSES.includes(opts.status))
        throw new UserError(`--status must be one of: ${STATUSES.join(', ')}`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UserError('--limit must be a positive integer');
      const query = `WorkflowType = 'remediateIncident'${opts.status ? ` AND OpsGuardStatus = '${opts.status}'` : ''}`;
      const { client, close } = await connectClient(settingsFromEnv());
      try {
        const rows: {
          id: string;
          status: string;
          errorType: string;
          repo: string;
          started: string;
          workflowStatus: string;
        }[] = [];
        for await (const w of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
          const sa = Object.fromEntries(w.typedSearchAttributes.getAll().map((p) => [p.key.name, String(p.value)]));
          rows.push({
            id: w.workflowId,
            status: sa.OpsGuardStatus ?? '?',
            errorType: sa.OpsGuardErrorType ?? '',
            repo: sa.OpsGuardRepo ?? '',
            started: w.startTime.toISOString(),
            workflowStatus: w.status.name,
          });
          if (rows.length >= limit) break;
        }
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length)
          return console.log(opts.status ? `No incidents with status ${opts.status}.` : 'No incidents.');
        for (const r of rows)
          console.log(`${r.started}  ${r.status.padEnd(20)} ${r.errorType.padEnd(18)} ${r.id}  ${r.repo}`);
      } finally {
        await close();
      }
    });
}
