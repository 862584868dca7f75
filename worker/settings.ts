import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder (where .tools/ and .state/ live), whatever the current directory is. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Everything OpsGuard reads from the environment, in one place, with its local default.
 * Secrets (OPENAI_API_KEY) are read only by the model activity, never passed around.
 */
export interface Settings {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** Root of per-incident artifact folders. */
  artifactsDir: string;
  /** Root of per-incident isolated workspaces. */
  workDir: string;
  sandboxImage: string;
  temporalBin: string;
  stateDir: string;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const home = path.resolve(env.OPSGUARD_HOME ?? path.join(PROJECT_ROOT, '.opsguard'));
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.OPSGUARD_TASK_QUEUE ?? 'opsguard',
    artifactsDir: path.resolve(env.OPSGUARD_ARTIFACTS_DIR ?? path.join(home, 'artifacts')),
    workDir: path.resolve(env.OPSGUARD_WORK_DIR ?? path.join(home, 'work')),
    sandboxImage: env.OPSGUARD_SANDBOX_IMAGE ?? 'opsguard/sandbox-python:3.11',
    temporalBin: env.OPSGUARD_TEMPORAL_BIN ?? path.join(PROJECT_ROOT, '.tools', 'bin', 'temporal'),
    stateDir: path.resolve(env.OPSGUARD_STATE_DIR ?? path.join(PROJECT_ROOT, '.state')),
  };
}
