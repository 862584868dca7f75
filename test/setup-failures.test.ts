import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../worker/settings';

// Each set-up step, aimed at a package source that refuses connections (127.0.0.1:9), must fail
// with a message naming the step and what to do, and leave nothing that looks installed.
const UNREACHABLE = 'http://127.0.0.1:9';

function runStep(step: string, env: Record<string, string>, args: string[] = []) {
  const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts/setup', `${step}.sh`), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, stderr: r.stderr };
}

function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `opsguard-${name}-`));
}

test('temporal-cli: an unreachable Go module proxy fails clearly and installs nothing', () => {
  const tools = tempDir('tools');
  const r = runStep('temporal-cli', {
    OPSGUARD_TOOLS_DIR: tools,
    GOPROXY: UNREACHABLE,
    GOMODCACHE: tempDir('gomodcache'), // an empty module cache, so nothing comes from a previous build
    GOFLAGS: '-mod=mod',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /\[setup:temporal-cli\] FAILED: go install github.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/,
  );
  assert.match(r.stderr, /What to do: check that the Go module proxy is reachable/);
  assert.deepEqual(fs.readdirSync(path.join(tools, 'bin')), [], 'no temporal binary');
  assert.deepEqual(
    fs.readdirSync(tools).filter((f) => f !== 'bin'),
    [],
    'no temporary build folder left',
  );
});

test('npm-deps: an unreachable npm registry fails clearly and leaves no node_modules', () => {
  const dir = tempDir('npm');
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, f));
  const r = runStep('npm-deps', {
    OPSGUARD_NPM_DIR: dir,
    OPSGUARD_STATE_DIR: tempDir('state'),
    npm_config_registry: `${UNREACHABLE}/`,
    npm_config_cache: tempDir('npmcache'), // an empty cache, so every tarball must come from the registry
    npm_config_fetch_retries: '0',
    npm_config_offline: 'false',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\[setup:npm-deps\] FAILED: npm ci could not install the dependencies/);
  assert.match(r.stderr, /What to do: check that the npm registry is reachable/);
  assert.equal(fs.existsSync(path.join(dir, 'node_modules')), false, 'node_modules removed');
});

test('sandbox-image: an unreachable Debian mirror fails clearly and tags no image', () => {
  const state = tempDir('state');
  const tag = `opsguard-test/unreachable-mirror:${process.pid}`;
  const r = runStep('sandbox-image', { OPSGUARD_STATE_DIR: state, OPSGUARD_DEBIAN_MIRROR: `${UNREACHABLE}/debian` }, [
    '--tag',
    tag,
    '--source',
    'debootstrap',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\[setup:sandbox-image\] FAILED: debootstrap could not fetch bookworm/);
  assert.match(r.stderr, /What to do: check that the Debian mirror is reachable/);
  const inspect = spawnSync('docker', ['image', 'inspect', tag]);
  assert.notEqual(inspect.status, 0, 'no image was tagged');
  assert.deepEqual(
    fs.readdirSync(state).filter((f) => f.startsWith('.rootfs')),
    [],
    'the half-built root filesystem was removed',
  );
});
