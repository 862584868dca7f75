// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import type { Command } from 'commander';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Start (or reuse) the Temporal dev server and run a worker in this terminal until Ctrl-C.')
    .action(async () => {
      const [{ settingsFromEnv }, { ensureLocalServices }, { runWorker }] = await Promise.all([
        import('../../worker/settings'),
        import('../local-services'),
        import('../../worker/run-worker'),
      ]);
      const settings = settingsFromEnv();
      await ensureLocalServices(settings, (line) => console.log(line));
      await runWorker(settings, (line) => console.log(line));
    });
}
