/**
 * The `opsguard` command line, run as a real subprocess against the test Temporal server, with a
 * worker (scripted model, real Docker) in this process: the commands, their output, and the
 * errors a person meets (Temporal not reachable, unknown incident, already decided, bad input).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../worker/settings';
import { sha256 } from '../activities/incident-paths';
import { EXAMPLES, recordedTurns, scriptedActivities } from './support/remediation-harness';
import { startScriptedModel } from './support/scripted-model-server';
import { TEST_TEMPORAL_ADDRESS, withWorker } from './support/temporal';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `opsguard ...` through its bin entry, asynchronously (the worker lives in this process). */
function opsguard(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

const turns = recordedTurns('config-loader');

test('opsguard: remediate --wait, status, artifacts, audit, list, approve, and their errors', async () => {
  const model = await startScriptedModel([...turns, ...turns]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-cli-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(EXAMPLES, 'config-loader', 'repo'), repo, { recursive: true });
  const log = path.join(EXAMPLES, 'config-loader', 'incident.log');
  const activities = scriptedActivities(model.baseURL, tmp);
  try {
    await withWorker(activities, async ({ taskQueue }) => {
      const env = { OPSGUARD_TASK_QUEUE: taskQueue };

      // remediate --wait streams the transitions and stops when the incident waits for a person.
      const started = await opsguard(
        ['remediate', '--repo', repo, '--log', '-', '--wait'],
        env,
        fs.readFileSync(log, 'utf8'),
      );
      assert.equal(started.code, 0, started.stderr);
      const id = started.stdout.split('\n')[0] ?? '';
      assert.match(id, /^incident-[0-9a-f]{16}$/, 'the id is the fingerprint');
      assert.match(
        started.stdout,
        /\[STATE\] reproduce_attempt_1\n[\s\S]*\[STATE\] fix_attempt_1\n[\s\S]*\[STATE\] awaiting_approval/,
      );
      assert.match(started.stdout, new RegExp(`Incident ${id}: awaiting_approval`));
      assert.match(started.stdout, /decide: npx opsguard approve/);

      // The same incident again: not remediated twice.
      const again = await opsguard(['remediate', '--repo', repo, '--log', log, '--json'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout), { incidentId: id, started: false, attached: true });

      const status = await opsguard(['status', id, '--json'], env);
      assert.equal(status.code, 0, status.stderr);
      const view = JSON.parse(status.stdout) as { status: string; source: string; result: { fixAttempts: unknown[] } };
      assert.equal(view.status, 'awaiting_approval');
      assert.equal(view.source, 'query');
      assert.equal(view.result.fixAttempts.length, 1);
      const human = await opsguard(['status', id], env);
      assert.match(
        human.stdout,
        /environment: Python 3\.11\.\d+ \(default\), 0 packages — opsguard\/sandbox-python:3\.11/,
      );

      const watched = await opsguard(['watch', id], env);
      assert.equal(watched.code, 0, watched.stderr);
      assert.match(watched.stdout, /\[STATE\] setup_workspace\n[\s\S]*\[STATE\] awaiting_approval\n/);

      const listed = await opsguard(['list', '--status', 'awaiting_approval', '--json'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(
        (JSON.parse(listed.stdout) as { id: string }[]).some((r) => r.id === id),
        listed.stdout,
      );

      const out = path.join(tmp, 'out');
      const copied = await opsguard(['artifacts', id, '--out', out], env);
      assert.equal(copied.code, 0, copied.stderr);
      for (const f of ['patch.diff', 'PR_DESCRIPTION.md', 'reproduction.py', 'proof.json'])
        assert.ok(fs.existsSync(path.join(out, id, f)), f);

      // Without a terminal, a decision must name the patch reviewed; a stale hash is refused.
      const blind = await opsguard(['approve', id, '--by', 'erin'], env);
      assert.equal(blind.code, 2, blind.stdout + blind.stderr);
      assert.match(
        blind.stderr,
        /Review the patch first, then pass its hash: npx opsguard approve .* --patch-sha256 [0-9a-f]{64}/,
      );
      const patchSha256 = sha256(fs.readFileSync(path.join(out, id, 'patch.diff')));
      const stale = await opsguard(['approve', id, '--by', 'erin', '--patch-sha256', 'f'.repeat(64)], env);
      assert.equal(stale.code, 6, stale.stdout + stale.stderr);
      assert.match(stale.stderr, /Refused: patchSha256 ffffffffffff… is not the patch awaiting a decision/);

      const approved = await opsguard(
        ['approve', id, '--by', 'erin', '--comment', 'ship it', '--patch-sha256', patchSha256],
        env,
      );
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(
        approved.stdout,
        new RegExp(`Incident ${id} approved by erin at .* on patch ${patchSha256.slice(0, 12)}…`),
      );

      // Deciding again is refused: either the validator's reason, or the incident has ended.
      const twice = await opsguard(['reject', id, '--reason', 'changed my mind', '--patch-sha256', patchSha256], env);
      assert.equal(twice.code, 6, twice.stdout + twice.stderr);
      assert.match(twice.stderr, /opsguard: (Refused: incident .* was already approved by erin|Incident .* has ended)/);

      const audit = await opsguard(['audit', id], env);
      assert.equal(audit.code, 0, audit.stderr);
      assert.match(audit.stdout, /gate 1 \(reproduce 1\)\s+PASSED/);
      assert.match(audit.stdout, /update approve accepted\s+by erin — ship it/);

      // Errors a person understands, with exit codes scripts can use.
      const unknown = await opsguard(['status', 'no-such-incident'], env);
      assert.equal(unknown.code, 4);
      assert.match(unknown.stderr, /^opsguard: Unknown incident 'no-such-incident'/);
      assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');

      const unreachable = await opsguard(['list'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      assert.equal(unreachable.code, 3);
      assert.match(
        unreachable.stderr,
        /Temporal is not reachable at 127\.0\.0\.1:1\. Start it with 'npx opsguard dev'/,
      );

      const noLog = await opsguard(['remediate', '--repo', repo, '--log', path.join(tmp, 'missing.log')], env);
      assert.equal(noLog.code, 2);
      assert.match(noLog.stderr, /--log .*missing\.log: no such file/);

      const badTimeout = await opsguard(['remediate', '--repo', repo, '--log', log, '--approval-timeout', 'soon'], env);
      assert.equal(badTimeout.code, 2);
      assert.match(badTimeout.stderr, /approvalTimeout must be a duration/);

      const profileFile = path.join(tmp, 'profile.toml');
      fs.writeFileSync(profileFile, 'python = "3.9"\ntest-arg = ["tests"]\n[env]\nAPI_TOKEN = "x"\n');
      const badProfile = await opsguard(['remediate', '--repo', repo, '--log', log, '--profile', profileFile], env);
      assert.equal(badProfile.code, 2);
      assert.match(badProfile.stderr, /profile\.toml: unknown key test-arg/);
      assert.match(badProfile.stderr, /profile\.toml: env\.API_TOKEN: looks like a secret/);
      const badPython = await opsguard(['remediate', '--repo', repo, '--log', log, '--python', 'three'], env);
      assert.equal(badPython.code, 2);
      assert.match(badPython.stderr, /profile\.python: a Python version such as "3\.11"/);

      const missingOption = await opsguard(['remediate', '--log', log], env);
      assert.equal(missingOption.code, 2);
      assert.match(missingOption.stderr, /required option '--repo <dir>' not specified/);
    });
  } finally {
    await model.close();
  }
});

test('opsguard --help lists every command and the exit codes; each command has its own --help', async () => {
  const help = await opsguard(['--help']);
  assert.equal(help.code, 0);
  for (const c of [
    'dev',
    'worker',
    'remediate',
    'status',
    'watch',
    'approve',
    'reject',
    'deliver',
    'cancel',
    'list',
    'artifacts',
    'audit',
    'demo',
  ]) {
    assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  }
  assert.match(
    help.stdout,
    /Exit codes: 0 ok, 2 bad usage or input, 3 Temporal or Docker unreachable, 4 unknown incident/,
  );
  const sub = await opsguard(['reject', '--help']);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /--reason <text>/);
});

test('opsguard demo --approve: the main job, end to end on the running server, with recorded answers', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-demo-'));
  const demo = await opsguard(['demo', '--approve'], { OPSGUARD_HOME: home, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  assert.match(demo.stdout, /\[MODEL\] OPENAI_API_KEY is not set: the model's answers come from the recorded script/);
  assert.match(demo.stdout, /\[SERVICES\] Temporal already running/);
  assert.match(demo.stdout, /Incident demo-config-loader-\S+: delivered\n/);
  // Delivered on a local bare remote the demo made: the branch and the commit are printed and real.
  const delivered = /\[DEMO\] delivered: branch (\S+) at commit ([0-9a-f]{40}) pushed to (\S+)/.exec(demo.stdout);
  assert.ok(delivered, demo.stdout);
  const [, branch, commit, remote] = delivered as unknown as [string, string, string, string];
  assert.equal(
    execFileSync('git', ['--git-dir', remote, 'rev-parse', `refs/heads/${branch}`], { encoding: 'utf8' }).trim(),
    commit,
  );
  assert.match(demo.stdout, /\+ {4}"user": "orders_app",/);
  assert.ok(fs.readdirSync(path.join(home, 'artifacts')).length === 1, 'artifacts under OPSGUARD_HOME');
});

test('opsguard dev: reuses the running server, runs a worker until interrupted, and stops cleanly', async () => {
  const child = execFile(process.execPath, [path.join(PROJECT_ROOT, 'client', 'bin.mjs'), 'dev'], {
    env: { ...process.env, TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS, OPSGUARD_TASK_QUEUE: `dev-${process.pid}` },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100 && !out.includes('[WORKER] polling'); i++) await new Promise((r) => setTimeout(r, 200));
  assert.match(out, /\[SERVICES\] Temporal already running at /);
  assert.match(out, new RegExp(`\\[WORKER\\] polling task queue 'dev-${process.pid}'`));
  child.kill('SIGINT');
  assert.equal(await exited, 0, 'a clean shutdown on Ctrl-C');
});

test('the launcher runs the bundle, rebuilds it when a source changes, and says what the source says', async () => {
  const current = path.join(PROJECT_ROOT, '.build', 'cli', 'current.json');
  const build = () => JSON.parse(fs.readFileSync(current, 'utf8')) as { dir: string; inputs: string[] };
  assert.equal((await opsguard(['--help'])).code, 0);
  const before = build();
  assert.ok(before.inputs.includes('client/cli.ts') && before.inputs.includes('client/commands/status.ts'));
  assert.ok(!before.inputs.some((i) => i.startsWith('node_modules/')), 'packages are not inputs (the lock is)');
  assert.ok(before.inputs.includes('package-lock.json'));

  // A source newer than the build (its content unchanged): the next command rebuilds first.
  const source = path.join(PROJECT_ROOT, 'client', 'user-error.ts');
  const future = new Date(Date.now() + 2000);
  fs.utimesSync(source, future, future);
  const help = await opsguard(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stderr, '', 'a rebuild is silent');
  assert.notEqual(build().dir, before.dir, 'rebuilt into a new folder');
  assert.equal(build().dir, build().dir);
  assert.ok(fs.existsSync(path.join(PROJECT_ROOT, '.build', 'cli', build().dir, 'cli.js')));

  // The bundle and the TypeScript source say the same (help of the program and of a command).
  for (const args of [['--help'], ['status', '--help'], ['remediate', '--help']]) {
    const fromSource = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(PROJECT_ROOT, 'client', 'cli.ts'), ...args],
        { env: process.env },
        (_err, stdout) => resolve(stdout),
      ),
    );
    assert.equal((await opsguard(args)).stdout, fromSource, args.join(' '));
  }
});

test('opsguard approve delivers and prints the branch; deliver retries only a failed delivery; approve --no-deliver', async () => {
  const model = await startScriptedModel([...turns, ...turns]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-cli-deliver-'));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], {
      cwd,
      encoding: 'utf8',
    }).trim();
  /** A git repository with a bare remote and a delivery profile. */
  const repository = (name: string) => {
    const repo = path.join(tmp, name);
    const remote = path.join(tmp, `${name}.git`);
    fs.cpSync(path.join(EXAMPLES, 'config-loader', 'repo'), repo, { recursive: true });
    fs.writeFileSync(path.join(repo, '.opsguard.toml'), '[delivery]\nremote = "origin"\nbase-branch = "main"\n');
    git(tmp, 'init', '-q', '--bare', '-b', 'main', remote);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'orders service');
    git(repo, 'remote', 'add', 'origin', remote);
    git(repo, 'push', '-q', 'origin', 'main');
    return { repo, remote };
  };
  const log = fs.readFileSync(path.join(EXAMPLES, 'config-loader', 'incident.log'), 'utf8');
  const activities = scriptedActivities(model.baseURL, tmp);
  try {
    await withWorker(activities, async ({ taskQueue }) => {
      const env = { OPSGUARD_TASK_QUEUE: taskQueue };
      const verified = async (repo: string) => {
        const started = await opsguard(['remediate', '--repo', repo, '--log', '-', '--wait'], env, log);
        assert.equal(started.code, 0, started.stderr);
        const id = started.stdout.split('\n')[0] ?? '';
        const status = JSON.parse((await opsguard(['status', id, '--json'], env)).stdout) as {
          result: { patchSha256: string };
        };
        return { id, hash: status.result.patchSha256 };
      };

      const a = repository('delivered');
      const one = await verified(a.repo);
      const approved = await opsguard(['approve', one.id, '--by', 'erin', '--patch-sha256', one.hash], env);
      assert.equal(approved.code, 0, approved.stdout + approved.stderr);
      const branch = `opsguard/${one.id}`;
      const commit = git(a.remote, 'rev-parse', `refs/heads/${branch}`);
      assert.match(
        approved.stdout,
        new RegExp(
          `delivered: branch ${branch} at ${commit.slice(0, 12)} \\(on the analysed commit [0-9a-f]{12}\\), pushed to origin`,
        ),
      );
      assert.match(approved.stdout, /note: no pull request: the remote is not on github\.com/);
      const shown = await opsguard(['status', one.id], env);
      assert.match(shown.stdout, new RegExp(`Incident ${one.id}: delivered[\\s\\S]*delivered: branch ${branch}`));
      const again = await opsguard(['deliver', one.id], env);
      assert.equal(again.code, 6, again.stdout + again.stderr);
      assert.match(
        again.stderr,
        /has ended \(completed\); only an incident waiting in delivery_failed can be delivered again/,
      );

      const b = repository('kept');
      const two = await verified(b.repo);
      const kept = await opsguard(['approve', two.id, '--by', 'erin', '--patch-sha256', two.hash, '--no-deliver'], env);
      assert.equal(kept.code, 0, kept.stdout + kept.stderr);
      assert.match(kept.stdout, new RegExp(`Incident ${two.id} approved by erin`));
      const after = await opsguard(['status', two.id], env);
      assert.match(after.stdout, /: approved\n[\s\S]*delivery: none — approved with --no-deliver/);
      assert.equal(git(b.remote, 'branch', '--list', `opsguard/${two.id}`), '');
      assert.equal(git(b.repo, 'branch', '--list', `opsguard/${two.id}`), '');
    });
  } finally {
    await model.close();
  }
});
