/**
 * What a proposed fix may touch (pure path rules). A fix changes the repository's code, never the
 * things that judge it: tests, the reproduction, interpreter start-up hooks, VCS data or CI
 * configuration. Each refusal is specific, because it is shown to the model as feedback.
 */
import path from 'node:path';

import type { PatchPolicy } from '../workflows/incident-types';
import { globToRegExp } from '../workflows/repo-profile';
import { isSecretFile } from './repo-secrets';
import { parse as parseToml } from 'smol-toml';

export const DEFAULT_PATCH_POLICY: PatchPolicy = {
  allowTestChanges: false,
  allowBroadExcept: false,
  allowIntrospection: false,
};

const STARTUP_HOOKS = new Set(['sitecustomize.py', 'usercustomize.py']);
const CI_PATHS = [
  /^\.github\//,
  /^\.gitlab-ci\.yml$/,
  /^\.circleci\//,
  /^Jenkinsfile$/,
  /^\.travis\.yml$/,
  /^azure-pipelines\.yml$/,
  /^\.ci\//,
];
const TEST_RUNNER_CONFIG = new Set([
  'pytest.ini',
  '.pytest.ini',
  'pytest.toml',
  '.pytest.toml',
  'tox.ini',
  'conftest.py',
]);

/** Sorted-key JSON, so the same settings written in another order compare equal. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  ) ?? '';

/**
 * pytest's settings inside a project file, comparable: pyproject.toml's `[tool.pytest...]` tables,
 * setup.cfg's `[tool:pytest]` section (comments and blank lines aside); undefined for other files.
 * A file that does not parse is its text (any change to it then counts).
 */
export function pytestSettingsIn(rel: string, text: string | null): string | undefined {
  const base = rel.split('/').at(-1);
  if (base === 'pyproject.toml') {
    if (text === null) return canonical(null);
    try {
      const tool = (parseToml(text) as { tool?: { pytest?: unknown } }).tool;
      return canonical(tool?.pytest ?? null);
    } catch {
      return `unparsed:${text}`;
    }
  }
  if (base === 'setup.cfg') {
    if (text === null) return '';
    const out: string[] = [];
    let inside = false;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/^\s*[#;].*$/, '').trimEnd();
      const header = /^\[([^\]]+)\]/.exec(line);
      if (header) inside = header[1]?.trim().toLowerCase() === 'tool:pytest';
      else if (inside && line.trim()) out.push(line);
    }
    return out.join('\n');
  }
  return undefined;
}

/** A test by its name or folder: test_*.py, *_test.py, or anything under a tests/ or test/ folder. */
export function isTestPath(rel: string): boolean {
  const parts = rel.split('/');
  return (
    /^test_.*\.py$|_test\.py$/.test(parts.at(-1) ?? '') || parts.slice(0, -1).some((p) => p === 'tests' || p === 'test')
  );
}

/** Null when the path may be written, else why not. */
export function refusePath(rel: string, policy: PatchPolicy): string | null {
  if (rel.includes('\0')) return `${JSON.stringify(rel)}: the path contains a NUL byte`;
  if (rel.includes('\\')) return `${rel}: use forward slashes in paths`;
  if (path.posix.isAbsolute(rel) || /^[A-Za-z]:/.test(rel))
    return `${rel}: absolute paths are refused; give a path relative to the repository root`;
  const parts = rel.split('/');
  if (parts.some((p) => p === '..')) return `${rel}: '..' would leave the repository`;
  if (parts.some((p) => p === '' || p === '.')) return `${rel}: the path is not normalized (empty or '.' segment)`;
  if (parts.includes('.git')) return `${rel}: .git/ is version-control data, not code`;
  if (parts[0] === 'opsguard' || (parts.length === 1 && parts[0] === 'reproduction.py')) {
    return `${rel}: the reproduction and OpsGuard's runner are not part of the repository and cannot be patched`;
  }
  const base = parts.at(-1) ?? '';
  if (STARTUP_HOOKS.has(base) || base.endsWith('.pth'))
    return `${rel}: interpreter start-up hooks (sitecustomize, usercustomize, .pth) are refused`;
  if (CI_PATHS.some((re) => re.test(rel))) return `${rel}: CI configuration is refused`;
  if (isSecretFile(rel))
    return `${rel}: files that hold secrets (.env, keys, credentials) are not code and are refused`;
  const protectedBy = (policy.protectedPaths ?? []).find((glob) => globToRegExp(glob).test(rel));
  if (protectedBy) return `${rel}: the repository profile protects ${protectedBy}; a fix may not change it`;
  if (!policy.allowTestChanges) {
    if (TEST_RUNNER_CONFIG.has(base))
      return `${rel}: test-runner configuration (conftest.py, pytest.ini, pytest.toml, tox.ini) is refused; fix the code, not the tests`;
    if (isTestPath(rel)) {
      return `${rel}: test files are refused; fix the code, not the tests`;
    }
  }
  return null;
}

const BROAD_EXCEPT = /^\s*except\s*(?::|\(?\s*(?:Exception|BaseException)\b)/gm;
const BUILTINS_WRITE =
  /\b(?:builtins|__builtins__)\s*(?:\.\s*\w+\s*=(?!=)|\[[^\]]+\]\s*=(?!=))|\bsetattr\(\s*(?:builtins|__builtins__)\b|\b(?:builtins|__builtins__)\.__dict__/g;

/**
 * What a bug fix has no business adding: ways into the interpreter's frames, objects and memory, the
 * process's own files, tracing and audit hooks, pytest's internals, OpsGuard's runner. Clear-text
 * forms only: the guard's tripwire (sandbox/runner/opsguard_guard.py) catches the rest at run time.
 */
const INTROSPECTION =
  /\b_getframe\b|\bcurrentframe\b|\binspect\.(?:stack|trace|getouterframes|getinnerframes)\b|\.f_(?:back|globals|locals|code)\b|\btb_frame\b|\bgi_frame\b|\bgc\.get_(?:objects|referrers|referents)\b|\bctypes\b|\/proc\/|\bset(?:trace|profile)\b|\bgettrace\b|\baddaudithook\b|\bmeta_path\b|\b_pytest\b|\bpluggy\b|\bopsguard/gi;
/** An object equal to everything defeats every `assert result == expected` (ImpossibleBench's trick). */
const ALWAYS_EQUAL =
  /def\s+__eq__\s*\([^)]*\)\s*(?:->\s*\w+\s*)?:\s*(?:\n\s*)?return\s+True\b|__eq__\s*=\s*lambda[^:\n]*:\s*True\b|def\s+__ne__\s*\([^)]*\)\s*(?:->\s*\w+\s*)?:\s*(?:\n\s*)?return\s+False\b/g;

const count = (re: RegExp, text: string) => (text.match(re) ?? []).length;

/** Null when the change from `before` (null: a new file) to `after` may be written, else why not. */
export function refuseContent(rel: string, before: string | null, after: string, policy: PatchPolicy): string | null {
  if (after.includes('\0')) return `${rel}: binary content (NUL bytes) is refused`;
  const settingsBefore = pytestSettingsIn(rel, before);
  if (!policy.allowTestChanges && settingsBefore !== undefined && settingsBefore !== pytestSettingsIn(rel, after)) {
    return `${rel}: changes pytest's settings (${rel.endsWith('setup.cfg') ? '[tool:pytest]' : '[tool.pytest...]'}: which tests run and how); test-runner configuration is refused, the rest of the file may change`;
  }
  const old = before ?? '';
  if (!policy.allowBroadExcept && count(BROAD_EXCEPT, after) > count(BROAD_EXCEPT, old)) {
    return `${rel}: adds a broad exception handler (except:, except Exception, except BaseException), which would hide the incident's exception instead of fixing it; handle the specific case`;
  }
  if (count(BUILTINS_WRITE, after) > count(BUILTINS_WRITE, old)) {
    return `${rel}: modifies Python builtins (monkeypatching builtins changes every module's behaviour and is refused)`;
  }
  if (!policy.allowIntrospection && count(INTROSPECTION, after) > count(INTROSPECTION, old)) {
    const added = [...new Set((after.match(INTROSPECTION) ?? []).filter((m) => !old.includes(m)))].slice(0, 3);
    return `${rel}: reaches into the interpreter or the test harness (${added.join(', ') || 'frames, gc, ctypes, /proc, tracing, pytest internals'}); a bug fix changes what the code computes, not how it is observed`;
  }
  if (count(ALWAYS_EQUAL, after) > count(ALWAYS_EQUAL, old)) {
    return `${rel}: adds an __eq__ that is always true (or __ne__ always false), which makes every comparison in a check pass; return the right value instead`;
  }
  return null;
}
