import { proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities } from '../activities/ping';

const { ping } = proxyActivities<SmokeActivities>({ startToCloseTimeout: '10 seconds' });

/** Proves the chain client -> server -> worker -> activity -> back works. */
export async function smokeWorkflow(name: string): Promise<string> {
  return await ping(name);
}
