// Loads its dependencies inside the actions (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status <id>')
    .description("Show an incident's status, step, attempts with their gate verdicts, decision and artifacts.")
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const [{ settingsFromEnv }, { openIncidentReader }, { readIncident }, { renderIncident }] = await Promise.all([
        import('../../worker/settings'),
        import('../incident-reader'),
        import('../incident-state'),
        import('../render-incident'),
      ]);
      const reader = await openIncidentReader(settingsFromEnv());
      try {
        const view = await readIncident(reader, id);
        console.log(opts.json ? JSON.stringify(view, null, 2) : renderIncident(view));
      } finally {
        await reader.close();
      }
    });

  program
    .command('watch <id>')
    .description('Stream the state transitions of an incident until it ends or waits for approval.')
    .option('--json', 'print the final state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const [{ settingsFromEnv }, { openIncidentReader }, { exitCodeFor, watchIncident }, { renderIncident }] =
        await Promise.all([
          import('../../worker/settings'),
          import('../incident-reader'),
          import('../watch-incident'),
          import('../render-incident'),
        ]);
      const reader = await openIncidentReader(settingsFromEnv());
      try {
        const view = await watchIncident(reader, id, (line) => !opts.json && console.log(line));
        console.log(opts.json ? JSON.stringify(view, null, 2) : renderIncident(view));
        process.exitCode = exitCodeFor(view);
      } finally {
        await reader.close();
      }
    });
}
