/**
 * pip's requirements-file format, read the way real repositories write it: UTF-8 or UTF-16 (with or
 * without a byte-order mark), `pip freeze` dumps with `-e git+...` lines and `pkg-resources==0.0.0`,
 * `-r` includes, continuation lines, per-line `--hash` options and index options. What cannot be
 * installed from the package index here (VCS, local paths, URLs) is dropped with a note, never silently.
 */

export interface RequirementLine {
  /** PEP 508 text as pip takes it (markers kept, options stripped). */
  requirement: string;
  /** Normalised distribution name (PEP 503). */
  name: string;
}

export interface RequirementsFile {
  requirements: RequirementLine[];
  /** Files this one includes with -r (relative to the repository root), to be read too. */
  includes: string[];
  /** Files this one names with -c (constraints). */
  constraintFiles: string[];
  notes: string[];
}

/** PEP 503: lower case, runs of -_. as one '-'. */
export const normaliseName = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

const NAME = /^([A-Za-z0-9][A-Za-z0-9._-]*)/;

/** The distribution name of a PEP 508 requirement, or null when it has none. */
export function requirementName(requirement: string): string | null {
  const m = NAME.exec(requirement.trim());
  return m?.[1] ? normaliseName(m[1]) : null;
}

/** Text of a requirements file whatever its encoding (UTF-16 LE/BE with or without BOM, UTF-8 BOM). */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  // UTF-16 without a BOM: every other byte of ASCII text is NUL.
  if (bytes.length >= 4 && bytes[1] === 0 && bytes[3] === 0 && bytes[0] !== 0) return bytes.toString('utf16le');
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[2] === 0 && bytes[1] !== 0)
    return Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)))
      .swap16()
      .toString('utf16le');
  return bytes.toString('utf8');
}

/** Known artefacts of `pip freeze` that are not packages one can install. */
const NOT_PACKAGES = new Set(['pkg-resources']);

/** Options that change where pip looks: the index is OpsGuard's setting, so they are dropped. */
const INDEX_OPTIONS =
  /^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--no-index|--pre|--prefer-binary|--only-binary|--no-binary|--use-feature|--require-hashes)\b/;

/**
 * Parse one requirements file. `file` is its repository-relative path (for notes and to resolve -r).
 */
export function parseRequirementsFile(file: string, bytes: Buffer): RequirementsFile {
  const out: RequirementsFile = { requirements: [], includes: [], constraintFiles: [], notes: [] };
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  const text = decodeText(bytes).replace(/\\\r?\n/g, ' ');
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const where = `${file}:${n + 1}`;
    const include = /^(?:-r|--requirement)\s*=?\s*(\S+)/.exec(line);
    if (include?.[1]) {
      out.includes.push(joinRelative(dir, include[1]));
      continue;
    }
    const constraint = /^(?:-c|--constraint)\s*=?\s*(\S+)/.exec(line);
    if (constraint?.[1]) {
      out.constraintFiles.push(joinRelative(dir, constraint[1]));
      continue;
    }
    if (/^(-e|--editable)\b/.test(line)) {
      const target = line.replace(/^(-e|--editable)\s*=?\s*/, '');
      if (target === '.' || target.startsWith('./') || target.startsWith('file:')) continue; // the project itself
      const egg = /#egg=([A-Za-z0-9._-]+)/.exec(raw)?.[1];
      out.notes.push(
        `${where}: ${egg ?? target} is an editable VCS or path requirement, which cannot be installed from the package index; skipped`,
      );
      continue;
    }
    if (INDEX_OPTIONS.test(line)) {
      out.notes.push(
        `${where}: '${line.split(/\s/)[0]}' ignored (OpsGuard's package index setting decides where packages come from)`,
      );
      continue;
    }
    if (line.startsWith('-')) {
      out.notes.push(`${where}: option '${line.split(/\s/)[0]}' ignored`);
      continue;
    }
    if (/^(git\+|hg\+|svn\+|bzr\+|https?:|file:|\.{0,2}\/)/.test(line) || /\s@\s*(git\+|https?:|file:)/.test(line)) {
      out.notes.push(`${where}: '${line.slice(0, 120)}' is a URL or path, not a package index requirement; skipped`);
      continue;
    }
    const requirement = line
      .replace(/\s--hash[=\s]\S+/g, '')
      .replace(/\s--\S+.*$/, '')
      .trim();
    const name = requirementName(requirement);
    if (!name) {
      out.notes.push(`${where}: '${line.slice(0, 120)}' is not a requirement; skipped`);
      continue;
    }
    if (NOT_PACKAGES.has(name)) {
      out.notes.push(`${where}: ${name} is an artefact of pip freeze on Debian/Ubuntu, not a package; skipped`);
      continue;
    }
    out.requirements.push({ requirement, name });
  }
  return out;
}

function joinRelative(dir: string, target: string): string {
  const parts = `${dir}${target}`.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out.join('/');
}
