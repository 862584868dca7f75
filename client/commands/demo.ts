// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { ModelClient } from '../../activities/model-client';
import type { ScriptedTurn } from '../../test/support/scripted-model-server';
import { PROJECT_ROOT } from '../../worker/project-root';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { UserError } from '../user-error';

/** Ask on the terminal; without one (CI, a pipe), there is nobody to ask: no decision. */
async function ask(question: string): Promise<'approve' | 'reject' | null> {
  if (!process.stdin.isTTY) return null;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(question);
  rl.close();
  return /^y(es)?$/i.test(answer.trim()) ? 'approve' : 'reject';
}

const EXAMPLES_DIR = path.join(PROJECT_ROOT, 'examples');

/** Copy the example into `dir`/repo as a git repository on main, with a bare remote at `dir`/remote.git. */
function demoRepository(dir: string, exampleDir: string): { repoPath: string; remote: string } {
  const repoPath = path.join(dir, 'repo');
  const remote = path.join(dir, 'remote.git');
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(path.join(exampleDir, 'repo'), repoPath, { recursive: true });
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=OpsGuard demo', '-c', 'user.email=demo@localhost', ...args], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(repoPath, 'init', '-q', '-b', 'main');
  git(repoPath, 'add', '-A');
  git(repoPath, 'commit', '-q', '-m', 'the example service, as deployed');
  git(repoPath, 'remote', 'add', 'origin', remote);
  git(repoPath, 'push', '-q', 'origin', 'main');
  return { repoPath, remote };
}

function examples(): string[] {
  return fs.readdirSync(EXAMPLES_DIR).filter((d) => fs.existsSync(path.join(EXAMPLES_DIR, d, 'incident.log')));
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Remediate a bundled example incident end to end on local defaults: Temporal dev server, a worker, real Docker. ' +
        'Uses the model from OPENAI_API_KEY / OPENAI_BASE_URL; without either, replays recorded model answers and says so.',
    )
    .option('-e, --example <name>', `which example (${examples().join(', ')})`, 'config-loader')
    .option('--approve', 'approve the verified fix without asking (you are the person deciding)')
    .option('--reject <reason>', 'reject the verified fix with this reason')
    .action(async (opts: { example: string; approve?: boolean; reject?: string }) => {
      const log = (line: string) => console.log(line);
      const exampleDir = path.join(EXAMPLES_DIR, opts.example);
      if (!examples().includes(opts.example)) {
        throw new UserError(`No example '${opts.example}'. Choose one of: ${examples().join(', ')}`);
      }
      const [
        { Client, Connection },
        { createActivities },
        { createModelClient },
        { dockerFromEnv },
        { startScriptedModel },
        { createWorker },
        { modelApiKey, settingsFromEnv },
        { approveUpdate, rejectUpdate },
        { ensureLocalServices },
        { grpcReader },
        { readIncident },
        { renderIncident },
        { exitCodeFor, watchIncident },
      ] = await Promise.all([
        import('@temporalio/client'),
        import('../../activities'),
        import('../../activities/model-client'),
        import('../../sandbox/docker-client'),
        import('../../test/support/scripted-model-server'),
        import('../../worker/create-worker'),
        import('../../worker/settings'),
        import('../../workflows/operator-api'),
        import('../local-services'),
        import('../grpc-reader'),
        import('../incident-state'),
        import('../render-incident'),
        import('../watch-incident'),
      ]);
      const settings = settingsFromEnv();
      await ensureLocalServices(settings, log);

      // The model: the real one when configured, else the recorded answers (and we say so).
      let model: ModelClient;
      let closeScripted = async () => undefined as void;
      if (settings.model.keyConfigured || settings.model.baseURL) {
        model = createModelClient({ ...settings.model, apiKey: modelApiKey() });
        log(`[MODEL] ${model.description}`);
      } else {
        const recorded = JSON.parse(fs.readFileSync(path.join(exampleDir, 'recorded-model.json'), 'utf8')) as {
          turns: ScriptedTurn[];
        };
        const scripted = await startScriptedModel(recorded.turns);
        closeScripted = () => scripted.close();
        model = createModelClient({
          baseURL: scripted.baseURL,
          apiKey: undefined,
          modelId: 'recorded-demo',
          api: 'chat',
        });
        log(
          `[MODEL] OPENAI_API_KEY is not set: the model's answers come from the recorded script ` +
            `examples/${opts.example}/recorded-model.json, served by OpsGuard's scripted OpenAI-compatible server. ` +
            'Temporal and Docker are real. Set OPENAI_API_KEY (or OPENAI_BASE_URL) to use a live model.',
        );
      }

      // The demo's own task queue: the recorded answers live in this process only.
      const taskQueue = `${settings.taskQueue}-demo`;
      const { worker, connection: workerConnection } = await createWorker({
        connection: settings.temporal.connectionOptions,
        namespace: settings.temporal.namespace,
        taskQueue,
        activities: createActivities({
          docker: dockerFromEnv(),
          artifactsDir: settings.artifactsDir,
          workDir: settings.workDir,
          defaultImage: settings.sandboxImage,
          environment: settings.environment,
          repositories: settings.repositories,
          approval: settings.approval,
          model: () => model,
        }),
      });
      const connection = await Connection.connect(settings.temporal.connectionOptions);
      const workflowId = `demo-${opts.example}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        const client = new Client({ connection, namespace: settings.temporal.namespace });
        const reader = grpcReader(client);
        // The example as a git repository of its own with a bare remote, so delivery has somewhere to go.
        const { repoPath, remote } = demoRepository(path.join(settings.stateDir, 'demo', workflowId), exampleDir);
        log(`[DEMO] incident ${workflowId}: ${repoPath} (a git repository on main; its remote: ${remote})`);
        log(
          `[DEMO] follow it in the Web UI: http://127.0.0.1:${settings.uiPort}/namespaces/${settings.temporal.namespace}/workflows/${workflowId}`,
        );
        const handle = await client.workflow.start<typeof remediateIncident>('remediateIncident', {
          taskQueue,
          workflowId,
          args: [
            {
              repoPath,
              errorLog: fs.readFileSync(path.join(exampleDir, 'incident.log'), 'utf8'),
              incidentId: workflowId,
              profile: { delivery: { remote: 'origin', baseBranch: 'main' } },
            },
          ],
          staticSummary: `OpsGuard demo: ${opts.example}`,
        });
        const { view, shown } = await worker.runUntil(async () => {
          // Run until the incident ends or waits for a person, then take the person's decision.
          const waiting = await watchIncident(reader, workflowId, () => undefined, 500);
          if (waiting.status !== 'awaiting_approval') return { view: waiting, shown: false };
          log('');
          log(renderIncident(waiting));
          const patch = waiting.result?.artifacts['patch.diff'];
          const patchText = patch ? fs.readFileSync(patch) : null;
          if (patchText) log(`\n${patchText.toString('utf8').trimEnd()}\n`);
          // The decision names the patch shown (its sha256): a different one would be refused.
          const patchSha256 = patchText ? createHash('sha256').update(patchText).digest('hex') : undefined;
          const decision = opts.approve
            ? 'approve'
            : opts.reject
              ? 'reject'
              : await ask('Approve this verified fix? [y/N] ');
          if (decision === 'approve')
            await handle.executeUpdate(approveUpdate, {
              args: [{ by: settings.operatorName, comment: 'approved in opsguard demo', patchSha256 }],
            });
          else if (decision === 'reject')
            await handle.executeUpdate(rejectUpdate, {
              args: [{ by: settings.operatorName, reason: opts.reject ?? 'rejected in opsguard demo', patchSha256 }],
            });
          else {
            log(
              `The incident waits for a decision (the approval timeout is 24h). Decide later with a worker on this demo's queue:`,
            );
            log(`  OPSGUARD_TASK_QUEUE=${taskQueue} npx opsguard worker   # the decision needs no model`);
            log(`  npx opsguard approve ${workflowId}    or    npx opsguard reject ${workflowId} --reason "..."`);
            return { view: waiting, shown: true };
          }
          // The decision is recorded; an approval goes on to delivery (delivered, or delivery_failed waiting).
          let view = await readIncident(reader, workflowId);
          while (view.workflowStatus === 'RUNNING' && view.status !== 'delivery_failed') {
            await new Promise((r) => setTimeout(r, 300));
            view = await readIncident(reader, workflowId);
          }
          const d = view.result?.delivery;
          if (d?.status === 'delivered')
            log(
              `[DEMO] delivered: branch ${d.branch} at commit ${d.commit} pushed to ${remote}\n[DEMO] see it: git --git-dir ${remote} log --stat -1 ${d.branch}`,
            );
          return { view, shown: false };
        });
        if (!shown) log(`\n${renderIncident(view)}`);
        process.exitCode = exitCodeFor(view);
      } finally {
        await connection.close();
        await workerConnection.close();
        await closeScripted();
      }
    });
}
