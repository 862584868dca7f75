/**
 * Past incidents, with no database of OpsGuard's own: Temporal's visibility already indexes every
 * incident by the search attributes the workflow sets (OpsGuardFingerprint, OpsGuardErrorType,
 * OpsGuardRepo, OpsGuardStatus), and each incident's verified patch and PR description are in its
 * artifact folder. For the incident at hand this finds earlier ones with the same fingerprint, or
 * the same error type raised in the same file of the same repository, that ended with a verified
 * fix, and reads what fixed them: the model is told "seen before in incident X on DATE, fixed by …"
 * and the PR description cites it.
 *
 * Only incidents whose fix OpsGuard verified are cited; a person's decision on it is given beside
 * it (a rejected fix is worth knowing too). An incident whose artifacts are on another worker's
 * disk is cited without its patch.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { incidentIdOf } from '../../workflows/incident-input';
import { isVerified } from '../../workflows/incident-types';
import {
  OPSGUARD_ERROR_TYPE,
  OPSGUARD_FINGERPRINT,
  OPSGUARD_REPO,
  OPSGUARD_STATUS,
} from '../../workflows/search-attributes';

export interface PastIncident {
  incidentId: string;
  workflowId: string;
  /** When it started (ISO 8601). */
  startedAt: string;
  status: string;
  /** Why it is cited: the same fingerprint, or the same error type in the same file. */
  match: 'fingerprint' | 'error type and file';
  /** The PR description's title, when its artifacts are here. */
  title: string | null;
  /** Its verified patch (as written in its artifacts: secrets already placeholders), or null. */
  patch: string | null;
  /** Why the patch is missing, when it is. */
  note?: string;
}

export interface PastIncidentLookup {
  /** A client of the namespace the incidents run in (built on first use). */
  client: () => Promise<Client>;
  /** Where incidents' artifact folders are (this worker's OPSGUARD_ARTIFACTS_DIR). */
  artifactsDir: string;
}

/** The incident asking: its own execution (to be left out) and where its error was raised. */
export interface CurrentIncident {
  workflowId: string;
  runId: string;
  /** The repository-relative file of the innermost repository frame. */
  file: string | null;
}

export interface PastIncidentsFound {
  found: PastIncident[];
  /** The visibility queries run (for the proof). */
  queries: string[];
  /** Set when visibility could not be asked (the incident goes on without past incidents). */
  error?: string;
}

const MAX_CITED = 3;
const MAX_SCANNED = 20;

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export async function findPastIncidents(
  lookup: PastIncidentLookup,
  current: CurrentIncident,
): Promise<PastIncidentsFound> {
  const queries: string[] = [];
  try {
    const client = await lookup.client();
    // The values this incident's workflow set, read back: exactly what earlier incidents were indexed by.
    const own = await client.workflow.getHandle(current.workflowId, current.runId).describe();
    const fingerprint = own.typedSearchAttributes.get(OPSGUARD_FINGERPRINT);
    const errorType = own.typedSearchAttributes.get(OPSGUARD_ERROR_TYPE);
    const repo = own.typedSearchAttributes.get(OPSGUARD_REPO);
    if (!fingerprint) return { found: [], queries, error: 'this incident has no fingerprint yet' };
    const base = `WorkflowType = 'remediateIncident' AND RunId != ${quote(current.runId)}`;
    const found: PastIncident[] = [];
    const seen = new Set<string>();
    const search = async (query: string, match: PastIncident['match']) => {
      queries.push(query);
      let scanned = 0;
      for await (const wf of client.workflow.list({ query, pageSize: MAX_SCANNED })) {
        if (found.length >= MAX_CITED || ++scanned > MAX_SCANNED) break;
        const status = wf.typedSearchAttributes.get(OPSGUARD_STATUS) ?? '';
        if (seen.has(wf.runId) || !isVerified(status)) continue;
        seen.add(wf.runId);
        // Only the start event (its input names the incident), not the whole history: one event, not
        // a hundred decoded, for each incident looked at.
        const firstPage = await client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId: wf.workflowId, runId: wf.runId },
          maximumPageSize: 1,
        });
        const payload = firstPage.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        const input: unknown = payload ? defaultPayloadConverter.fromPayload(payload) : null;
        const given = (input as { incidentId?: unknown } | null)?.incidentId;
        const incidentId = incidentIdOf(typeof given === 'string' ? { incidentId: given } : {}, wf.workflowId);
        const past = await readArtifacts(lookup.artifactsDir, incidentId);
        // The same error type in another fingerprint counts only when it was raised in the same file.
        if (match === 'error type and file' && (!current.file || past.file !== current.file)) continue;
        found.push({
          incidentId,
          workflowId: wf.workflowId,
          startedAt: wf.startTime.toISOString(),
          status,
          match,
          title: past.title,
          patch: past.patch,
          ...(past.note ? { note: past.note } : {}),
        });
      }
    };
    await search(`${base} AND OpsGuardFingerprint = ${quote(fingerprint)}`, 'fingerprint');
    if (found.length < MAX_CITED && errorType && repo)
      await search(
        `${base} AND OpsGuardErrorType = ${quote(errorType)} AND OpsGuardRepo = ${quote(repo)} AND OpsGuardFingerprint != ${quote(fingerprint)}`,
        'error type and file',
      );
    return { found, queries };
  } catch (err) {
    return { found: [], queries, error: (err as Error).message.split('\n')[0]?.slice(0, 300) ?? 'unknown' };
  }
}

/** What an earlier incident's artifact folder says: its title, its patch, the file its error was raised in. */
async function readArtifacts(
  artifactsDir: string,
  incidentId: string,
): Promise<{ title: string | null; patch: string | null; file: string | null; note?: string }> {
  const dir = path.join(artifactsDir, incidentId);
  const read = (name: string) => fs.readFile(path.join(dir, name), 'utf8').catch(() => null);
  const [patch, pr, proofText] = await Promise.all([read('patch.diff'), read('PR_DESCRIPTION.md'), read('proof.json')]);
  const file = ((): string | null => {
    try {
      const proof = proofText ? (JSON.parse(proofText) as { classification?: { location?: { file?: string } } }) : null;
      return proof?.classification?.location?.file ?? null;
    } catch {
      return null; // a proof being rewritten: matched by fingerprint only
    }
  })();
  const title = pr?.split('\n')[0]?.replace(/^#\s*/, '').trim() || null;
  return {
    title,
    patch,
    file,
    ...(patch === null ? { note: 'its artifacts are not on this worker' } : {}),
  };
}

/**
 * The prompt's "Seen before" section within `budgetTokens`: each incident's line, and its patch while
 * it fits (cut at a line, the cut said). Empty when nothing was found.
 */
export function renderPastIncidents(
  found: PastIncident[],
  budgetTokens: number,
  clean: (text: string) => string,
  count: (text: string) => number,
): { text: string; tokens: number } {
  if (!found.length) return { text: '', tokens: 0 };
  const header =
    "## Seen before\nEarlier incidents like this one, each fixed and verified by OpsGuard (a hint, not proof: this incident's reproduction decides):";
  const parts: string[] = [];
  let used = count(header) + 1;
  for (const p of found) {
    const how = p.match === 'fingerprint' ? 'the same fingerprint' : 'the same error type in the same file';
    const line = `- Incident \`${p.incidentId}\` on ${p.startedAt.slice(0, 10)} (${how}; ${p.status.replace(/_/g, ' ')})${p.title ? `, fixed by "${clean(p.title)}"` : ''}${p.note ? ` (${p.note})` : ''}.`;
    const lineTokens = count(line);
    if (used + lineTokens > budgetTokens) break;
    parts.push(line);
    used += lineTokens;
    if (!p.patch) continue;
    const lines = clean(p.patch).replace(/\n$/, '').split('\n');
    const block = (n: number) =>
      `  Its verified patch${n < lines.length ? ` (first ${n} of ${lines.length} lines)` : ''}:\n\`\`\`diff\n${lines.slice(0, n).join('\n').replace(/```/g, '` ` `')}\n\`\`\``;
    let n = lines.length;
    while (n > 0 && used + count(block(n)) > budgetTokens) n = Math.floor(n / 2);
    if (n === 0) continue;
    const shown = block(n);
    parts.push(shown);
    used += count(shown);
  }
  if (!parts.length) return { text: '', tokens: 0 };
  const text = `${header}\n${parts.join('\n')}`;
  return { text, tokens: count(text) };
}
