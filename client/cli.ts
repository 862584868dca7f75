/**
 * The `opsguard` command line. Each command lives in client/commands/<name>.ts and loads what it
 * needs only when it runs, so `--help` and `status` start quickly (CONVENTIONS.md).
 * Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or input, 3 a service is unreachable,
 * 4 not found, 5 the remediation ended without a verified fix, 6 a decision was refused
 * (already decided, not verified yet, or the incident has ended), 7 the delivery failed (the
 * verified patch is kept; `opsguard deliver` retries).
 */
import { Command, CommanderError } from 'commander';
import { registerArtifacts } from './commands/artifacts';
import { registerAudit } from './commands/audit';
import { registerDecide } from './commands/decide';
import { registerDeliver } from './commands/deliver';
import { registerCancel } from './commands/cancel';
import { registerDemo } from './commands/demo';
import { registerDev } from './commands/dev';
import { registerList } from './commands/list';
import { registerRemediate } from './commands/remediate';
import { registerStatus } from './commands/status';
import { registerWorker } from './commands/worker';
import { SettingsError } from '../worker/settings-error';
import { UserError } from './user-error';

const program = new Command()
  .name('opsguard')
  .description('Zero-trust incident remediation: reproduce the bug in Docker, prove the fix in Docker, on Temporal.')
  .showHelpAfterError()
  .exitOverride()
  .addHelpText(
    'after',
    '\nExit codes: 0 ok, 2 bad usage or input, 3 Temporal or Docker unreachable, 4 unknown incident,\n' +
      '5 ended without a verified fix, 6 decision refused (already decided / not verified yet),\n' +
      '7 delivery failed (the patch is kept; opsguard deliver <id> retries).\n' +
      'Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE,\n' +
      'OPSGUARD_TASK_QUEUE, OPENAI_API_KEY, OPENAI_BASE_URL, ... (README.md lists every variable).',
  );

registerDev(program);
registerWorker(program);
registerRemediate(program);
registerStatus(program);
registerDecide(program);
registerDeliver(program);
registerCancel(program);
registerList(program);
registerArtifacts(program);
registerAudit(program);
registerDemo(program);

/** Run the command; a user's mistake is one line on stderr and an exit code, never a stack trace. */
async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof UserError) {
      console.error(`opsguard: ${err.message}`);
      process.exit(err.exitCode);
    }
    if (err instanceof SettingsError) {
      console.error(`opsguard: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

void main();
