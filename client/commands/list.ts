// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';
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
      const [{ settingsFromEnv }, { openIncidentReader }] = await Promise.all([
        import('../../worker/settings'),
        import('../incident-reader'),
      ]);
      const reader = await openIncidentReader(settingsFromEnv());
      try {
        const text = (v: unknown, missing: string) => (typeof v === 'string' ? v : missing);
        const rows = (await reader.list(query, limit)).map((w) => ({
          id: w.id,
          status: text(w.searchAttributes.OpsGuardStatus, '?'),
          errorType: text(w.searchAttributes.OpsGuardErrorType, ''),
          repo: text(w.searchAttributes.OpsGuardRepo, ''),
          started: w.startTime,
          workflowStatus: w.status,
        }));
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        if (!rows.length)
          return console.log(opts.status ? `No incidents with status ${opts.status}.` : 'No incidents.');
        for (const r of rows)
          console.log(`${r.started}  ${r.status.padEnd(20)} ${r.errorType.padEnd(18)} ${r.id}  ${r.repo}`);
      } finally {
        await reader.close();
      }
    });
}
