import type { Command } from 'commander';
import { runWorker } from '../../worker/run-worker';
import { settingsFromEnv } from '../../worker/settings';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run an OpsGuard worker against TEMPORAL_ADDRESS until interrupted (Ctrl-C).')
    .action(async () => {
      await runWorker(settingsFromEnv(), (line) => console.log(line));
    });
}
