import { createActivities } from '../activities';
import { createModelClient } from '../activities/model-client';
import { dockerFromEnv } from '../sandbox/docker-client';
import { githubToken, modelApiKey } from './settings';
import type { Settings } from './settings';

/**
 * The activities of a real worker: the local Docker engine, its folders, and the model from its
 * settings. The model client is built on first use, so infra incidents never need one.
 */
export function workerActivities(settings: Settings) {
  return createActivities({
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
  });
}
