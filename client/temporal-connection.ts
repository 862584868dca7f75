import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { Settings } from '../worker/settings';
import type { remediateIncident } from '../workflows/remediate-incident';
import { UserError } from './user-error';

/**
 * A client for the configured Temporal (TEMPORAL_ADDRESS, TLS or API key, profile), or a UserError
 * (exit 3) a person can act on.
 */
export async function connectClient(settings: Settings): Promise<{ client: Client; close: () => Promise<void> }> {
  const { address, namespace, secure } = settings.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.temporal.connectionOptions, connectTimeout: 3000 });
    await connection.healthService.check({});
  } catch (err) {
    const detail = (err as Error).message.split('\n')[0]?.slice(0, 200);
    throw new UserError(
      secure
        ? `Temporal at ${address} refused or did not answer the TLS connection (${detail}). Check TEMPORAL_TLS_* / TEMPORAL_API_KEY or the profile in TEMPORAL_CONFIG_FILE.`
        : `Temporal is not reachable at ${address}. Start it with 'npx opsguard dev' (local), or set TEMPORAL_ADDRESS.`,
      3,
    );
  }
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

/** The incident's workflow handle, or a UserError (exit 4) when no such incident exists. */
export async function incidentHandle(client: Client, id: string): Promise<WorkflowHandle<typeof remediateIncident>> {
  const handle = client.workflow.getHandle<typeof remediateIncident>(id);
  try {
    const d = await handle.describe();
    if (d.type !== 'remediateIncident')
      throw new UserError(`Workflow ${id} is a ${d.type}, not an OpsGuard incident.`, 4);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new UserError(`Unknown incident '${id}' (no such workflow in namespace ${client.options.namespace}).`, 4);
    throw err;
  }
  return handle;
}
