import type { Command } from 'commander';
import { settingsFromEnv } from '../../worker/settings';
import { buildAudit, renderAudit } from '../audit-report';
import { connectClient, incidentHandle } from '../temporal-connection';

export function registerAudit(program: Command): void {
  program
    .command('audit <id>')
    .description(
      "Rebuild an incident's timeline from its Temporal history: each step, attempt, exit code, gate verdict, duration and decision.",
    )
    .option('--json', 'print the timeline as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { client, close } = await connectClient(settingsFromEnv());
      try {
        const history = await (await incidentHandle(client, id)).fetchHistory();
        const entries = buildAudit(history.events ?? []);
        console.log(opts.json ? JSON.stringify(entries, null, 2) : renderAudit(id, entries));
      } finally {
        await close();
      }
    });
}
