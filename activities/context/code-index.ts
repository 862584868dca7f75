/**
 * The repository's code index: every source file's syntax (code-syntax.ts), cached on the worker so a
 * second incident on the same code parses nothing.
 *
 * The cache key is the analysed git commit (with the service's folder and its list of source files)
 * when the working tree was clean at setup, else the hash of every source file's content. On a miss,
 * files whose content is unchanged since this repository's last index are taken from it, so a new
 * commit re-parses only what it changed. The index holds names and short strings of the repository:
 * it stays in the worker's cache folder and never reaches the model as such (prompts are built from
 * redacted file text).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { boundedMap, FILE_CONCURRENCY } from '../bounded-map';
import { sha256, writeFileAtomic } from '../incident-paths';
import { isSecretFile } from '../repo-secrets';
import type { FileSyntax, LanguageSyntax } from './code-syntax';

/** Bump when FileSyntax or the parser's output changes: older caches are then ignored. */
const INDEX_FORMAT = 'code-index-v1';

/** A file bigger than this is data or generated code: listed, not parsed. */
const MAX_PARSED_BYTES = 2 * 1024 * 1024;

export interface IndexedFile {
  sha256: string;
  bytes: number;
  syntax: FileSyntax;
}

export interface CodeIndex {
  format: string;
  key: string;
  files: Record<string, IndexedFile>;
}

export interface IndexStats {
  key: string;
  files: number;
  /** Files parsed now (0 when the cache answered). */
  parsed: number;
  /** Files taken from this repository's previous index (unchanged content). */
  reused: number;
  /** Where the index came from. */
  source: 'cache' | 'built';
  ms: number;
}

export interface IndexRequest {
  /** The tree to index (an incident's baseline). */
  root: string;
  /** Its files (relative, '/'-separated), as setup listed them. */
  files: string[];
  /** The worker's cache folder (OPSGUARD_CACHE_DIR). */
  cacheDir: string;
  /** Stable name of the repository (its real path): where the previous index is found. */
  repository: string;
  /** The clean git commit analysed (and the service's folder in it), when there is one. */
  commit?: { commit: string; prefix: string } | null;
}

export function isIndexedSource(rel: string, language: LanguageSyntax): boolean {
  return language.extensions.some((e) => rel.endsWith(e)) && !isSecretFile(rel);
}

/** Load the index for this code from the cache, or build it (reusing unchanged files) and store it. */
export async function loadCodeIndex(
  req: IndexRequest,
  language: LanguageSyntax,
): Promise<{ index: CodeIndex; stats: IndexStats }> {
  const started = Date.now();
  const dir = path.join(req.cacheDir, 'code-index');
  const sources = req.files.filter((f) => isIndexedSource(f, language)).sort();
  const fileOf = (key: string) => path.join(dir, `${sha256(`${INDEX_FORMAT}\n${key}`).slice(0, 32)}.json`);
  const readIndex = async (file: string) => {
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (!text) return null;
    try {
      const index = JSON.parse(text) as CodeIndex;
      return index.format === INDEX_FORMAT ? index : null;
    } catch {
      return null; // a damaged cache file is rebuilt
    }
  };

  const commitKey = req.commit
    ? `commit ${req.commit.commit} ${req.commit.prefix} ${sha256(sources.join('\n'))}`
    : null;
  if (commitKey) {
    const cached = await readIndex(fileOf(commitKey));
    if (cached) return { index: cached, stats: statsOf(cached, 0, 0, 'cache', started) };
  }

  const contents = await boundedMap(sources, FILE_CONCURRENCY, async (rel) => {
    const bytes = await fs.readFile(path.join(req.root, rel)).catch(() => null);
    return { rel, bytes, sha: bytes ? sha256(bytes) : '' };
  });
  const readable = contents.filter((c) => c.bytes !== null);
  const contentKey = `content ${sha256(readable.map((c) => `${c.rel} ${c.sha}`).join('\n'))}`;
  const cached = await readIndex(fileOf(contentKey));
  if (cached) {
    if (commitKey) await writeFileAtomic(fileOf(commitKey), JSON.stringify({ ...cached, key: commitKey }));
    return { index: cached, stats: statsOf(cached, 0, 0, 'cache', started) };
  }

  const latestFile = path.join(dir, `latest-${sha256(req.repository).slice(0, 32)}.txt`);
  const latestKey = (await fs.readFile(latestFile, 'utf8').catch(() => '')).trim();
  const previous = latestKey ? await readIndex(path.join(dir, latestKey)) : null;
  const index: CodeIndex = { format: INDEX_FORMAT, key: commitKey ?? contentKey, files: {} };
  let parsed = 0;
  let reused = 0;
  for (const { rel, bytes, sha } of readable) {
    const before = previous?.files[rel];
    if (before && before.sha256 === sha) {
      index.files[rel] = before;
      reused++;
      continue;
    }
    const syntax =
      bytes!.length > MAX_PARSED_BYTES || bytes!.includes(0)
        ? { definitions: [], imports: [], lines: 0 }
        : language.parse(bytes!.toString('utf8'));
    index.files[rel] = { sha256: sha, bytes: bytes!.length, syntax };
    parsed++;
  }
  const text = JSON.stringify(index);
  const target = fileOf(index.key);
  await writeFileAtomic(target, text);
  if (commitKey) await writeFileAtomic(fileOf(contentKey), text);
  await writeFileAtomic(latestFile, path.basename(target));
  return { index, stats: statsOf(index, parsed, reused, 'built', started) };
}

function statsOf(
  index: CodeIndex,
  parsed: number,
  reused: number,
  source: IndexStats['source'],
  started: number,
): IndexStats {
  return { key: index.key, files: Object.keys(index.files).length, parsed, reused, source, ms: Date.now() - started };
}
