/**
 * The repository's files as the model sees them: secret files withheld (their names listed),
 * binary and oversized files left out, every other file redacted with the incident's secret map
 * (repo-secrets.ts). What was withheld or redacted is recorded for proof.json (names and counts,
 * never values).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { IncidentPaths } from './incident-paths';
import { writeFileAtomic } from './incident-paths';
import type { SourceFile } from './prompts';
import { isSecretFile, loadSecretMap, redact } from './repo-secrets';

const MAX_TOTAL_CHARS = 300_000;

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

/** The relevant files' contents from the baseline, safe to send, capped so a prompt stays a sane size. */
export async function readSourceFiles(
  paths: IncidentPaths,
  relPaths: string[],
  maxFileBytes: number,
): Promise<{ files: SourceFile[]; withheld: string[] }> {
  const map = await loadSecretMap(paths.secrets);
  const report = await readRepositoryRedactions(paths);
  const note = (list: string[], item: string) => list.includes(item) || list.push(item);
  for (const f of map.secretFiles) note(report.withheld, f);
  const out: SourceFile[] = [];
  let total = 0;
  for (const rel of relPaths) {
    if (isSecretFile(rel)) {
      note(report.withheld, rel);
      continue;
    }
    const bytes = await fs.readFile(path.join(paths.baseline, rel)).catch(() => null);
    const skip = (why: string) => report.skipped.some((s) => s.file === rel) || report.skipped.push({ file: rel, why });
    if (bytes === null) {
      skip('the worker cannot read it');
      continue;
    }
    if (bytes.includes(0)) {
      skip('binary');
      continue;
    }
    if (bytes.length > maxFileBytes || total + bytes.length > MAX_TOTAL_CHARS) {
      skip(`larger than the prompt allows (${bytes.length} bytes; OPSGUARD_PROMPT_FILE_KB)`);
      continue;
    }
    const redacted = redact(bytes.toString('utf8'), map);
    if (Object.keys(redacted.counts).length) report.redacted[rel] = redacted.counts;
    total += bytes.length;
    out.push({ path: rel, content: redacted.text });
  }
  await writeFileAtomic(paths.repoRedactions, JSON.stringify(report, null, 2));
  return { files: out, withheld: report.withheld };
}
