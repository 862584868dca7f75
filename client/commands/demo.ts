import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { createActivities } from '../../activities';
import { createModelClient, modelConfigFromEnv } from '../../activities/model-client';
import type { ModelClient } from '../../activities/model-client';
import { dockerFromEnv } from '../../sandbox/docker-client';
import { startScriptedModel } from '../../test/support/scripted-model-server';
import type { ScriptedTurn } from '../../test/support/scripted-model-server';
import { createWorker } from '../../worker/create-worker';
import { PROJECT_ROOT, settingsFromEnv } from '../../worker/settings';
import type { remediateIncident } from '../../workflows/remediate-incident';
import { ensureLocalServices } from '../local-services';
import { UserError } from '../user-error';

const EXAMPLES_DIR = path.join(PROJECT_ROOT, 'examples');

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
    .action(async (opts: { example: string }) => {
      const log = (line: string) => console.log(line);
      const exampleDir = path.join(EXAMPLES_DIR, opts.example);
      if (!examples().includes(opts.example)) {
        throw new UserError(`No example '${opts.example}'. Choose one of: ${examples().join(', ')}`);
      }
      const settings = settingsFromEnv();
      await ensureLocalServices(settings, log);

      // The model: the real one when configured, else the recorded answers (and we say so).
      let model: ModelClient;
      let closeScripted = async () => undefined as void;
      const env = process.env;
      if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL) {
        model = createModelClient(modelConfigFromEnv());
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

      // A private task queue: the recorded answers live in this process only.
      const taskQueue = `${settings.taskQueue}-demo-${process.pid}`;
      const { worker, connection: workerConnection } = await createWorker({
        address: settings.temporalAddress,
        namespace: settings.namespace,
        taskQueue,
        activities: createActivities({
          docker: dockerFromEnv(),
          artifactsDir: settings.artifactsDir,
          workDir: settings.workDir,
          defaultImage: settings.sandboxImage,
          model: () => model,
        }),
      });
      const connection = await Connection.connect({ address: settings.temporalAddress });
      const workflowId = `demo-${opts.example}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        const client = new Client({ connection, namespace: settings.namespace });
        const repoPath = path.join(exampleDir, 'repo');
        log(`[DEMO] incident ${workflowId}: ${repoPath}`);
        log(
          `[DEMO] follow it in the Web UI: http://127.0.0.1:${env.OPSGUARD_UI_PORT ?? 8233}/namespaces/${settings.namespace}/workflows/${workflowId}`,
        );
        const result = await worker.runUntil(
          client.workflow.execute<typeof remediateIncident>('remediateIncident', {
            taskQueue,
            workflowId,
            args: [
              {
                repoPath,
                errorLog: fs.readFileSync(path.join(exampleDir, 'incident.log'), 'utf8'),
                incidentId: workflowId,
              },
            ],
          }),
        );
        log('');
        log(`Status: ${result.status} — ${result.reason}`);
        log(
          `Attempts: reproduction ${result.reproductionAttempts.length}, fix ${result.fixAttempts.length}; tokens ${result.tokenUsage.inputTokens} in / ${result.tokenUsage.outputTokens} out`,
        );
        log('Artifacts:');
        for (const [name, file] of Object.entries(result.artifacts)) log(`  ${name.padEnd(18)} ${file}`);
        if (result.artifacts['patch.diff']) {
          log('');
          log(fs.readFileSync(result.artifacts['patch.diff'], 'utf8').trimEnd());
        }
        if (result.status !== 'verified') process.exitCode = 5;
      } finally {
        await connection.close();
        await workerConnection.close();
        await closeScripted();
      }
    });
}
