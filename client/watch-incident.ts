import { isVerified, isWaiting } from '../workflows/incident-types';
import type { IncidentReader } from './incident-reader';
import { readIncident } from './incident-state';
import type { IncidentView } from './incident-state';

/** True when nothing more happens without a person (or ever). */
export function isSettled(view: IncidentView): boolean {
  // An ended status while the workflow still runs is a moment (approved, on its way to delivery).
  return view.workflowStatus !== 'RUNNING' || isWaiting(view.status);
}

/** Print each new state transition until the incident ends or waits for a person. */
export async function watchIncident(
  reader: IncidentReader,
  id: string,
  print: (line: string) => void,
  pollMs = 1000,
): Promise<IncidentView> {
  let shown = 0;
  for (;;) {
    const view = await readIncident(reader, id);
    for (const t of view.transitions.slice(shown)) print(`[STATE] ${t.step}`);
    shown = Math.max(shown, view.transitions.length);
    if (isSettled(view)) return view;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Exit code for where an incident stands: 0 still running or verified (waiting or decided), 5 no verified fix. */
export function exitCodeFor(view: IncidentView): number {
  if (view.status === 'delivery_failed') return 7;
  return view.status === 'running' || isVerified(view.status) ? 0 : 5;
}
