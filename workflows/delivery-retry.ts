/**
 * Retrying a failed delivery: the `deliver` update (`opsguard deliver ID`, or
 * `temporal workflow update execute --name deliver`), accepted only while the incident is
 * delivery_failed; refused with the reason otherwise. Registered at workflow start, so an early or
 * late retry gets an answer too.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { DeliverArgs, RemediationResult } from './incident-types';
import { TAG } from './log-tags';
import { deliverUpdate } from './operator-api';

export interface DeliveryRetry {
  /** Wait for a retry request (true) or the window's end (false). */
  wait(timeout: Duration): Promise<boolean>;
}

export function registerDeliveryRetry(result: RemediationResult): DeliveryRetry {
  let requestedBy: string | null = null;
  setHandler(
    deliverUpdate,
    (args: DeliverArgs) => {
      requestedBy = args.by;
      log.info(`${TAG.delivery} retry requested by ${args.by}`, { incidentId: result.incidentId });
      return `delivery of ${result.incidentId} restarted by ${args.by}`;
    },
    {
      validator: (args: DeliverArgs) => {
        if (typeof args?.by !== 'string' || !args.by.trim()) throw new Error("'by' is required: who retries");
        if (result.status !== 'delivery_failed')
          throw new Error(
            `incident ${result.incidentId} is ${result.status}; only a failed delivery (delivery_failed) can be retried`,
          );
        if (requestedBy !== null) throw new Error(`a retry of ${result.incidentId}'s delivery is already under way`);
      },
    },
  );
  return {
    async wait(timeout) {
      // A request that landed while the failure was being recorded counts: never reset before waiting.
      const requested = await condition(() => requestedBy !== null, timeout);
      requestedBy = null;
      return requested;
    },
  };
}
