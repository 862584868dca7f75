// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';

export function registerAudit(program: Command): void {
  program
    .command('audit <id>')
    .description(
      "Rebuild an incident's timeline from its Temporal history: each step, attempt, exit code, gate verdict, duration and decision.",
    )
    .option('--json', 'print the timeline as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const [{ settingsFromEnv }, { buildAudit, renderAudit }, { connectClient, incidentHandle }] = await Promise.all([
        import('../../worker/settings'),
        import('../audit-report'),
        import('../temporal-connection'),
      ]);
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
