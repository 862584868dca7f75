/**
 * Repositories as real services have them, end to end on the real Temporal server, worker, Docker
 * engine and package index (PyPI, reached from the preparation container only): a pure-Python
 * dependency declared in a UTF-16 `pip freeze` dump, a compiled dependency with no wheel for the
 * interpreter, a src/ layout whose tests need a pytest plugin and whose profile picks Python 3.13.
 * Each: the preparation runs once, the reproduction fails for the incident's reason, the fix passes,
 * the tests run with their plugins; a second incident on the same repository hits the cache; a
 * requirement that cannot be installed ends as environment_failed with the installer's log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EnvironmentSummary, RemediationResult } from '../workflows/incident-types';
import { execFileSync } from 'node:child_process';
import { cacheEntry } from '../activities/dependency-cache';
import { exampleDir, localActivities, recordedTurns, remediate } from './support/remediation-harness';
import type { RemediationRun } from './support/remediation-harness';
import type { ScriptedTurn } from './support/scripted-model-server';

const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-deps-cache-'));

function turns(example: string, python: string): ScriptedTurn[] {
  const [repro, fix, pr] = recordedTurns(example) as [ScriptedTurn, ScriptedTurn, ScriptedTurn];
  // The model is told which Python it writes for, and what is installed.
  return [{ ...repro, expectInPrompt: [`Python ${python}`] }, { ...fix, expectInPrompt: [`Python ${python}`] }, pr];
}

function environmentOf(result: RemediationResult): EnvironmentSummary {
  assert.ok(result.environment, `the result records the environment (${result.status}: ${result.reason})`);
  return result.environment;
}

function assertVerifiedFirstTime(run: RemediationRun): void {
  const { result } = run;
  assert.equal(result.status, 'approved', result.reason);
  assert.equal(
    result.reproductionAttempts.length,
    1,
    'the first reproduction is accepted: it fails for the right reason',
  );
  assert.equal(result.reproductionAttempts[0]?.gate.passed, true);
  assert.equal(result.fixAttempts.length, 1);
  assert.ok(run.originalUnchanged, 'the original repository is unchanged');
  assert.equal(run.containers.created, run.containers.destroyed, 'every container created was removed');
  const proof = JSON.parse(fs.readFileSync(result.artifacts['proof.json'] ?? '', 'utf8')) as {
    environment: EnvironmentSummary | null;
  };
  assert.deepEqual(
    proof.environment?.depsKey,
    result.environment?.depsKey,
    'proof.json names the prepared environment',
  );
}

/**
 * The uptime-digest example copied with some files changed, its workspace set up and its environment
 * prepared, through real activities with a cache of its own.
 */
async function prepareVariant(name: string, files: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `opsguard-${name}-`));
  const repo = path.join(dir, 'repo');
  fs.cpSync(path.join(exampleDir('uptime-digest'), 'repo'), repo, { recursive: true });
  for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(repo, rel), text);
  const activities = localActivities(dir);
  const incidentId = `${name}-${process.pid}`;
  await activities.setupWorkspace({
    incidentId,
    repoPath: repo,
    errorLog: 'Traceback (most recent call last):\nValueError: x\n',
  });
  return { dir, activities, incidentId, prepared: await activities.prepareEnvironment({ incidentId }) };
}

function installed(env: EnvironmentSummary): string[] {
  return env.installed.map((p) => `${p.name.toLowerCase()}==${p.version}`);
}

test('a pure-Python dependency from a UTF-16 pip freeze dump: prepared once, then a cache hit', async () => {
  const cacheDir = path.join(cacheRoot, 'uptime');
  const first = await remediate({ example: 'uptime-digest', turns: turns('uptime-digest', '3.11'), cacheDir });
  assertVerifiedFirstTime(first);
  const env = environmentOf(first.result);
  assert.equal(env.cacheHit, false, 'the first incident prepares');
  assert.equal(env.python, '3.11');
  assert.equal(env.pythonSource, 'traceback', env.pythonReason);
  assert.ok(installed(env).includes('python-dateutil==2.9.0.post0'), installed(env).join(', '));
  assert.ok(installed(env).includes('six==1.16.0'));
  assert.ok(
    env.notes.some((n) => /internal_tools.*cannot be installed from the package index/.test(n)),
    `the -e git+ line is a note: ${env.notes.join(' | ')}`,
  );
  assert.ok(env.notes.some((n) => /pkg-resources/.test(n)));
  assert.ok(env.logPath && fs.readFileSync(env.logPath, 'utf8').includes('python-dateutil'), 'the install log is kept');
  assert.equal(first.result.baselineTests?.counts?.passed, 3, 'the tests import dateutil and pass before the fix');
  // The reproduction failed inside the library, through the repository's frame.
  assert.equal(first.result.reproductionAttempts[0]?.run?.exception?.type, 'TypeError');

  const second = await remediate({ example: 'uptime-digest', turns: turns('uptime-digest', '3.11'), cacheDir });
  assertVerifiedFirstTime(second);
  const again = environmentOf(second.result);
  assert.equal(again.cacheHit, true, 'the second incident on the same declarations hits the cache');
  assert.equal(again.depsKey, env.depsKey);
  assert.ok(
    again.durationMs < env.durationMs,
    `a hit (${again.durationMs} ms) is quicker than preparing (${env.durationMs} ms)`,
  );
});

test('a burst of incidents on one commit prepares its environment once: the others wait and hit the cache', async () => {
  // One worker's activities (one process, one cache), four incidents on copies of the same tree at once.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-burst-'));
  const activities = localActivities(dir);
  const ids = [0, 1, 2, 3].map((i) => `burst-${process.pid}-${i}`);
  for (const [i, incidentId] of ids.entries()) {
    const repo = path.join(dir, `repo-${i}`);
    fs.cpSync(path.join(exampleDir('config-loader'), 'repo'), repo, { recursive: true });
    await activities.setupWorkspace({
      incidentId,
      repoPath: repo,
      errorLog: fs.readFileSync(path.join(exampleDir('config-loader'), 'incident.log'), 'utf8'),
    });
  }
  const prepared = await Promise.all(ids.map((incidentId) => activities.prepareEnvironment({ incidentId })));
  const envs = prepared.map((p) => {
    assert.ok(p.ok && p.summary, `prepared: ${p.ok ? '' : p.reason}`);
    return p.summary;
  });
  assert.equal(new Set(envs.map((e) => e.depsKey)).size, 1, 'one tree, one environment key');
  assert.deepEqual(
    envs.map((e) => e.cacheHit).sort(),
    [false, true, true, true],
    'one incident prepared; the three beside it waited for it and found its entry',
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a compiled dependency with no wheel for Python 3.11 is built at preparation', async () => {
  const run = await remediate({
    example: 'feature-flags',
    turns: turns('feature-flags', '3.11'),
    cacheDir: path.join(cacheRoot, 'flags'),
  });
  assertVerifiedFirstTime(run);
  const env = environmentOf(run.result);
  assert.ok(installed(env).includes('bitarray==2.3.0'), installed(env).join(', '));
  assert.deepEqual(env.declarationFiles, ['pyproject.toml']);
  assert.match(fs.readFileSync(env.logPath ?? '', 'utf8'), /Building wheel for bitarray|Created wheel for bitarray/);
  assert.equal(run.result.reproductionAttempts[0]?.run?.exception?.type, 'IndexError');
  assert.equal(run.result.baselineTests?.counts?.passed, 3);
});

test('a src/ layout whose tests need pytest-mock, on the Python its profile names (3.13)', async () => {
  const run = await remediate({
    example: 'ledger-src',
    turns: turns('ledger-src', '3.13'),
    cacheDir: path.join(cacheRoot, 'ledger'),
  });
  assertVerifiedFirstTime(run);
  const env = environmentOf(run.result);
  assert.equal(env.python, '3.13');
  assert.equal(env.pythonSource, 'profile python');
  assert.deepEqual(env.profileSources, ['pyproject.toml [tool.opsguard]']);
  assert.ok(
    installed(env).some((p) => p.startsWith('pytest-mock==')),
    installed(env).join(', '),
  );
  // All four tests ran, the mocker one (the plugin) and the profile's environment variable one included.
  const before = run.result.baselineTests;
  assert.equal(before?.counts?.passed, 4, JSON.stringify(before?.counts));
  assert.deepEqual(before?.collectErrors, [], 'no test file failed to collect (the plugin is there)');
  assert.equal(run.result.reproductionAttempts[0]?.run?.exception?.type, 'KeyError');
});

/** The same bug from the service's image, built with `COPY src/ /app/`: no frame path is a repository path. */
const RELOCATED_REPORT = `2026-11-22T06:00:04.118Z stderr F Traceback (most recent call last):
2026-11-22T06:00:04.118Z stderr F   File "/app/ledger/cli.py", line 15, in <module>
2026-11-22T06:00:04.118Z stderr F     main(sys.argv[1])
2026-11-22T06:00:04.118Z stderr F   File "/app/ledger/cli.py", line 11, in main
2026-11-22T06:00:04.118Z stderr F     print(row["date"], to_minor_units(float(row["amount"]), row["currency"]))
2026-11-22T06:00:04.119Z stderr F   File "/app/ledger/money.py", line 14, in to_minor_units
2026-11-22T06:00:04.119Z stderr F     return round(amount * 10 ** decimals_for(currency))
2026-11-22T06:00:04.119Z stderr F   File "/app/ledger/money.py", line 10, in decimals_for
2026-11-22T06:00:04.119Z stderr F     return DECIMALS[code]
2026-11-22T06:00:04.119Z stderr F KeyError: 'eur'
`;

/** ledger-src's bug reported as `errorLog`: located in src/, reproduced by the location rule, fixed. */
async function assertLocatedInSrc(errorLog: string): Promise<void> {
  const run = await remediate({
    example: 'ledger-src',
    errorLog,
    turns: turns('ledger-src', '3.13'),
    cacheDir: path.join(cacheRoot, 'ledger'),
  });
  assertVerifiedFirstTime(run);
  assert.match(run.result.classification?.reason ?? '', /src\/ledger\/money\.py:decimals_for/);
  const [attempt] = run.result.reproductionAttempts;
  assert.equal(attempt?.rule, 'location');
  assert.match(attempt?.gate.reason ?? '', /src\/ledger\/money\.py:decimals_for/);
}

test('the service image copied src/ to /app/ and its runtime prefixed each line: frames relocated to src/, reproduced, fixed', async () => {
  await assertLocatedInSrc(RELOCATED_REPORT);
});

/** The same bug as a user of the released package reports it: only installed frames, through `..`. */
const INSTALLED_REPORT = `$ ledger-import ~/Downloads/bank-export-2026-11-21.csv
Traceback (most recent call last):
  File "/home/ana/.venvs/books/bin/ledger-import", line 8, in <module>
    sys.exit(main())
  File "/home/ana/.venvs/books/lib/python3.13/site-packages/ledger/cli.py", line 11, in main
    print(row["date"], to_minor_units(float(row["amount"]), row["currency"]))
  File "/home/ana/.venvs/books/lib/python3.13/site-packages/ledger/../ledger/money.py", line 14, in to_minor_units
    return round(amount * 10 ** decimals_for(currency))
  File "/home/ana/.venvs/books/lib/python3.13/site-packages/ledger/money.py", line 10, in decimals_for
    return DECIMALS[code]
KeyError: 'eur'
`;

test("a user's report of the installed release (site-packages frames only) is the repository's code: located in src/, reproduced, fixed", async () => {
  await assertLocatedInSrc(INSTALLED_REPORT);
});

test('a requirement that cannot be installed ends as environment_failed, with the log', async () => {
  const run = await remediate({
    example: 'uptime-digest',
    turns: [],
    cacheDir: path.join(cacheRoot, 'broken'),
    prepare: (original) =>
      fs.writeFileSync(
        path.join(original, 'requirements.txt'),
        'python-dateutil==2.9.0.post0\nopsguard-no-such-package-7f3a==1.0\n',
      ),
  });
  assert.equal(run.result.status, 'environment_failed', run.result.reason);
  assert.match(run.result.reason, /opsguard-no-such-package-7f3a==1\.0 \(requirements\.txt\)/);
  assert.match(run.result.reason, /ignore-packages/);
  assert.equal(run.result.reproductionAttempts.length, 0, 'nothing ran without the dependencies');
  const log = path.join(run.roots.artifactsDir, run.result.incidentId, 'environment', 'install.log');
  assert.match(fs.readFileSync(log, 'utf8'), /opsguard-no-such-package-7f3a/);
  assert.ok(run.result.artifacts['failure_report.md'], 'a failure report is written');
  assert.equal(run.model.requests.length, 0, 'the model was never asked');
  assert.equal(fs.readdirSync(path.join(cacheRoot, 'broken', 'deps')).length, 0, 'a failed preparation is not cached');
});

test('an image the incident names is used as given, and its Python is read at preparation', async () => {
  // A user's own image, here one of OpsGuard's under another name (no registry answers here).
  const tag = `opsguard-test/named-python:${process.pid}`;
  execFileSync('docker', ['tag', 'opsguard/sandbox-python:3.13', tag]);
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-named-'));
    const activities = localActivities(dir);
    const incidentId = `named-image-${process.pid}`;
    await activities.setupWorkspace({
      incidentId,
      repoPath: path.join(exampleDir('uptime-digest'), 'repo'),
      errorLog: fs.readFileSync(path.join(exampleDir('uptime-digest'), 'incident.log'), 'utf8'),
    });
    const r = await activities.prepareEnvironment({ incidentId, image: tag });
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.summary.image, tag);
    assert.equal(r.summary.pythonSource, 'input image', 'it wins over the traceback, which names 3.11');
    assert.equal(r.summary.python, '3.13', 'the Python is read from the image itself');
    assert.ok(installed(r.summary).includes('python-dateutil==2.9.0.post0'));
  } finally {
    execFileSync('docker', ['rmi', tag]);
  }
});

test("a freeze dump's pin that does not exist for this Python is relaxed, loudly; the project answers importlib.metadata", async () => {
  const { dir, prepared: r } = await prepareVariant('relaxed', {
    'requirements.txt': 'python-dateutil==2.9.0.post0\nsix==1.0.99\n',
    'setup.cfg': '[metadata]\nname = uptime-digest\nversion = 4.2.0\n',
  });
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.ok(
    r.summary.notes.some((n) =>
      /six==1\.0\.99 cannot be installed for Python 3\.11\.\d+; installed six instead/.test(n),
    ),
    r.summary.notes.join(' | '),
  );
  const six = r.summary.installed.find((p) => p.name === 'six');
  assert.ok(six && six.version !== '1.0.99', `six ${six?.version} installed instead`);
  assert.ok(!r.summary.installed.some((p) => p.name === 'uptime-digest'), 'the project is not listed as a dependency');
  const site = cacheEntry(path.join(dir, 'cache'), r.environment.depsKey ?? '').site;
  assert.equal(
    fs.readFileSync(path.join(site, 'uptime_digest-4.2.0.dist-info', 'METADATA'), 'utf8'),
    'Metadata-Version: 2.1\nName: uptime-digest\nVersion: 4.2.0\n',
  );
});

test("pytest's own configuration asks for plugins (--cov, -n): installed, then kept from taking the run away", async () => {
  // Without pytest-cov and pytest-xdist, pytest stops at start-up: "unrecognized arguments".
  const { activities, incidentId, prepared } = await prepareVariant('addopts', {
    'pytest.ini': '[pytest]\naddopts = -ra --cov=uptime --cov-report=term -n 2\n',
  });
  assert.ok(prepared.ok, prepared.ok ? '' : prepared.reason);
  const names = prepared.summary.installed.map((p) => p.name.toLowerCase());
  assert.ok(names.includes('pytest-cov') && names.includes('pytest-xdist'), names.join(', '));
  const tests = await activities.runRepoTests({
    incidentId,
    image: prepared.summary.image,
    environment: prepared.environment,
    label: 'tests-baseline',
  });
  assert.equal(tests.completeness, 'complete', tests.reason);
  assert.equal(tests.counts?.passed, 3, 'every test ran in the guarded process and was recorded');
});

test('a package whose build needs a system library (psycopg2: pg_config) is replaced by its published build', async () => {
  const { prepared: r } = await prepareVariant('prebuilt', {
    'requirements.txt': 'python-dateutil==2.9.0.post0\npsycopg2==2.9.9\n',
  });
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.ok(
    installed(r.summary).some((p) => p.startsWith('psycopg2-binary==')),
    installed(r.summary).join(', '),
  );
  assert.ok(
    r.summary.notes.some((n) =>
      /psycopg2==2\.9\.9 needs system libraries to build here; installed psycopg2-binary/.test(n),
    ),
    r.summary.notes.join(' | '),
  );
});
