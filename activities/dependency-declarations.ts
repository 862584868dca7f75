/**
 * Where a repository declares what it needs, read without running any of its code: pyproject.toml
 * (PEP 621, PEP 735 dependency groups, Poetry), setup.cfg, requirements*.txt (see requirements-file.ts),
 * Pipfile / Pipfile.lock, uv.lock and poetry.lock (their pins become constraints), tox.ini's test deps.
 * setup.py is code: its literal install_requires are read with Python's ast inside the preparation
 * container (sandbox/runner/opsguard_prepare.py), never executed.
 *
 * Runtime and test requirements are kept apart (test ones come from test extras and groups, dev
 * requirement files, tox, and plugins the tests visibly use). A file that cannot be parsed is a
 * problem with its name and the parser's reason: preparation then stops rather than going on without it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { normaliseName, parseRequirementsFile, requirementName } from './requirements-file';

export interface DeclaredRequirement {
  requirement: string;
  /** Normalised distribution name. */
  name: string;
  /** The file (and part of it) that declared it, or "inferred from tests: ...". */
  from: string;
}

export interface Declarations {
  runtime: DeclaredRequirement[];
  test: DeclaredRequirement[];
  /** Pins from lock files, handed to pip as constraints (a package not needed is not installed). */
  constraints: string[];
  /** Declaration files read (repository-relative), in a stable order: the cache key hashes them. */
  files: string[];
  /** setup.py, when present: its literal requirements are read by the preparation container. */
  setupPy: string | null;
  projectName: string | null;
  /** The project's own version when declared statically (for its .dist-info in the prepared folder). */
  projectVersion: string | null;
  requiresPython: string | null;
  /** Folders the packaging config says the code lives in (package_dir, packages.find where, Poetry's from). */
  packageRoots: string[];
  /** Python versions the classifiers name ("3.7"). */
  classifierPythons: string[];
  notes: string[];
  /** Files that could not be read, with why. Non-empty: preparation fails. */
  problems: string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => !!v && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Extras and groups whose packages are for tests. */
const TEST_GROUP = /^(tests?|testing|dev|develop|development|check|ci|pytest|unit)$/i;
/** Requirement files for tests (requirements-test.txt, test-requirements.txt, requirements/dev.txt...). */
const TEST_FILE = /(^|[/_.-])(tests?|testing|dev|develop|ci)([/_.-]|$)/i;
const DOCS_FILE = /(^|[/_.-])(docs?|lint|typing|mypy)([/_.-]|$)/i;

/** Packages the sandbox brings itself (pinned to the image's versions at preparation). */
export const SANDBOX_PROVIDED = new Set(['pytest', 'pluggy', 'coverage', 'iniconfig', 'py']);

/** Test helpers a test suite visibly uses, by what they look like in the code. */
const TEST_PLUGIN_USES: { pattern: RegExp; requirement: string }[] = [
  { pattern: /\bdef test\w*\([^)]*\bmocker\b|\bmocker\.(patch|spy|Mock|MagicMock|stub)\b/, requirement: 'pytest-mock' },
  { pattern: /^\s*(import mock\b|from mock import\b)/m, requirement: 'mock' },
  { pattern: /^\s*(import nose\b|from nose(\.\w+)* import\b)/m, requirement: 'nose' },
  { pattern: /^\s*(import hypothesis\b|from hypothesis(\.\w+)* import\b)/m, requirement: 'hypothesis' },
  { pattern: /^\s*(import freezegun\b|from freezegun import\b)/m, requirement: 'freezegun' },
  { pattern: /^\s*(import responses\b|from responses import\b)/m, requirement: 'responses' },
  { pattern: /^\s*(import requests_mock\b|from requests_mock import\b)/m, requirement: 'requests-mock' },
  { pattern: /@pytest\.mark\.asyncio\b/, requirement: 'pytest-asyncio' },
  { pattern: /^\s*(from parameterized import\b|import parameterized\b)/m, requirement: 'parameterized' },
];

class Collector {
  readonly d: Declarations = {
    runtime: [],
    test: [],
    constraints: [],
    files: [],
    setupPy: null,
    projectName: null,
    projectVersion: null,
    packageRoots: [],
    requiresPython: null,
    classifierPythons: [],
    notes: [],
    problems: [],
  };

  packageRoot(dir: unknown): void {
    if (typeof dir !== 'string') return;
    const clean = dir.replace(/^\.\/+/, '').replace(/\/+$/, '');
    if (!clean || clean === '.' || clean.startsWith('/') || clean.split('/').includes('..')) return;
    if (!this.d.packageRoots.includes(clean)) this.d.packageRoots.push(clean);
  }

  add(kind: 'runtime' | 'test', requirement: string, from: string): void {
    const text = requirement.trim();
    const name = requirementName(text);
    if (!name) {
      this.d.notes.push(`${from}: '${text.slice(0, 120)}' is not a requirement; skipped`);
      return;
    }
    if (/\s@\s*(git\+|https?:|file:)|^\S+\s*@\s*(git\+|https?:|file:)/.test(text)) {
      this.d.notes.push(`${from}: ${name} comes from a URL, not the package index; skipped`);
      return;
    }
    this.d[kind].push({ requirement: text, name, from });
  }

  classifiers(values: string[]): void {
    for (const c of values) {
      const m = /^Programming Language :: Python :: (3\.\d+)$/.exec(c.trim());
      if (m?.[1] && !this.d.classifierPythons.includes(m[1])) this.d.classifierPythons.push(m[1]);
    }
  }
}

async function readIfFile(root: string, rel: string): Promise<Buffer | null> {
  const full = path.join(root, rel);
  const stat = await fs.lstat(full).catch(() => null);
  if (!stat?.isFile()) return null; // absent, a folder, or a symlink (never followed out of the repository)
  return await fs.readFile(full);
}

/** Read every declaration form in the repository at `root`. */
export async function readDeclarations(root: string): Promise<Declarations> {
  const c = new Collector();
  const read = async (rel: string): Promise<string | null> => {
    const bytes = await readIfFile(root, rel);
    if (!bytes) return null;
    c.d.files.push(rel);
    return bytes.toString('utf8');
  };
  const toml = async (rel: string): Promise<Table | null> => {
    const text = await read(rel);
    if (text === null) return null;
    try {
      return parseToml(text);
    } catch (err) {
      c.d.problems.push(`${rel}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
      return null;
    }
  };

  const pyproject = await toml('pyproject.toml');
  if (pyproject) readPyproject(c, pyproject);

  const setupCfg = await read('setup.cfg');
  if (setupCfg !== null) readSetupCfg(c, setupCfg);

  if (await readIfFile(root, 'setup.py')) {
    const text = await read('setup.py');
    c.d.setupPy = 'setup.py';
    // Only metadata for choosing the Python; the requirements are read with ast in the container.
    c.classifiers(
      [...(text ?? '').matchAll(/['"](Programming Language :: Python :: 3\.\d+)['"]/g)].map((m) => m[1] ?? ''),
    );
    c.d.requiresPython ??= /python_requires\s*=\s*['"]([^'"]+)['"]/.exec(text ?? '')?.[1] ?? null;
    c.d.projectName ??= normaliseOrNull(/\bname\s*=\s*['"]([A-Za-z0-9._-]+)['"]/.exec(text ?? '')?.[1]);
    c.d.projectVersion ??= /\bversion\s*=\s*['"]([\w.+-]+)['"]/.exec(text ?? '')?.[1] ?? null;
    c.packageRoot(/package_dir\s*=\s*\{\s*['"]{2}\s*:\s*['"]([^'"]+)['"]/.exec(text ?? '')?.[1]);
    c.packageRoot(/find(?:_namespace)?_packages\(\s*(?:where\s*=\s*)?['"]([^'"]+)['"]/.exec(text ?? '')?.[1]);
  }

  await readRequirementFiles(c, root, read);

  const pipfileLock = await read('Pipfile.lock');
  if (pipfileLock !== null) readPipfileLock(c, pipfileLock);
  else {
    const pipfile = await toml('Pipfile');
    if (pipfile) readPipfile(c, pipfile);
  }
  for (const lock of ['uv.lock', 'poetry.lock']) {
    const parsed = await toml(lock);
    if (parsed) readLockPins(c, lock, parsed);
  }

  const tox = await read('tox.ini');
  if (tox !== null) readToxDeps(c, root, tox);

  await inferTestPlugins(c, root);
  dropProvidedAndSelf(c);
  return c.d;
}

const normaliseOrNull = (name: string | undefined) => (name ? normaliseName(name) : null);

function readPyproject(c: Collector, t: Table): void {
  const project = isTable(t.project) ? t.project : null;
  if (project) {
    c.d.projectName = normaliseOrNull(typeof project.name === 'string' ? project.name : undefined);
    if (typeof project.version === 'string') c.d.projectVersion = project.version;
    if (typeof project['requires-python'] === 'string') c.d.requiresPython = project['requires-python'];
    c.classifiers(strings(project.classifiers));
    for (const r of strings(project.dependencies)) c.add('runtime', r, 'pyproject.toml [project] dependencies');
    const extras = isTable(project['optional-dependencies']) ? project['optional-dependencies'] : {};
    for (const [group, list] of Object.entries(extras)) {
      if (TEST_GROUP.test(group))
        for (const r of strings(list)) c.add('test', r, `pyproject.toml optional-dependencies.${group}`);
      else if (strings(list).length)
        c.d.notes.push(`pyproject.toml: extra '${group}' not installed (not a test extra)`);
    }
  }
  const groups = isTable(t['dependency-groups']) ? t['dependency-groups'] : {};
  for (const group of Object.keys(groups)) {
    if (!TEST_GROUP.test(group)) continue;
    for (const r of groupEntries(groups, group, new Set()))
      c.add('test', r, `pyproject.toml dependency-groups.${group}`);
  }
  const tool = isTable(t.tool) ? t.tool : {};
  const setuptools = isTable(tool.setuptools) ? tool.setuptools : {};
  if (isTable(setuptools['package-dir'])) c.packageRoot(setuptools['package-dir']['']);
  const packages = isTable(setuptools.packages) ? setuptools.packages : {};
  if (isTable(packages.find)) for (const w of strings(packages.find.where)) c.packageRoot(w);
  const hatch = isTable(tool.hatch) ? tool.hatch : {};
  const wheel =
    isTable(hatch.build) && isTable(hatch.build.targets) && isTable(hatch.build.targets.wheel)
      ? hatch.build.targets.wheel
      : {};
  for (const pkg of strings(wheel.packages)) if (pkg.includes('/')) c.packageRoot(pkg.slice(0, pkg.lastIndexOf('/')));
  const poetry = isTable(tool.poetry) ? tool.poetry : null;
  if (poetry) {
    for (const p of Array.isArray(poetry.packages) ? (poetry.packages as unknown[]) : [])
      if (isTable(p)) c.packageRoot(p.from);
    c.d.projectName ??= normaliseOrNull(typeof poetry.name === 'string' ? poetry.name : undefined);
    if (typeof poetry.version === 'string') c.d.projectVersion ??= poetry.version;
    c.classifiers(strings(poetry.classifiers));
    const deps = isTable(poetry.dependencies) ? poetry.dependencies : {};
    if (typeof deps.python === 'string') c.d.requiresPython ??= poetryConstraint(deps.python) || null;
    readPoetryTable(c, deps, 'runtime', 'pyproject.toml [tool.poetry.dependencies]');
    if (isTable(poetry['dev-dependencies']))
      readPoetryTable(c, poetry['dev-dependencies'], 'test', 'pyproject.toml [tool.poetry.dev-dependencies]');
    const pgroups = isTable(poetry.group) ? poetry.group : {};
    for (const [group, body] of Object.entries(pgroups)) {
      if (!isTable(body) || !isTable(body.dependencies)) continue;
      if (TEST_GROUP.test(group))
        readPoetryTable(c, body.dependencies, 'test', `pyproject.toml [tool.poetry.group.${group}.dependencies]`);
    }
  }
}

/** PEP 735 groups, following {include-group = "..."}. */
function groupEntries(groups: Table, group: string, seen: Set<string>): string[] {
  if (seen.has(group)) return [];
  seen.add(group);
  const out: string[] = [];
  for (const entry of Array.isArray(groups[group]) ? (groups[group] as unknown[]) : []) {
    if (typeof entry === 'string') out.push(entry);
    else if (isTable(entry) && typeof entry['include-group'] === 'string')
      out.push(...groupEntries(groups, entry['include-group'], seen));
  }
  return out;
}

function readPoetryTable(c: Collector, deps: Table, kind: 'runtime' | 'test', from: string): void {
  for (const [name, spec] of Object.entries(deps)) {
    if (name === 'python') continue;
    const specs: unknown[] = Array.isArray(spec) ? (spec as unknown[]) : [spec]; // multiple-constraint form: the first is kept
    const first = specs[0];
    if (typeof first === 'string') {
      c.add(kind, `${name}${poetryConstraint(first)}`, from);
      continue;
    }
    if (!isTable(first)) continue;
    if (first.optional === true) {
      c.d.notes.push(`${from}: ${name} is optional (an extra); not installed`);
      continue;
    }
    if (first.git || first.path || first.url) {
      c.d.notes.push(
        `${from}: ${name} comes from ${first.git ? 'git' : first.path ? 'a path' : 'a URL'}, not the package index; skipped`,
      );
      continue;
    }
    const extras = strings(first.extras);
    const version = typeof first.version === 'string' ? poetryConstraint(first.version) : '';
    const markers = typeof first.markers === 'string' ? ` ; ${first.markers}` : '';
    c.add(kind, `${name}${extras.length ? `[${extras.join(',')}]` : ''}${version}${markers}`, from);
  }
  if (Object.values(deps).some((s) => Array.isArray(s)))
    c.d.notes.push(`${from}: a multiple-constraint dependency keeps its first constraint only`);
}

/** Poetry's version constraints as PEP 440: ^1.2.3 -> >=1.2.3,<2.0.0; ~1.2 -> >=1.2,<1.3; 1.2 -> ==1.2. */
export function poetryConstraint(spec: string): string {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (spec.includes('||')) return ''; // alternatives have no PEP 440 form: let the resolver choose
  const out: string[] = [];
  for (const p of parts) {
    if (p === '*') continue;
    const caret = /^\^\s*(\d+(?:\.\d+)*)/.exec(p);
    const tilde = /^~(?!=)\s*(\d+(?:\.\d+)*)/.exec(p);
    if (caret?.[1]) {
      const v = caret[1].split('.').map(Number);
      const i = v.findIndex((x) => x !== 0);
      const at = i === -1 ? v.length - 1 : i;
      const upper = v.slice(0, at + 1).map((x, k) => (k === at ? x + 1 : x));
      out.push(`>=${caret[1]}`, `<${upper.join('.')}`);
    } else if (tilde?.[1]) {
      const v = tilde[1].split('.').map(Number);
      const at = v.length >= 2 ? 1 : 0;
      out.push(
        `>=${tilde[1]}`,
        `<${v
          .slice(0, at + 1)
          .map((x, k) => (k === at ? x + 1 : x))
          .join('.')}`,
      );
    } else if (/^\d/.test(p)) out.push(p.includes('*') ? `==${p}` : `==${p}`);
    else out.push(p.replace(/\s+/g, ''));
  }
  return out.join(',');
}

/** configparser's format: sections, `key = value` or `key: value`, indented continuation lines. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | null = null;
  let key: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') continue;
    const header = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (header?.[1]) {
      section = new Map();
      sections.set(header[1].trim(), section);
      key = null;
      continue;
    }
    if (!section) continue;
    if (/^\s/.test(raw) && key) {
      section.set(key, `${section.get(key) ?? ''}\n${raw.trim()}`);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv?.[1]) {
      key = kv[1].trim().toLowerCase();
      section.set(key, (kv[2] ?? '').trim());
    }
  }
  return sections;
}

const iniList = (value: string | undefined): string[] =>
  (value ?? '')
    .split('\n')
    .map((s) => s.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean);

function readSetupCfg(c: Collector, text: string): void {
  const ini = parseIni(text);
  const metadata = ini.get('metadata');
  const options = ini.get('options');
  c.d.projectName ??= normaliseOrNull(metadata?.get('name'));
  const version = metadata?.get('version');
  if (version && /^[\w.+-]+$/.test(version)) c.d.projectVersion ??= version;
  c.classifiers(iniList(metadata?.get('classifiers')));
  if (options?.get('python_requires')) c.d.requiresPython ??= options.get('python_requires') ?? null;
  for (const line of iniList(options?.get('package_dir'))) c.packageRoot(/^=\s*(\S+)$/.exec(line)?.[1]);
  c.packageRoot(ini.get('options.packages.find')?.get('where'));
  for (const r of iniList(options?.get('install_requires')))
    c.add('runtime', r, 'setup.cfg [options] install_requires');
  for (const r of iniList(options?.get('tests_require'))) c.add('test', r, 'setup.cfg [options] tests_require');
  for (const [group, list] of ini.get('options.extras_require') ?? []) {
    if (TEST_GROUP.test(group)) for (const r of iniList(list)) c.add('test', r, `setup.cfg extras_require.${group}`);
  }
}

async function readRequirementFiles(
  c: Collector,
  root: string,
  read: (rel: string) => Promise<string | null>,
): Promise<void> {
  const candidates: string[] = [];
  const top = await fs.readdir(root).catch(() => [] as string[]);
  for (const f of top.sort())
    if (/^(requirements|.*-requirements|requirements[-_.].*)\.(txt|pip)$/i.test(f)) candidates.push(f);
  const sub = await fs.readdir(path.join(root, 'requirements')).catch(() => [] as string[]);
  for (const f of sub.sort()) if (/\.(txt|pip|in)$/.test(f) && !f.endsWith('.in')) candidates.push(`requirements/${f}`);

  const done = new Set<string>();
  const queue = candidates.map((f) => ({
    file: f,
    kind: TEST_FILE.test(f) ? ('test' as const) : ('runtime' as const),
  }));
  while (queue.length) {
    const next = queue.shift();
    if (!next || done.has(next.file)) continue;
    done.add(next.file);
    if (DOCS_FILE.test(next.file) && candidates.includes(next.file)) {
      c.d.notes.push(`${next.file}: documentation or lint requirements; not installed`);
      continue;
    }
    const bytes = await readIfFile(root, next.file);
    if (!bytes) {
      c.d.notes.push(`${next.file}: named by -r but not in the repository; skipped`);
      continue;
    }
    await read(next.file);
    const parsed = parseRequirementsFile(next.file, bytes);
    c.d.notes.push(...parsed.notes);
    for (const r of parsed.requirements) c.add(next.kind, r.requirement, next.file);
    for (const inc of parsed.includes) queue.push({ file: inc, kind: next.kind });
    for (const cf of parsed.constraintFiles) {
      const cb = await readIfFile(root, cf);
      if (!cb) continue;
      await read(cf);
      c.d.constraints.push(...parseRequirementsFile(cf, cb).requirements.map((r) => r.requirement));
    }
  }
}

function readPipfileLock(c: Collector, text: string): void {
  let lock: Table;
  try {
    lock = JSON.parse(text) as Table;
  } catch (err) {
    c.d.problems.push(`Pipfile.lock: not valid JSON: ${(err as Error).message}`);
    return;
  }
  for (const [section, kind] of [
    ['default', 'runtime'],
    ['develop', 'test'],
  ] as const) {
    const entries = isTable(lock[section]) ? lock[section] : {};
    for (const [name, spec] of Object.entries(entries)) {
      if (!isTable(spec)) continue;
      if (spec.git || spec.path || spec.file) {
        c.d.notes.push(
          `Pipfile.lock ${section}: ${name} comes from ${spec.git ? 'git' : 'a path'}, not the package index; skipped`,
        );
        continue;
      }
      const extras = strings(spec.extras);
      const version = typeof spec.version === 'string' ? spec.version : '';
      const markers = typeof spec.markers === 'string' ? ` ; ${spec.markers}` : '';
      c.add(
        kind,
        `${name}${extras.length ? `[${extras.join(',')}]` : ''}${version}${markers}`,
        `Pipfile.lock ${section}`,
      );
    }
  }
}

function readPipfile(c: Collector, t: Table): void {
  for (const [section, kind] of [
    ['packages', 'runtime'],
    ['dev-packages', 'test'],
  ] as const) {
    const entries = isTable(t[section]) ? t[section] : {};
    for (const [name, spec] of Object.entries(entries)) {
      if (typeof spec === 'string') c.add(kind, `${name}${spec === '*' ? '' : spec}`, `Pipfile [${section}]`);
      else if (isTable(spec) && !spec.git && !spec.path)
        c.add(
          kind,
          `${name}${typeof spec.version === 'string' && spec.version !== '*' ? spec.version : ''}`,
          `Pipfile [${section}]`,
        );
      else c.d.notes.push(`Pipfile [${section}]: ${name} is not from the package index; skipped`);
    }
  }
  const requires = isTable(t.requires) ? t.requires : {};
  if (typeof requires.python_version === 'string') c.d.requiresPython ??= `==${requires.python_version}.*`;
}

/** uv.lock / poetry.lock: every package pinned, as constraints over what the declarations ask for. */
function readLockPins(c: Collector, file: string, t: Table): void {
  const packages = Array.isArray(t.package) ? (t.package as unknown[]) : [];
  let pins = 0;
  for (const p of packages) {
    if (!isTable(p) || typeof p.name !== 'string' || typeof p.version !== 'string') continue;
    const source = isTable(p.source) ? p.source : {};
    if (source.editable || source.virtual || source.git || source.path || source.directory || source.url) continue;
    if (SANDBOX_PROVIDED.has(normaliseName(p.name))) continue;
    c.d.constraints.push(`${p.name}==${p.version}`);
    pins++;
  }
  c.d.notes.push(`${file}: ${pins} pinned versions used as constraints`);
}

function readToxDeps(c: Collector, root: string, text: string): void {
  const testenv = parseIni(text).get('testenv');
  for (const line of iniList(testenv?.get('deps'))) {
    if (/^[\w.-]+(,[\w.-]+)*:\s/.test(line) || line.includes('{[')) continue; // factor-conditional or a substitution
    if (line.startsWith('-r')) continue; // requirement files are read on their own
    c.add('test', line.replace(/\{toxinidir\}\/?/g, ''), 'tox.ini [testenv] deps');
  }
  void root;
}

/**
 * Plugins pytest's own configuration needs: without them pytest stops at start-up ("unrecognized
 * arguments: --cov") or ignores the setting, and no test runs.
 */
const PYTEST_CONFIG_USES: { pattern: RegExp; requirement: string }[] = [
  { pattern: /--cov\b|--cov-report\b/, requirement: 'pytest-cov' },
  { pattern: /^\s*asyncio_mode\s*=|--asyncio-mode\b/m, requirement: 'pytest-asyncio' },
  { pattern: /^\s*DJANGO_SETTINGS_MODULE\s*=|--ds[= ]/m, requirement: 'pytest-django' },
  { pattern: /^\s*timeout\s*=\s*\d|--timeout[= ]\d/m, requirement: 'pytest-timeout' },
  { pattern: /^\s*mock_use_standalone_module\s*=/m, requirement: 'pytest-mock' },
  { pattern: /^\s*env\s*=\s*\n?\s*\w+=|^\s*env\s*=\s*\[/m, requirement: 'pytest-env' },
  { pattern: /--reruns\b/, requirement: 'pytest-rerunfailures' },
  { pattern: /(^|\s)-n\s*(auto|logical|\d+)\b|--numprocesses\b|--dist[= ]/m, requirement: 'pytest-xdist' },
  { pattern: /--benchmark-/, requirement: 'pytest-benchmark' },
  { pattern: /--flake8\b/, requirement: 'pytest-flake8' },
];

/** The text of pytest's configuration, wherever the repository keeps it. */
async function pytestConfig(root: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const file of ['pytest.ini', 'setup.cfg', 'tox.ini', 'pyproject.toml']) {
    const stat = await fs.lstat(path.join(root, file)).catch(() => null);
    if (!stat?.isFile()) continue;
    const text = await fs.readFile(path.join(root, file), 'utf8').catch(() => '');
    const section =
      file === 'pyproject.toml'
        ? /^\[tool\.pytest\.ini_options\][\s\S]*?(?=^\[|$(?![\s\S]))/m.exec(text)?.[0]
        : /^\[(?:pytest|tool:pytest)\][\s\S]*?(?=^\[|$(?![\s\S]))/m.exec(text)?.[0];
    if (section) out.push({ file, text: section });
  }
  return out;
}

async function inferTestPlugins(c: Collector, root: string): Promise<void> {
  const declared = new Set([...c.d.runtime, ...c.d.test].map((r) => r.name));
  const added = new Set<string>();
  for (const { file, text } of await pytestConfig(root)) {
    for (const u of PYTEST_CONFIG_USES) {
      const name = normaliseName(u.requirement);
      if (declared.has(name) || added.has(name) || !u.pattern.test(text)) continue;
      added.add(name);
      c.add('test', u.requirement, `inferred from pytest's configuration in ${file}`);
    }
  }
  const wanted = TEST_PLUGIN_USES.filter(
    (u) => !declared.has(normaliseName(u.requirement)) && !added.has(normaliseName(u.requirement)),
  );
  if (!wanted.length) return;
  const found = new Map<string, string>();
  const files = await testFiles(root, 400);
  for (const rel of files) {
    const text = await fs.readFile(path.join(root, rel), 'utf8').catch(() => '');
    for (const u of wanted) if (!found.has(u.requirement) && u.pattern.test(text)) found.set(u.requirement, rel);
  }
  for (const [req, rel] of found) c.add('test', req, `inferred from tests: ${rel} uses it`);
}

/** Test files and conftest.py, breadth first, skipping hidden folders and virtual environments. */
async function testFiles(root: string, max: number): Promise<string[]> {
  const out: string[] = [];
  const queue = [''];
  while (queue.length && out.length < max) {
    const dir = queue.shift() ?? '';
    const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (
        e.isDirectory() &&
        !e.name.startsWith('.') &&
        !/^(node_modules|venv|env|site-packages|__pycache__|build|dist)$/.test(e.name)
      )
        queue.push(rel);
      else if (e.isFile() && /^(test_.*|.*_test|conftest)\.py$/.test(e.name)) out.push(rel);
    }
  }
  return out.slice(0, max);
}

/** What the sandbox brings is not installed again; nor is the project itself. */
function dropProvidedAndSelf(c: Collector): void {
  for (const kind of ['runtime', 'test'] as const) {
    c.d[kind] = c.d[kind].filter((r) => {
      if (SANDBOX_PROVIDED.has(r.name)) {
        c.d.notes.push(
          `${r.from}: ${r.requirement} — the sandbox's own ${r.name} is used (OpsGuard's runner needs it)`,
        );
        return false;
      }
      if (c.d.projectName && r.name === c.d.projectName) return false;
      return true;
    });
  }
}
