// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { UserError } from '../user-error';

/** The most of a log an incident holds (the workflow input's bound): the end, where the traceback is. */
export const MAX_LOG_BYTES = 256 * 1024;

function readLog(file: string): string {
  if (file !== '-' && !fs.existsSync(file)) throw new UserError(`--log ${file}: no such file`);
  if (file !== '-' && fs.statSync(file).isDirectory()) throw new UserError(`--log ${file}: a folder, not a log file`);
  // Bytes that are not UTF-8 become U+FFFD: the traceback around them still reads.
  return boundLog(fs.readFileSync(file === '-' ? 0 : file).toString('utf8'));
}

/**
 * A log longer than the input allows keeps its last MAX_LOG_BYTES, from a line start, and says so
 * (on stderr, and in the text): the traceback that ends a log is what an incident is about.
 */
export function boundLog(text: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_LOG_BYTES) return text;
  const note = `[opsguard: the first ${bytes - MAX_LOG_BYTES} bytes or so of this ${(bytes / 1048576).toFixed(1)} MB log were left out]\n`;
  let tail = Buffer.from(text)
    .subarray(bytes - MAX_LOG_BYTES + Buffer.byteLength(note))
    .toString('utf8');
  tail = tail.slice(tail.indexOf('\n') + 1);
  process.stderr.write(
    `The log is ${(bytes / 1048576).toFixed(1)} MB; its last ${Math.round(Buffer.byteLength(tail) / 1024)} KiB (the end, where the traceback is) go to the incident.\n`,
  );
  return note + tail;
}

/** A profile file as the workflow input's `profile`, or a person-readable error naming the key. */
async function readProfileFile(file: string): Promise<Record<string, unknown>> {
  if (!fs.existsSync(file)) throw new UserError(`--profile ${file}: no such file`);
  const [{ parse }, { validateProfile }] = await Promise.all([
    import('smol-toml'),
    import('../../workflows/repo-profile'),
  ]);
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`--profile ${file}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const checked = validateProfile(raw, 'toml', `--profile ${file}`);
  if (!checked.ok) throw new UserError(`The profile is not valid:\n  - ${checked.problems.join('\n  - ')}`);
  return checked.profile;
}

export function registerRemediate(program: Command): void {
  program
    .command('remediate')
    .description(
      'Start remediating an incident; prints its id. The same incident (repository + error type + innermost frame) ' +
        'maps to the same id, so a second report attaches to the running remediation instead of starting another.',
    )
    .requiredOption('--repo <dir>', 'the repository the incident happened in (the worker must be able to read it)')
    .requiredOption('--log <file>', "the error log or traceback ('-' reads standard input)")
    .option('--incident-id <id>', 'use this id instead of the fingerprint')
    .option(
      '--test-command <command>',
      "the repo's test command, e.g. 'python3 -m pytest -q tests' (default: pytest where tests exist)",
    )
    .option('--image <image>', 'sandbox image (default: chosen by the environment step, see --python)')
    .option(
      '--python <version>',
      "the Python to run on, e.g. '3.9' (default: the profile's, the traceback's, the repository's declarations, 3.11)",
    )
    .option(
      '--profile <file>',
      "a repository profile (TOML, the keys of [tool.opsguard]: docs/repository-profile.md) that overrides the repository's own",
    )
    .option('--approval-timeout <duration>', "how long a verified fix waits for a decision, e.g. '30m', '24h'", '24h')
    .option('--wait', 'stream the state transitions until the incident ends or waits for approval')
    .option('--json', 'print the start (and with --wait, the final state) as JSON')
    .action(
      async (opts: {
        repo: string;
        log: string;
        incidentId?: string;
        testCommand?: string;
        image?: string;
        python?: string;
        profile?: string;
        approvalTimeout: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        const [
          { settingsFromEnv },
          { WorkflowExecutionAlreadyStartedError },
          { incidentWorkflowId },
          { validateIncidentInput },
          { parseTraceback },
          { connectClient },
          { grpcReader },
          { readIncident },
          { renderIncident },
          { exitCodeFor, watchIncident },
        ] = await Promise.all([
          import('../../worker/settings'),
          import('@temporalio/client'),
          import('../../workflows/fingerprint'),
          import('../../workflows/incident-input'),
          import('../../workflows/traceback'),
          import('../temporal-connection'),
          import('../grpc-reader'),
          import('../incident-state'),
          import('../render-incident'),
          import('../watch-incident'),
        ]);
        const settings = settingsFromEnv();
        const repoPath = path.resolve(opts.repo);
        if (!fs.existsSync(repoPath) || !fs.statSync(repoPath).isDirectory())
          throw new UserError(`--repo ${opts.repo}: not a directory`);
        const errorLog = readLog(opts.log);
        const profile = {
          ...(opts.profile ? await readProfileFile(opts.profile) : {}),
          ...(opts.python ? { python: opts.python } : {}),
        };
        const input = {
          repoPath,
          errorLog,
          ...(opts.incidentId ? { incidentId: opts.incidentId } : {}),
          ...(opts.testCommand ? { testCommand: opts.testCommand.split(/\s+/).filter(Boolean) } : {}),
          ...(opts.image ? { image: opts.image } : {}),
          ...(Object.keys(profile).length ? { profile } : {}),
          startedBy: settings.operatorName,
          approvalTimeout: opts.approvalTimeout,
        };
        const checked = validateIncidentInput(input);
        if (!checked.ok) throw new UserError(`The incident is not valid:\n  - ${checked.problems.join('\n  - ')}`);

        const workflowId = opts.incidentId ?? incidentWorkflowId(repoPath, errorLog);
        const tb = parseTraceback(errorLog);
        const { client, close } = await connectClient(settings);
        try {
          let attached = false;
          try {
            attached = (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
          } catch {
            attached = false; // not found: a new incident
          }
          let handle;
          try {
            handle = await client.workflow.start<typeof remediateIncident>('remediateIncident', {
              taskQueue: settings.taskQueue,
              workflowId,
              args: [input],
              // A second report of the same incident joins the running remediation; a finished one
              // is not redone unless it failed (then a new run may start).
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
              staticSummary: `OpsGuard: ${tb?.exceptionType ?? 'incident'} in ${path.basename(repoPath)}`,
              staticDetails: `Repository \`${repoPath}\`\n\n\`\`\`\n${errorLog.trim().split('\n').slice(-8).join('\n').slice(0, 1500)}\n\`\`\``,
            });
          } catch (err) {
            if (err instanceof WorkflowExecutionAlreadyStartedError) {
              const view = await readIncident(grpcReader(client), workflowId);
              if (opts.json)
                console.log(
                  JSON.stringify({
                    incidentId: workflowId,
                    started: false,
                    alreadyRemediated: true,
                    status: view.status,
                  }),
                );
              else
                console.log(
                  `${workflowId}\nThis incident was already remediated (status ${view.status}); not starting it again. See: npx opsguard status ${workflowId}`,
                );
              return;
            }
            throw err;
          }
          if (!attached) {
            // Two reports at once both see no incident and both ask to start: the server starts one
            // and hands the other the same run. The run's first event names which client started it.
            const first = await client.workflowService.getWorkflowExecutionHistory({
              namespace: client.options.namespace,
              execution: { workflowId, runId: handle.firstExecutionRunId },
              maximumPageSize: 1,
            });
            const startedBy = first.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.identity;
            attached = Boolean(startedBy && startedBy !== client.options.identity);
          }
          if (opts.json && !opts.wait)
            console.log(JSON.stringify({ incidentId: workflowId, started: !attached, attached }));
          else if (!opts.json) {
            console.log(workflowId);
            console.error(
              attached
                ? '(the same incident is already being remediated: attached to it)'
                : `(started on task queue '${settings.taskQueue}')`,
            );
          }
          if (opts.wait) {
            const view = await watchIncident(
              grpcReader(client),
              handle.workflowId,
              (line) => !opts.json && console.log(line),
            );
            console.log(opts.json ? JSON.stringify(view) : renderIncident(view));
            process.exitCode = exitCodeFor(view);
          }
        } finally {
          await close();
        }
      },
    );
}
