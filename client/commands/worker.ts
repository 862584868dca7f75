// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run an OpsGuard worker against TEMPORAL_ADDRESS until interrupted (Ctrl-C).')
    .action(async () => {
      const [{ settingsFromEnv }, { runWorker }] = await Promise.all([
        import('../../worker/settings'),
        import('../../worker/run-worker'),
      ]);
      await runWorker(settingsFromEnv(), (line) => console.log(line));
    });
}
