import path from 'node:path';
import { dockerFromEnv, engineAnswers } from '../sandbox/docker-client';
import type { Settings } from '../worker/settings';
import { ensureDevServer } from './dev-server';
import type { DevServerHandle } from './dev-server';
import { UserError } from './user-error';

/**
 * The local services OpsGuard needs, on local defaults: a Docker engine that answers (installed and
 * started by `npm run setup`) and the Temporal dev server (started here, or reused), with its
 * database in .state/temporal.db so workflows survive a restart.
 */
export async function ensureLocalServices(settings: Settings, log: (line: string) => void): Promise<DevServerHandle> {
  if (!(await engineAnswers(dockerFromEnv()))) {
    throw new UserError(
      "The Docker engine does not answer. Run 'npm run setup' (it starts dockerd as root on Debian), or start Docker and check 'docker info'.",
      3,
    );
  }
  const server = await ensureDevServer({
    temporalBin: settings.temporalBin,
    address: settings.temporal.address,
    uiPort: settings.uiPort,
    dbFile: path.join(settings.stateDir, 'temporal.db'),
    logFile: path.join(settings.stateDir, 'temporal.log'),
  });
  log(
    `[SERVICES] Temporal ${server.reused ? 'already running' : 'started'} at ${server.address}; Web UI ${server.uiUrl}`,
  );
  return server;
}
