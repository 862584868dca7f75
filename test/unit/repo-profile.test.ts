/**
 * The repository profile (strict, errors naming the key as its writer spelled it), where it is read
 * from, how it merges under the input, the Python choice, src/ layouts and protected paths.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { refusePath } from '../../activities/patch-policy';
import { DEFAULT_PATCH_POLICY } from '../../activities/patch-policy';
import { pythonPathsFor, readRepositoryProfile } from '../../activities/prepare-environment';
import { choosePython, satisfies, tracebackPython } from '../../activities/python-choice';
import { withProfile } from '../../workflows/incident-run';
import { validateIncidentInput } from '../../workflows/incident-input';
import { globToRegExp, mergeProfiles, validateProfile } from '../../workflows/repo-profile';

function repo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-profile-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

test('a profile in [tool.opsguard] or .opsguard.toml is read, kebab-case keys and all', async () => {
  const a = await readRepositoryProfile(
    repo({
      'pyproject.toml':
        '[tool.opsguard]\npython = "3.9"\ntest-args = ["tests/unit", "-k", "not slow"]\nignore-packages = ["pywin32"]\n[tool.opsguard.limits]\nmemory-mb = 1024\n[tool.opsguard.env]\nDJANGO_SETTINGS_MODULE = "app.settings"\n',
    }),
  );
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.sources, ['pyproject.toml [tool.opsguard]']);
  assert.deepEqual(a.profile, {
    python: '3.9',
    testArgs: ['tests/unit', '-k', 'not slow'],
    ignorePackages: ['pywin32'],
    limits: { memoryMb: 1024 },
    env: { DJANGO_SETTINGS_MODULE: 'app.settings' },
  });
  const b = await readRepositoryProfile(
    repo({ '.opsguard.toml': 'image = "python:3.8-slim"\npackages = ["six==1.16.0"]\n' }),
  );
  assert.deepEqual(b.profile, { image: 'python:3.8-slim', packages: ['six==1.16.0'] });
});

test('profile errors name the key as written, and bad files say why', async () => {
  const bad = await readRepositoryProfile(
    repo({
      '.opsguard.toml':
        'pyhton = "3.9"\npython = "three"\nprotected-paths = ["../etc"]\n[env]\nOPENAI_API_KEY = "x"\nPYTHONPATH = "/x"\n[limits]\nmemory-mb = 999999\n',
    }),
  );
  const text = bad.problems.join('\n');
  assert.match(text, /\.opsguard\.toml: unknown key pyhton/);
  assert.match(text, /\.opsguard\.toml: python: a Python version such as "3\.11"/);
  assert.match(text, /protected-paths\.0: paths are relative/);
  assert.match(text, /env\.OPENAI_API_KEY: looks like a secret/);
  assert.match(text, /env\.PYTHONPATH: is set by OpsGuard itself/);
  assert.match(text, /limits\.memory-mb:/);
  const both = await readRepositoryProfile(repo({ '.opsguard.toml': '', 'pyproject.toml': '[tool.opsguard]\n' }));
  assert.match(both.problems.join('\n'), /two profiles/);
  const broken = await readRepositoryProfile(repo({ '.opsguard.toml': 'python = \n' }));
  assert.match(broken.problems.join('\n'), /^\.opsguard\.toml: not valid TOML/);
  // In the workflow input the keys are camelCase, and errors say so.
  const input = validateIncidentInput({ repoPath: '/r', errorLog: 'x', profile: { testargs: [] } });
  assert.equal(input.ok, false);
  assert.match(!input.ok ? input.problems.join('\n') : '', /profile\.testargs/);
  assert.equal(validateProfile({ testArgs: ['-x'] }, 'json', 'input').ok, true);
});

test('the input wins over the repository profile, key by key', () => {
  const merged = mergeProfiles(
    { python: '3.9', env: { A: '1', B: '2' }, limits: { memoryMb: 1024 } },
    { env: { B: '3' }, python: '3.13' },
  );
  assert.deepEqual(merged, { python: '3.13', env: { A: '1', B: '3' }, limits: { memoryMb: 1024 } });
  const input = withProfile(
    { repoPath: '/r', errorLog: 'x', knownFailingTests: ['t::a'], limits: { cpus: 2 } },
    {
      testCommand: ['make', 'test'],
      knownFailingTests: ['t::b'],
      limits: { memoryMb: 1024, prepareTimeoutSeconds: 60 },
      protectedPaths: ['vendor/**'],
    },
  );
  assert.deepEqual(input.testCommand, ['make', 'test']);
  assert.deepEqual(input.knownFailingTests, ['t::b', 't::a']);
  assert.deepEqual(input.limits, { memoryMb: 1024, cpus: 2 });
  assert.deepEqual(input.patchPolicy, { protectedPaths: ['vendor/**'] });
});

test('protected paths refuse a fix that touches them', () => {
  const policy = { ...DEFAULT_PATCH_POLICY, protectedPaths: ['src/app/migrations/**', 'vendor', '*.lock'] };
  assert.match(refusePath('src/app/migrations/0002_x.py', policy) ?? '', /protects src\/app\/migrations\/\*\*/);
  assert.match(refusePath('vendor/lib/x.py', policy) ?? '', /protects vendor/);
  assert.match(refusePath('poetry.lock', policy) ?? '', /protects \*\.lock/);
  assert.equal(refusePath('src/app/models.py', policy), null);
  assert.equal(globToRegExp('a/*.py').test('a/b/c.py'), false);
  assert.equal(globToRegExp('**/conf.py').test('x/y/conf.py'), true);
});

test('src/ layouts put src on sys.path; a src package or the profile does not', async () => {
  assert.deepEqual(await pythonPathsFor(repo({ 'src/ledger/__init__.py': '' }), {}), ['.', 'src']);
  assert.deepEqual(await pythonPathsFor(repo({ 'src/__init__.py': '', 'src/a.py': '' }), {}), ['.']);
  assert.deepEqual(await pythonPathsFor(repo({ 'app.py': '' }), {}), ['.']);
  assert.deepEqual(await pythonPathsFor(repo({ 'lib/x.py': '' }), { pythonPaths: ['lib'] }), ['.', 'lib']);
  // Where the packaging config says the code lives (an existing folder only).
  assert.deepEqual(await pythonPathsFor(repo({ 'lib/pkg/__init__.py': '' }), {}, ['lib', 'missing']), ['.', 'lib']);
});

test('the Python: input image, profile, traceback, declarations, default; the nearest when missing', () => {
  const available = new Map([
    ['3.9', 'py:3.9'],
    ['3.11', 'py:3.11'],
    ['3.13', 'py:3.13'],
  ]);
  const base = {
    errorLog: '',
    requiresPython: null,
    classifierPythons: [],
    available,
    defaultImage: 'py:3.11',
    defaultPython: '3.11',
  };
  assert.equal(choosePython({ ...base, inputImage: 'python:3.8-slim', profilePython: '3.9' }).image, 'python:3.8-slim');
  assert.equal(choosePython({ ...base, profilePython: '3.9' }).image, 'py:3.9');
  const tb = 'File "/srv/app/.venv/lib/python3.9/site-packages/x.py", line 1\nFile "/usr/lib/python3.9/re.py"';
  assert.equal(tracebackPython(tb), '3.9');
  assert.equal(choosePython({ ...base, errorLog: tb }).source, 'traceback');
  const near = choosePython({ ...base, errorLog: '/usr/local/lib/python3.12/json/x.py' });
  assert.equal(near.python, '3.13');
  assert.match(near.reason, /3\.12, which has no sandbox image here; the nearest, 3\.13/);
  // Code for 3.6-3.8 (classifiers) runs on the lowest Python at or above them: 3.9, not 3.13.
  assert.equal(choosePython({ ...base, classifierPythons: ['3.6', '3.7', '3.8'] }).python, '3.9');
  assert.equal(choosePython({ ...base, classifierPythons: ['3.9', '3.10', '3.11'] }).python, '3.11');
  assert.equal(choosePython({ ...base, requiresPython: '>=3.12' }).python, '3.13');
  assert.equal(choosePython({ ...base, requiresPython: '>=3.7' }).python, '3.11');
  assert.equal(choosePython(base).source, 'default');
  assert.equal(satisfies('3.11', '>=3.8,<3.12'), true);
  assert.equal(satisfies('3.13', '>=3.8,<3.12'), false);
  assert.equal(satisfies('3.9', '~=3.8'), true);
  assert.equal(satisfies('3.9', '==3.9.*'), true);
  assert.equal(satisfies('3.11', '!=3.11.*'), false);
});

test('the delivery table: remote, base branch, repository, draft, labels; credentials in a URL are refused', () => {
  const ok = validateProfile(
    {
      delivery: {
        remote: 'origin',
        'base-branch': 'release/2.x',
        repository: 'acme/orders',
        draft: true,
        labels: ['opsguard'],
      },
    },
    'toml',
    '.opsguard.toml',
  );
  assert.ok(ok.ok, ok.ok ? '' : ok.problems.join('; '));
  assert.deepEqual(ok.profile.delivery, {
    remote: 'origin',
    baseBranch: 'release/2.x',
    repository: 'acme/orders',
    draft: true,
    labels: ['opsguard'],
  });
  const bad = validateProfile(
    {
      delivery: {
        remote: 'https://x-access-token:ghp_abc@github.com/acme/orders.git',
        repository: 'orders',
        'base-branch': '--force',
      },
    },
    'toml',
    '.opsguard.toml',
  );
  assert.ok(!bad.ok);
  const problems = bad.problems.join('\n');
  assert.match(problems, /delivery\.remote: a remote name or URL without credentials/);
  assert.match(problems, /delivery\.repository: a GitHub repository as "owner\/name"/);
  assert.match(problems, /delivery\.base-branch: a branch name/);
  // The input's delivery table merges over the repository's, key by key.
  assert.deepEqual(
    mergeProfiles({ delivery: { remote: 'origin', draft: true } }, { delivery: { draft: false } }).delivery,
    {
      remote: 'origin',
      draft: false,
    },
  );
});
