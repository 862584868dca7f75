import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { INCIDENT_LABEL } from '../../sandbox/labels';
import { settingsFromEnv } from '../../worker/settings';

/** The image tests run in: the one the set-up built, or OPSGUARD_SANDBOX_IMAGE. */
export function sandboxImage(): string {
  return settingsFromEnv().sandboxImage;
}

/**
 * A value unique to this test process, put on its containers as their incident label. Checks for
 * leftover containers look only at containers carrying it, so a busy worker on the same engine (or
 * another test file) never makes them fail.
 */
export const TEST_RUN_ID = `test-run-${randomUUID()}`;

/** This test process's containers still on the engine. */
export async function ownContainers(docker: Docker): Promise<Docker.ContainerInfo[]> {
  return await docker.listContainers({ all: true, filters: { label: [`${INCIDENT_LABEL}=${TEST_RUN_ID}`] } });
}
