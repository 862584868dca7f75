/**
 * Sandbox abuse, at two layers on the real Docker engine:
 * - through the real reproduction activity (the RunSummary asserted here is exactly what the
 *   workflow receives): OpsGuard's guarded runner often stops the abuse first (the tripwire ends a
 *   script that forks or reads /proc; RLIMIT_DATA turns a memory bomb into MemoryError);
 * - as a raw container with no runner at all (`rawRun`): what the container's limits contain on
 *   their own, which is what holds if the guard were bypassed.
 * Each case checks the reported outcome, that the host is untouched, and that no container is left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { createActivities } from '../activities';
import { sha256 } from '../activities/incident-paths';
import { dockerFromEnv } from '../sandbox/docker-client';
import { IN_CONTAINER, SANDBOX_ENV } from '../sandbox/guarded-run';
import { INCIDENT_LABEL, SANDBOX_LABEL } from '../sandbox/labels';
import { withDefaults } from '../sandbox/limits';
import { runInSandbox, SandboxContainer } from '../sandbox/run-container';
import type { SandboxResult } from '../sandbox/run-container';
import { fixRunVerdict } from '../workflows/fix-gate';
import { reproductionRunVerdict } from '../workflows/reproduction-gate';
import type { RunSummary } from '../workflows/incident-types';
import { sandboxImage } from './support/docker';
import { EXAMPLES, hashTree, testEnvironment, testRepositories } from './support/remediation-harness';

const docker = dockerFromEnv();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-abuse-'));
const roots = { artifactsDir: path.join(root, 'artifacts'), workDir: path.join(root, 'work') };
const activities = createActivities({
  docker,
  ...roots,
  defaultImage: sandboxImage(),
  environment: testEnvironment(path.join(root, 'cache')),
  repositories: testRepositories(),
});
const INCIDENT = { type: 'KeyError', location: { file: 'app/config_loader.py', func: 'database_url' } };

let n = 0;
async function incident(prepare?: (repo: string) => void): Promise<{ id: string; original: string }> {
  const id = `abuse-${process.pid}-${++n}`;
  const original = path.join(root, `original-${n}`);
  fs.cpSync(path.join(EXAMPLES, 'config-loader', 'repo'), original, { recursive: true });
  prepare?.(original);
  await activities.setupWorkspace({ incidentId: id, repoPath: original, errorLog: "KeyError: 'user'" });
  return { id, original };
}

async function runScript(
  id: string,
  script: string,
  limits?: { memoryMb?: number; timeoutSeconds?: number },
): Promise<RunSummary> {
  const scriptPath = path.join(roots.artifactsDir, id, `script-${++n}.py`);
  fs.mkdirSync(path.dirname(scriptPath), { recursive: true });
  fs.writeFileSync(scriptPath, script);
  return await activities.runReproduction({
    incidentId: id,
    scriptPath,
    scriptSha256: sha256(script),
    step: 'reproduce',
    attempt: n,
    limits,
  });
}

/** The same script as plain `python3 -c` in a container with the default hardening, no runner, no guard. */
async function rawRun(
  id: string,
  script: string,
  limits?: { memoryMb?: number; timeoutSeconds?: number },
): Promise<SandboxResult> {
  return await runInSandbox(docker, {
    image: sandboxImage(),
    argv: ['python3', '-c', script],
    env: SANDBOX_ENV,
    workdir: IN_CONTAINER.workspace,
    mounts: [
      { hostPath: path.join(roots.workDir, id, 'workspace'), containerPath: IN_CONTAINER.workspace, readOnly: true },
    ],
    limits: withDefaults(limits),
    incidentId: id,
    purpose: 'abuse',
  });
}

afterEach(async () => {
  // Only this file's containers (incident ids abuse-<pid>-N): other tests or workers may be busy.
  const left = (await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } })).filter((c) =>
    (c.Labels[INCIDENT_LABEL] ?? '').startsWith(`abuse-${process.pid}-`),
  );
  assert.equal(left.length, 0, `containers left behind: ${left.map((c) => c.Id.slice(0, 12)).join(', ')}`);
});

const FORK_BOMB = 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n';

test('fork bomb: the guard ends it at the first fork; without the guard the pids limit and the deadline contain it', async () => {
  const { id } = await incident();
  const run = await runScript(id, FORK_BOMB, { timeoutSeconds: 5 });
  assert.equal(run.tripwire?.event, 'os.fork');
  assert.equal(run.tripwire?.kind, 'script');
  assert.equal(run.ranToEnd, null, 'ended by the guard: no signed outcome');
  assert.match(
    reproductionRunVerdict(run, INCIDENT).reason,
    /the guard ended the run: the reproduction script .* raised os\.fork/,
  );

  const raw = await rawRun(id, FORK_BOMB, { timeoutSeconds: 5 });
  assert.equal(raw.timedOut, true);
  assert.equal(raw.limits.pids, 128);
  assert.equal(spawnSync('true').status, 0, 'the host can still start processes');
});

const MEMORY_BOMB = "chunks = []\nwhile True:\n    chunks.append(b'x' * 10_000_000)\n";

test('memory bomb: MemoryError under the runner; without it the container is killed as out of memory', async () => {
  const { id } = await incident();
  const run = await runScript(id, MEMORY_BOMB, { memoryMb: 128, timeoutSeconds: 30 });
  assert.equal(run.exception?.type, 'MemoryError', 'the runner limits Python below the container');
  assert.equal(run.oomKilled, false);
  assert.match(fixRunVerdict(run).reason, /still fails .* MemoryError/);

  const raw = await rawRun(id, MEMORY_BOMB, { memoryMb: 128, timeoutSeconds: 30 });
  assert.equal(raw.oomKilled, true);
  assert.equal(raw.exitCode, 137);
  assert.equal(raw.timedOut, false);
  assert.match(
    fixRunVerdict({ ...run, ...raw, exception: null, ranToEnd: null, tripwire: null }).reason,
    /exceeding 128 MiB of memory \(out of memory\)/,
  );
});

test('infinite loop: killed at the deadline and reported as timed out', async () => {
  const { id } = await incident();
  const run = await runScript(id, 'while True:\n    pass\n', { timeoutSeconds: 3 });
  assert.equal(run.timedOut, true);
  assert.ok(run.durationMs >= 3000 && run.durationMs < 20_000, `${run.durationMs} ms`);
  assert.match(fixRunVerdict(run).reason, /killed at its 3 s deadline/);
});

test('stdout flood: capped, flagged truncated, and the runner outcome still arrives', async () => {
  const { id } = await incident();
  const run = await runScript(
    id,
    "import sys\nfor _ in range(800):\n    sys.stdout.write('x' * 65536)\nsys.stderr.write('y' * 5_000_000)\nfrom app.config_loader import database_url\ndatabase_url({})\n",
    { timeoutSeconds: 60 },
  );
  assert.equal(run.outputTruncated, true);
  const saved = fs.statSync(run.stdoutPath).size;
  assert.ok(saved < 1024 * 1024, `stdout kept on disk: ${saved} bytes for ~52 MB written`);
  assert.equal(run.ranToEnd, false, 'the outcome line survived the flood (it is in the kept tail)');
  assert.equal(run.exception?.type, 'KeyError');
  assert.equal(reproductionRunVerdict(run, INCIDENT).passed, true);
});

/** Bytes under a folder, walked now (0 once it is gone). */
function folderBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      total += e.isDirectory() ? folderBytes(p) : fs.lstatSync(p).size;
    } catch {
      // removed while walked
    }
  }
  return total;
}

test("stdout flood, raw: the engine keeps no copy of the output on the host's disk, and ours stays capped", async () => {
  // Docker's default log driver (json-file, no size limit) writes every byte a container prints
  // under the engine's root until the container is removed: hundreds of MB a second, a way out of
  // every cap of ours to fill the host's disk. The sandbox's containers have no log driver.
  const { id } = await incident();
  const engineRoot = String(((await docker.info()) as { DockerRootDir?: string }).DockerRootDir);
  const flood =
    "import sys, time\nline = 'x' * 65535 + '\\n'\nend = time.time() + 3\nwhile time.time() < end:\n    sys.stdout.write(line)\n";
  const sandbox = await SandboxContainer.create(docker, {
    image: sandboxImage(),
    argv: ['python3', '-c', flood],
    env: SANDBOX_ENV,
    limits: withDefaults({ timeoutSeconds: 30 }),
    incidentId: id,
    purpose: 'abuse',
  });
  let run: SandboxResult;
  let largest = 0;
  try {
    const folder = path.join(engineRoot, 'containers', sandbox.id);
    assert.ok(
      fs.existsSync(folder),
      `NOT RUN: the engine's folder for the container (${folder}) cannot be seen from here; this test needs the engine on this host and read access to its root`,
    );
    const info = await docker.getContainer(sandbox.id).inspect();
    assert.equal(info.HostConfig.LogConfig?.Type, 'none', 'the container has no log driver');
    await sandbox.start();
    const watch = setInterval(() => (largest = Math.max(largest, folderBytes(folder))), 100);
    run = await sandbox.run().finally(() => clearInterval(watch));
  } finally {
    await sandbox.remove(); // only when a check above stopped it before its run
  }
  assert.equal(run.exitCode, 0, run.stderr.slice(-500));
  assert.ok(run.stdoutBytes > 50 * 1024 * 1024, `it really flooded: ${run.stdoutBytes} bytes printed`);
  assert.equal(run.stdoutTruncated, true);
  const cap = withDefaults(undefined).outputBytes;
  assert.ok(
    run.stdout.length <= cap + 64 * 1024 + 200,
    `our copy is capped (head, marker, tail): ${run.stdout.length}`,
  );
  assert.ok(
    largest < 1024 * 1024,
    `the engine's folder for the container held ${largest} bytes during a flood of ${run.stdoutBytes}`,
  );
});

test('/tmp fill: the tmpfs is full at its size; nothing reaches the host disk', async () => {
  const { id } = await incident();
  const before = fs.statfsSync(os.tmpdir());
  const run = await runScript(
    id,
    "with open('/tmp/fill', 'wb') as f:\n    for _ in range(200):\n        f.write(b'0' * 1_048_576)\n",
  );
  assert.equal(run.ranToEnd, false);
  assert.equal(run.exception?.type, 'OSError');
  // Whichever bound comes first: the 64 MiB tmpfs, or the 64 MiB file-size limit (RLIMIT_FSIZE).
  assert.match(run.exception?.message ?? '', /No space left on device|File too large/);
  const after = fs.statfsSync(os.tmpdir());
  assert.ok((before.bavail - after.bavail) * before.bsize < 50 * 1024 * 1024, 'the host lost no space to it');
});

test('network egress: no interface but loopback, no route, no DNS', async () => {
  const { id } = await incident();
  const raw = await rawRun(
    id,
    [
      'import socket',
      'print(sorted(n for _, n in socket.if_nameindex()))',
      "print(open('/proc/net/route').read().strip().count('\\n'))",
      'try:',
      "    socket.getaddrinfo('deb.debian.org', 80)",
      "    print('dns: resolved')",
      'except OSError as e:',
      "    print('dns:', type(e).__name__)",
      '# 192.0.2.0/24 is TEST-NET-1: with no route, the kernel refuses before any packet exists',
      "socket.create_connection(('192.0.2.1', 80), timeout=3)",
    ].join('\n'),
  );
  assert.deepEqual(raw.stdout.trim().split('\n'), ["['lo']", '0', 'dns: gaierror']);
  assert.match(raw.stderr, /OSError: \[Errno 101\] Network is unreachable/);
  // Through the runner the same attempt fails the same way (reading /proc is the tripwire's, so not here).
  const run = await runScript(id, "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=3)\n");
  assert.equal(run.exception?.type, 'OSError');
  assert.match(run.exception?.message ?? '', /Network is unreachable/);
});

test('write into the workspace: read-only; the host workspace, its shared baseline and the original are unchanged', async () => {
  const { id, original } = await incident();
  const workspace = path.join(roots.workDir, id, 'workspace');
  const baseline = path.join(roots.workDir, id, 'baseline');
  const before = hashTree(workspace);
  const baselineBefore = hashTree(baseline);
  const originalBefore = hashTree(original);
  const run = await runScript(id, "open('/workspace/app/config_loader.py', 'a').write('pwned = True\\n')\n");
  // Two layers: the user is not the files' owner, and the mount itself is read-only.
  assert.ok(run.exception?.mro.includes('OSError'), run.exception?.type);
  assert.match(run.exception?.message ?? '', /Permission denied|Read-only file system/);
  const raw = await rawRun(id, "print([l for l in open('/proc/mounts') if ' /workspace ' in l][0])");
  assert.match(raw.stdout, / \/workspace \S+ ro[,\s]/);
  assert.equal(hashTree(workspace), before);
  assert.equal(hashTree(baseline), baselineBefore);
  assert.equal(hashTree(original), originalBefore);
});

test("reading the host's environment: nothing of the worker's environment is inside", async () => {
  const canary = `opsguard-env-canary-${process.pid}`;
  process.env.OPSGUARD_TEST_CANARY = canary;
  try {
    const { id } = await incident();
    const run = await runScript(id, 'import os, json\nprint(json.dumps(dict(os.environ)))\n');
    const env = JSON.parse(fs.readFileSync(run.stdoutPath, 'utf8')) as Record<string, string>;
    assert.equal(env.HOME, '/tmp');
    assert.deepEqual(Object.keys(env).sort(), [
      'HOME',
      'HOSTNAME',
      'LANG',
      'PATH',
      'PYTHONDONTWRITEBYTECODE',
      'PYTHONUNBUFFERED',
    ]);
    assert.ok(!JSON.stringify(env).includes(canary));
    assert.equal(process.getuid?.() === 0 ? env.USER : undefined, undefined);
  } finally {
    delete process.env.OPSGUARD_TEST_CANARY;
  }
});

test('a symlink in the repo pointing outside it is not followed by the copy; nothing outside leaks in', async () => {
  const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-host-secret-'));
  const canary = `host-secret-${process.pid}`;
  fs.writeFileSync(path.join(secretDir, 'secret.txt'), canary);
  const { id } = await incident((repo) => {
    fs.symlinkSync(path.join(secretDir, 'secret.txt'), path.join(repo, 'leak-absolute'));
    fs.symlinkSync(
      path.relative(path.join(repo, 'app'), path.join(secretDir, 'secret.txt')),
      path.join(repo, 'app', 'leak-relative'),
    );
    fs.symlinkSync(secretDir, path.join(repo, 'leak-dir'));
  });
  const workspace = path.join(roots.workDir, id, 'workspace');
  for (const p of ['leak-absolute', 'app/leak-relative', 'leak-dir']) {
    assert.equal(fs.existsSync(path.join(workspace, p)), false, `${p} not in the workspace`);
  }
  const run = await runScript(
    id,
    "import os\nfor p in ['/workspace/leak-absolute', '/workspace/app/leak-relative', '/workspace/leak-dir/secret.txt']:\n    print(p, os.path.exists(p))\nprint(open('/workspace/leak-absolute').read())\n",
  );
  assert.equal(run.exception?.type, 'FileNotFoundError');
  const out = fs.readFileSync(run.stdoutPath, 'utf8') + fs.readFileSync(run.stderrPath, 'utf8');
  assert.ok(!out.includes(canary), 'the host file never reached the container');
  assert.match(out, /leak-absolute False/);
});
