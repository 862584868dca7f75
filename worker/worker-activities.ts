import type { Client } from '@temporalio/client';
import { createActivities } from '../activities';
import { createModelClient } from '../activities/model-client';
import { dockerFromEnv } from '../sandbox/docker-client';
import { githubToken, modelApiKey } from './settings';
import type { Settings } from './settings';
import type { HostOf } from '../activities/incident-host';
import type { WarmContainers } from '../sandbox/warm-containers';

/**
 * The activities of a real worker: the local Docker engine, its folders, the model from its
 * settings, and Temporal (for past incidents). The model client and the Temporal client are built
 * on first use, so infra incidents never need a model and a worker never connects twice for nothing.
 */
export function workerActivities(
  settings: Settings,
  temporal: () => Promise<Client>,
  local: { host?: HostOf; warm?: WarmContainers } = {},
) {
  return createActivities({
    ...local,
    temporal,
    docker: dockerFromEnv(),
    artifactsDir: settings.artifactsDir,
    workDir: settings.workDir,
    defaultImage: settings.sandboxImage,
    environment: settings.environment,
    repositories: settings.repositories,
    approval: settings.approval,
    model: () => createModelClient({ ...settings.model, apiKey: modelApiKey() }),
    delivery: { ...settings.delivery, token: () => githubToken() },
    pauseAt: settings.testPauseAt,
    ...(settings.artifactStore ? { artifactStore: settings.artifactStore } : {}),
  });
}
