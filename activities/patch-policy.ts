/**
 * What a proposed fix may touch (pure path rules). A fix changes the repository's code, never the
 * things that judge it: tests, the reproduction, interpreter start-up hooks, VCS data or CI
 * configuration. Each refusal is specific, because it is shown to the model as feedback.
 */
import path from 'node:path';

export interface PatchPolicy {
  /** Let the fix change test files and conftest.py (operator's explicit choice). */
  allowTestChanges: boolean;
}

export const DEFAULT_PATCH_POLICY: PatchPolicy = { allowTestChanges: false };

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
const TEST_RUNNER_CONFIG = new Set(['pytest.ini', 'tox.ini', 'conftest.py']);

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
  const base = parts.at(-1) ?? '';
  if (STARTUP_HOOKS.has(base) || base.endsWith('.pth'))
    return `${rel}: interpreter start-up hooks (sitecustomize, usercustomize, .pth) are refused`;
  if (CI_PATHS.some((re) => re.test(rel))) return `${rel}: CI configuration is refused`;
  if (!policy.allowTestChanges) {
    if (TEST_RUNNER_CONFIG.has(base))
      return `${rel}: test-runner configuration (conftest.py, pytest.ini, tox.ini) is refused; fix the code, not the tests`;
    if (/^test_.*\.py$|_test\.py$/.test(base) || parts.slice(0, -1).some((p) => p === 'tests' || p === 'test')) {
      return `${rel}: test files are refused; fix the code, not the tests`;
    }
  }
  return null;
}

/** Null when the content may be written, else why not. */
export function refuseContent(rel: string, content: string): string | null {
  if (content.includes('\0')) return `${rel}: binary content (NUL bytes) is refused`;
  return null;
}
