/**
 * The record of what the model was kept from: secret files withheld (their names listed), files left
 * out (unreadable), values redacted in what it was shown (counts per file and kind, never values).
 * Written by setup and the context engine (context/incident-context.ts); proof.json reports it.
 */
import fs from 'node:fs/promises';
import type { IncidentPaths } from './incident-paths';

/** What the model was not shown, or shown redacted (repository-redactions.json). */
export interface RepositoryRedactions {
  /** Files never sent because they exist to hold secrets (names only). */
  withheld: string[];
  /** Files sent with values replaced: file -> kind -> count. */
  redacted: Record<string, Record<string, number>>;
  /** Files left out for size or because they are binary or unreadable. */
  skipped: { file: string; why: string }[];
}

export async function readRepositoryRedactions(paths: IncidentPaths): Promise<RepositoryRedactions> {
  const text = await fs.readFile(paths.repoRedactions, 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as RepositoryRedactions) : { withheld: [], redacted: {}, skipped: [] };
}
