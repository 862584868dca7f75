/**
 * Every dependency declaration form, including the awkward ones real repositories have: UTF-16
 * requirement files with and without a BOM, pip freeze dumps with `-e git+` lines and
 * `pkg-resources==0.0.0`, `-r` includes, hashes and index options, Poetry's caret constraints,
 * setup.cfg, Pipfile(.lock), uv.lock pins, tox deps, plugins the tests visibly use, and files that
 * cannot be parsed (a clear problem with the file's name, never a crash).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readDeclarations } from '../../activities/dependency-declarations';
import { poetryConstraint } from '../../activities/dependency-declarations';
import { decodeText, parseRequirementsFile } from '../../activities/requirements-file';

function repo(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-decl-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}
const reqs = (list: { requirement: string }[]) => list.map((r) => r.requirement);

test('requirements.txt in UTF-16 (with and without BOM) and UTF-8 with BOM decode alike', () => {
  const text = 'six==1.16.0\r\nrequests>=2\r\n';
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
  const noBom = Buffer.from(text, 'utf16le');
  const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  for (const bytes of [le, be, noBom, utf8Bom]) assert.equal(decodeText(bytes), text);
  assert.deepEqual(reqs(parseRequirementsFile('requirements.txt', le).requirements), ['six==1.16.0', 'requests>=2']);
});

test('a pip freeze dump: editable VCS lines, pkg-resources, hashes, options and includes', () => {
  const parsed = parseRequirementsFile(
    'requirements/prod.txt',
    Buffer.from(
      [
        '# generated',
        '-i https://pypi.internal/simple',
        '--extra-index-url https://other/simple',
        '-e git+https://git.example/x/tools.git@abc#egg=internal_tools',
        '-e .',
        'pkg-resources==0.0.0',
        'Django==3.2.25 \\',
        '    --hash=sha256:aaaa --hash=sha256:bbbb',
        'colorama==0.4.6 ; sys_platform == "win32"',
        'requests[socks]>=2.31  # pinned for CVE',
        'https://files.example/pkg-1.0.tar.gz',
        'mylib @ git+https://git.example/mylib.git',
        '-r ../base.txt',
        '-c constraints.txt',
        '',
      ].join('\n'),
    ),
  );
  assert.deepEqual(reqs(parsed.requirements), [
    'Django==3.2.25',
    'colorama==0.4.6 ; sys_platform == "win32"',
    'requests[socks]>=2.31',
  ]);
  assert.deepEqual(parsed.includes, ['base.txt']);
  assert.deepEqual(parsed.constraintFiles, ['requirements/constraints.txt']);
  const notes = parsed.notes.join('\n');
  assert.match(notes, /internal_tools is an editable VCS or path requirement/);
  assert.match(notes, /pkg-resources is an artefact of pip freeze/);
  assert.match(notes, /'-i' ignored/);
  assert.match(notes, /files\.example.*URL or path/);
  assert.match(notes, /mylib @ git\+.*URL or path/);
});

test('pyproject.toml: PEP 621 dependencies, test extras, PEP 735 groups; the project itself and pytest are left out', async () => {
  const dir = repo({
    'pyproject.toml': `
[project]
name = "My_Service"
requires-python = ">=3.8"
classifiers = ["Programming Language :: Python :: 3.8", "Programming Language :: Python :: 3.9"]
dependencies = ["attrs>=22", "my-service[extra]"]
[project.optional-dependencies]
test = ["pytest>=7", "pytest-mock"]
docs = ["sphinx"]
[dependency-groups]
dev = ["freezegun", {include-group = "lint"}]
lint = ["ruff"]
`,
  });
  const d = await readDeclarations(dir);
  assert.deepEqual(reqs(d.runtime), ['attrs>=22']);
  assert.deepEqual(reqs(d.test), ['pytest-mock', 'freezegun', 'ruff']);
  assert.equal(d.projectName, 'my-service');
  assert.equal(d.requiresPython, '>=3.8');
  assert.deepEqual(d.classifierPythons, ['3.8', '3.9']);
  assert.match(d.notes.join('\n'), /extra 'docs' not installed/);
  assert.match(d.notes.join('\n'), /the sandbox's own pytest is used/);
  assert.deepEqual(d.problems, []);
});

test('Poetry: caret and tilde constraints become PEP 440; dev groups are test; git and optional ones are notes', async () => {
  assert.equal(poetryConstraint('^1.2.3'), '>=1.2.3,<2');
  assert.equal(poetryConstraint('^0.2.3'), '>=0.2.3,<0.3');
  assert.equal(poetryConstraint('~1.2'), '>=1.2,<1.3');
  assert.equal(poetryConstraint('1.4'), '==1.4');
  assert.equal(poetryConstraint('*'), '');
  assert.equal(poetryConstraint('>=2.0, <3'), '>=2.0,<3');
  const dir = repo({
    'pyproject.toml': `
[tool.poetry]
name = "svc"
[tool.poetry.dependencies]
python = "^3.9"
requests = "^2.28"
click = { version = "~8.1", extras = ["x"] }
internal = { git = "https://git.example/internal.git" }
uvloop = { version = "*", optional = true }
[tool.poetry.group.dev.dependencies]
pytest-mock = "^3.10"
`,
  });
  const d = await readDeclarations(dir);
  assert.deepEqual(reqs(d.runtime), ['requests>=2.28,<3', 'click[x]>=8.1,<8.2']);
  assert.deepEqual(reqs(d.test), ['pytest-mock>=3.10,<4']);
  assert.equal(d.requiresPython, '>=3.9,<4');
  assert.match(d.notes.join('\n'), /internal comes from git/);
  assert.match(d.notes.join('\n'), /uvloop is optional/);
});

test('setup.cfg install_requires, extras and tests_require; setup.py is left to the container (metadata only here)', async () => {
  const dir = repo({
    'setup.cfg': `[metadata]
name = legacy-app
classifiers =
    Programming Language :: Python :: 3.7
[options]
python_requires = >=3.6
install_requires =
    six>=1.10
    appdirs  # user dirs
tests_require = nose
[options.extras_require]
testing =
    mock
`,
    'setup.py':
      "from setuptools import setup\nsetup(python_requires='>=3.6', classifiers=['Programming Language :: Python :: 3.6'])\n",
  });
  const d = await readDeclarations(dir);
  assert.deepEqual(reqs(d.runtime), ['six>=1.10', 'appdirs']);
  assert.deepEqual(reqs(d.test), ['nose', 'mock']);
  assert.equal(d.setupPy, 'setup.py');
  assert.equal(d.requiresPython, '>=3.6');
  assert.deepEqual(d.classifierPythons, ['3.7', '3.6']);
});

test('Pipfile.lock default/develop, uv.lock pins as constraints, tox deps, dev requirement files and -r chains', async () => {
  const dir = repo({
    'Pipfile.lock': JSON.stringify({
      default: { requests: { version: '==2.31.0', markers: "python_version >= '3.7'" }, tools: { git: 'x' } },
      develop: { 'pytest-cov': { version: '==4.1.0' } },
    }),
    'uv.lock': `
version = 1
[[package]]
name = "svc"
version = "0.1.0"
source = { editable = "." }
[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
`,
    'tox.ini':
      '[tox]\nenvlist = py39\n[testenv]\ndeps =\n    responses\n    py38: oldthing\n    -rrequirements-dev.txt\ncommands = pytest\n',
    'requirements-dev.txt': '-r requirements/common.txt\nhypothesis\n',
    'requirements/common.txt': 'attrs\n',
    'requirements/docs.txt': 'sphinx\n',
  });
  const d = await readDeclarations(dir);
  // requirements/common.txt is a runtime file of its own; the dev file's -r does not read it twice.
  assert.deepEqual(reqs(d.runtime).sort(), ["requests==2.31.0 ; python_version >= '3.7'", 'attrs'].sort());
  assert.deepEqual(reqs(d.test).sort(), ['hypothesis', 'pytest-cov==4.1.0', 'responses']);
  assert.deepEqual(d.constraints, ['idna==3.7'], 'the project itself and pytest are not pinned by the lock');
  assert.match(d.notes.join('\n'), /requirements\/docs\.txt: documentation/);
  assert.match(d.notes.join('\n'), /tools comes from git/);
});

test('plugins the tests use but nobody declared are inferred: mocker, mock, nose', async () => {
  const dir = repo({
    'requirements.txt': 'six\n',
    'tests/test_a.py': 'def test_x(mocker):\n    mocker.patch("os.getcwd")\n',
    'tests/test_b.py': 'import mock\nfrom nose.tools import eq_\n',
    '.venv/lib/python3.11/site-packages/x/test_c.py': 'import hypothesis\n',
  });
  const d = await readDeclarations(dir);
  assert.deepEqual(reqs(d.test).sort(), ['mock', 'nose', 'pytest-mock']);
  assert.ok(d.test.every((r) => r.from.startsWith('inferred from tests: tests/')));
});

test('files that cannot be parsed are problems naming the file, not crashes', async () => {
  const dir = repo({ 'pyproject.toml': '[project\nname = "x"\n', 'Pipfile.lock': '{"default": ' });
  const d = await readDeclarations(dir);
  assert.equal(d.problems.length, 2, d.problems.join('\n'));
  assert.match(d.problems[0] ?? '', /^pyproject\.toml: not valid TOML/);
  assert.match(d.problems[1] ?? '', /^Pipfile\.lock: not valid JSON/);
});

test('a repository with no declarations, and symlinked declaration files, are read safely', async () => {
  const dir = repo({ 'main.py': 'print(1)\n' });
  fs.symlinkSync('/etc/passwd', path.join(dir, 'requirements.txt'));
  fs.symlinkSync('missing.toml', path.join(dir, 'pyproject.toml'));
  const d = await readDeclarations(dir);
  assert.deepEqual([d.runtime, d.test, d.files, d.problems], [[], [], [], []]);
});

test('where the code lives: package_dir, packages.find, Poetry from, hatch packages', async () => {
  const cases: [Record<string, string>, string[]][] = [
    [
      {
        'setup.py':
          "from setuptools import setup, find_packages\nsetup(package_dir={'': 'lib'}, packages=find_packages('lib'))\n",
      },
      ['lib'],
    ],
    [{ 'setup.cfg': '[options]\npackage_dir =\n    =source\n[options.packages.find]\nwhere = source\n' }, ['source']],
    [{ 'pyproject.toml': '[tool.setuptools.packages.find]\nwhere = ["python"]\n' }, ['python']],
    [{ 'pyproject.toml': '[tool.poetry]\nname = "x"\npackages = [{ include = "x", from = "pkgs" }]\n' }, ['pkgs']],
    [{ 'pyproject.toml': '[tool.hatch.build.targets.wheel]\npackages = ["code/x"]\n' }, ['code']],
    [{ 'setup.py': "setup(package_dir={'': '../outside'})\n" }, []],
  ];
  for (const [files, roots] of cases)
    assert.deepEqual((await readDeclarations(repo(files))).packageRoots, roots, JSON.stringify(files));
});

test("plugins pytest's own configuration needs are inferred: --cov, asyncio_mode, django, timeout", async () => {
  const ini = await readDeclarations(
    repo({
      'pytest.ini': '[pytest]\naddopts = -ra --cov=app --cov-report=term\ntimeout = 30\n',
      'setup.cfg': '[metadata]\nname = x\n',
    }),
  );
  assert.deepEqual(reqs(ini.test), ['pytest-cov', 'pytest-timeout']);
  assert.match(ini.test[0]?.from ?? '', /pytest's configuration in pytest\.ini/);
  const toml = await readDeclarations(
    repo({
      'pyproject.toml':
        '[project]\nname = "x"\n[tool.pytest.ini_options]\nasyncio_mode = "auto"\nDJANGO_SETTINGS_MODULE = "site.settings"\n[tool.other]\ntimeout = 5\n',
    }),
  );
  assert.deepEqual(reqs(toml.test), ['pytest-asyncio', 'pytest-django']);
  // Declared already: not added twice; a [tool:pytest] section in setup.cfg counts too.
  const declared = await readDeclarations(
    repo({ 'setup.cfg': '[options.extras_require]\ntest =\n    pytest-cov>=4\n[tool:pytest]\naddopts = --cov\n' }),
  );
  assert.deepEqual(reqs(declared.test), ['pytest-cov>=4']);
});
