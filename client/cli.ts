/**
 * The `opsguard` command line. Each command lives in client/commands/<name>.ts.
 * Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or input, 3 a service is unreachable,
 * 4 not found, 5 the remediation ended without a verified fix.
 */
import { Command, CommanderError } from 'commander';
import { registerDemo } from './commands/demo';
import { registerDev } from './commands/dev';
import { registerWorker } from './commands/worker';
import { UserError } from './user-error';

const program = new Command()
  .name('opsguard')
  .description('Zero-trust incident remediation: reproduce the bug in Docker, prove the fix in Docker, on Temporal.')
  .showHelpAfterError()
  .exitOverride();

registerDemo(program);
registerDev(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof UserError) {
    console.error(`opsguard: ${err.message}`);
    process.exit(err.exitCode);
  }
  throw err;
}
