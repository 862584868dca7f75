import fs from 'node:fs/promises';
import path from 'node:path';
import type { SourceFile } from './prompts';

const MAX_FILE_CHARS = 100_000;
const MAX_TOTAL_CHARS = 300_000;

/** The relevant files' contents from the baseline, capped so a prompt stays a sane size. */
export async function readSourceFiles(baseline: string, relPaths: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  let total = 0;
  for (const rel of relPaths) {
    const content = await fs.readFile(path.join(baseline, rel), 'utf8').catch(() => null);
    if (content === null || content.length > MAX_FILE_CHARS || total + content.length > MAX_TOTAL_CHARS) continue;
    total += content.length;
    out.push({ path: rel, content });
  }
  return out;
}
