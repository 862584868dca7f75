/**
 * Secrets in the repository, kept from the model, the artifacts and Temporal's history.
 *
 * When the workspace is set up, every text file of the repository is scanned once for secret values
 * (private-key blocks, cloud keys and tokens, passwords in URLs, values assigned to key-, token-,
 * secret- and password-named variables, long high-entropy string literals). Each distinct value gets
 * a placeholder, `[REDACTED:<kind>#<n>]`, kept with its value in the incident's work folder
 * (secret-map.json, mode 0600: the worker's side, like the repository copy itself). From then on
 * every text leaving the worker towards the model, an artifact or history goes through `redact()`:
 * known values become their placeholders, and the log's patterns (redact-secrets.ts) catch the rest.
 * A fix keeps the placeholders it was shown; the patch engine writes the original values back.
 * Files that exist to hold secrets (.env, keys, credentials) are never sent: their names may be listed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { redactSecrets } from './redact-secrets';
import { boundedMap, FILE_CONCURRENCY } from './bounded-map';

/** Files whose whole purpose is a secret: never sent to the model, whatever they contain. */
const SECRET_FILE =
  /(^|\/)(\.env(\..*)?|.*\.(pem|key|p12|pfx|keystore|jks|kdbx)|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|\.netrc|\.pypirc|\.npmrc|\.pgpass|\.git-credentials|credentials(\.[a-z]+)?|kubeconfig|\.kube\/config|secrets?\.(ya?ml|json|toml))$/i;

export function isSecretFile(rel: string): boolean {
  return SECRET_FILE.test(rel);
}

export interface SecretValue {
  kind: string;
  value: string;
}

const NAME = /(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|credential|private[_-]?key|access[_-]?key|auth)/i;

/** The secret values in one text (repository forms). */
export function findSecretValues(text: string): SecretValue[] {
  const out: SecretValue[] = [];
  const add = (kind: string, value: string | undefined) => {
    if (
      value &&
      value.length >= 6 &&
      !/^\[REDACTED:/.test(value) &&
      !/^(x+|\*+|changeme|example|placeholder|none|null|true|false)$/i.test(value)
    )
      out.push({ kind, value });
  };
  for (const m of text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g))
    add('private_key', m[0]);
  for (const m of text.matchAll(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g)) add('aws_access_key_id', m[0]);
  for (const m of text.matchAll(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b/g))
    add('github_token', m[0]);
  for (const m of text.matchAll(
    /\b(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b/g,
  ))
    add('api_key', m[0]);
  // user:password@ in any URL (database, broker, cache connection strings).
  if (text.includes('://'))
    for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:([^\s@/'"]+)@/gi)) add('url_password', m[1]);
  // NAME = "value", NAME: value, NAME=value (Python, YAML, INI, TOML, .env), the name saying it is a secret.
  // A name is part of the text: with no secret-like word anywhere in it, no assignment can match, and
  // this, the slowest of the patterns, is skipped (most files of a big repository).
  for (const m of !NAME.test(text)
    ? []
    : text.matchAll(/([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:)\s*(?:[rbu]?["']([^"'\n]{6,})["']|([^\s"'#,;]{6,}))/g)) {
    const name = m[1] ?? '';
    if (!NAME.test(name) || /^(def|class|import|from)$/.test(name)) continue;
    const value = m[2] ?? m[3];
    if (value && looksLikeSecretValue(value)) add('secret_assignment', value);
  }
  // Long high-entropy string literals (tokens assigned to innocent names).
  for (const m of text.matchAll(/["']([A-Za-z0-9+/_=-]{32,})["']/g)) {
    const v = m[1] ?? '';
    if (entropy(v) > 4.2 && /\d/.test(v) && /[a-z]/.test(v) && /[A-Z]/.test(v)) add('high_entropy', v);
  }
  return out;
}

/**
 * A value assigned to a secret-named variable that is a secret, not code or a word: not an
 * identifier, call or subscript (`os.environ["X"]`, `get_password()`), not a path or plain URL, no
 * spaces, and either long or mixing letters with digits or symbols. Exact values are replaced
 * everywhere later, so a word like "password" must never become one.
 */
function looksLikeSecretValue(v: string): boolean {
  if (/\s/.test(v) || /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$|^[A-Za-z_][\w.]*[([]/.test(v)) return false; // code
  if (/^[A-Za-z_]+$/.test(v)) return false; // a word
  if (/^[./~]|^https?:\/\/[^@]*$|^\$\{?\w+\}?$|^%\(/.test(v)) return false; // paths, plain URLs, ${VAR}, %(var)s
  if (v.length >= 20) return true;
  return v.length >= 8 && /[A-Za-z]/.test(v) && /[^A-Za-z]/.test(v);
}

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/** Placeholder -> value, for one incident. */
export interface SecretMap {
  entries: { placeholder: string; value: string; kind: string; files: string[] }[];
  /** Files never sent (their names only). */
  secretFiles: string[];
}

/** The files the secret scan reads (and so the only ones served to the model whole). */
const TEXT_FILE =
  /\.(py|pyi|cfg|ini|toml|ya?ml|json|txt|env|conf|properties|sh|md|rst)$|(^|\/)(\.env[^/]*|Dockerfile|Makefile)$/i;
export const MAX_SCAN_BYTES = 1024 * 1024;

export function isScannedTextFile(rel: string): boolean {
  return TEXT_FILE.test(rel);
}

/** The files of a tree the secret scan reads, in the order placeholders are numbered. */
export function scanCandidates(files: string[]): string[] {
  return [...files].sort().filter((rel) => TEXT_FILE.test(rel) || isSecretFile(rel));
}

/** The secret values of one candidate file's text (null: unreadable, too big or binary: none). */
export function secretsOfFile(text: string | null, size: number): SecretValue[] {
  if (text === null || size > MAX_SCAN_BYTES || text.includes('\0')) return [];
  return findSecretValues(text);
}

/** Scan a repository (relative file paths under root) and build the incident's secret map. */
export async function scanRepository(root: string, files: string[]): Promise<SecretMap> {
  const candidates = scanCandidates(files);
  // Read FILE_CONCURRENCY files at a time; placeholders are numbered in path order all the same.
  const found = await boundedMap(candidates, FILE_CONCURRENCY, async (rel) => {
    const stat = await fs.lstat(path.join(root, rel)).catch(() => null);
    if (!stat?.isFile() || stat.size > MAX_SCAN_BYTES) return [];
    const text = await fs.readFile(path.join(root, rel), 'utf8').catch(() => null);
    return secretsOfFile(text, stat.size);
  });
  return secretMapOf(files, new Map(candidates.map((rel, i) => [rel, found[i] ?? []])));
}

/**
 * The secret map of a tree from what each candidate file holds (`found`, by relative path; a file
 * not in it holds none): one placeholder per distinct value, numbered in path order.
 */
export function secretMapOf(files: string[], found: Map<string, SecretValue[]>): SecretMap {
  const map: SecretMap = { entries: [], secretFiles: files.filter(isSecretFile).sort() };
  const byValue = new Map<string, SecretMap['entries'][number]>();
  for (const rel of scanCandidates(files)) {
    for (const s of found.get(rel) ?? []) {
      const known = byValue.get(s.value);
      if (known) {
        if (!known.files.includes(rel)) known.files.push(rel);
        continue;
      }
      const entry = {
        placeholder: `[REDACTED:${s.kind}#${byValue.size + 1}]`,
        value: s.value,
        kind: s.kind,
        files: [rel],
      };
      byValue.set(s.value, entry);
      map.entries.push(entry);
    }
  }
  // Longest values first, so a value containing another is replaced whole.
  map.entries.sort((a, b) => b.value.length - a.value.length);
  return map;
}

export async function saveSecretMap(file: string, map: SecretMap): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, JSON.stringify(map), { mode: 0o600 });
  await fs.rename(tmp, file);
}

export async function loadSecretMap(file: string): Promise<SecretMap> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as SecretMap) : { entries: [], secretFiles: [] };
}

export interface Redacted {
  text: string;
  /** kind -> how many values were replaced. */
  counts: Record<string, number>;
}

/** Every known value replaced by its placeholder, then the log's patterns for anything else. */
export function redact(text: string, map: SecretMap): Redacted {
  const counts: Record<string, number> = {};
  let out = text;
  for (const e of map.entries) {
    if (!out.includes(e.value)) continue;
    const parts = out.split(e.value);
    counts[e.kind] = (counts[e.kind] ?? 0) + parts.length - 1;
    out = parts.join(e.placeholder);
  }
  const generic = redactSecrets(out);
  for (const r of generic.redactions) counts[r.kind] = (counts[r.kind] ?? 0) + r.count;
  return { text: generic.text, counts };
}

/** A redactor bound to one incident's map (for output, tails, messages). */
export function redactor(map: SecretMap): (text: string) => string {
  return (text) =>
    map.entries.length || /[=:]|BEGIN|Bearer|sk-|AKIA|gh[pousr]_/.test(text) ? redact(text, map).text : text;
}

const PLACEHOLDER = /\[REDACTED:[a-z_]+(?:#\d+)?\]/g;

/**
 * A proposed file with the placeholders it was shown turned back into the values. Placeholders
 * OpsGuard did not issue (or the log's anonymous ones) cannot be restored: the fix is refused.
 */
export function restorePlaceholders(
  content: string,
  map: SecretMap,
): { ok: true; content: string; restored: number } | { ok: false; placeholders: string[] } {
  let restored = 0;
  const byPlaceholder = new Map(map.entries.map((e) => [e.placeholder, e.value]));
  const unknown = new Set<string>();
  const out = content.replace(PLACEHOLDER, (p) => {
    const value = byPlaceholder.get(p);
    if (value === undefined) {
      unknown.add(p);
      return p;
    }
    restored++;
    return value;
  });
  return unknown.size ? { ok: false, placeholders: [...unknown] } : { ok: true, content: out, restored };
}
