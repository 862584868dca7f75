import type { Command } from 'commander';
import { runWorker } from '../../worker/run-worker';
import { settingsFromEnv } from '../../worker/settings';
import { ensureLocalServices } from '../local-services';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Start (or reuse) the Temporal dev server and run a worker in this terminal until Ctrl-C.')
    .action(async () => {
      const settings = settingsFromEnv();
      await ensureLocalServices(settings, (line) => console.log(line));
      await runWorker(settings, (line) => console.log(line));
    });
}
