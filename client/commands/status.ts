import type { Command } from 'commander';
import { settingsFromEnv } from '../../worker/settings';
import { readIncident } from '../incident-state';
import { renderIncident } from '../render-incident';
import { connectClient, incidentHandle } from '../temporal-connection';
import { exitCodeFor, watchIncident } from '../watch-incident';

export function registerStatus(program: Command): void {
  program
    .command('status <id>')
    .description("Show an incident's status, step, attempts with their gate verdicts, decision and artifacts.")
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { client, close } = await connectClient(settingsFromEnv());
      try {
        const view = await readIncident(await incidentHandle(client, id));
        console.log(opts.json ? JSON.stringify(view, null, 2) : renderIncident(view));
      } finally {
        await close();
      }
    });

  program
    .command('watch <id>')
    .description('Stream the state transitions of an incident until it ends or waits for approval.')
    .option('--json', 'print the final state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { client, close } = await connectClient(settingsFromEnv());
      try {
        const view = await watchIncident(await incidentHandle(client, id), (line) => !opts.json && console.log(line));
        console.log(opts.json ? JSON.stringify(view, null, 2) : renderIncident(view));
        process.exitCode = exitCodeFor(view);
      } finally {
        await close();
      }
    });
}
