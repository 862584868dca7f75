import { createActivities } from '../activities';
import { dockerFromEnv } from '../sandbox/docker-client';
import type { Settings } from './settings';

/** The activities of a real worker: the local Docker engine, folders and model from the environment. */
export function workerActivities(settings: Settings) {
  return createActivities({
    docker: dockerFromEnv(),
    artifactsDir: settings.artifactsDir,
    workDir: settings.workDir,
    defaultImage: settings.sandboxImage,
  });
}
