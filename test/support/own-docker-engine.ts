/**
 * A Docker engine of a test's own: a second `dockerd` with its own socket, data root, exec root,
 * pidfile and bridge (made here, removed after; no iptables), so stopping it disturbs no other test or
 * worker on the machine. Never `--bridge=none`: with it dockerd deletes the host's `docker0`, the main
 * engine's bridge. The sandbox image is copied into it from the main engine.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface OwnEngine {
  /** DOCKER_HOST for it. */
  host: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `docker` against it. */
  docker(...args: string[]): string;
  /** Stop it and remove its folders. */
  remove(): Promise<void>;
}

/** End every process whose command line names `dir` (this engine's shims; nothing else names it). */
function killProcessesNaming(dir: string): void {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    if (Number(pid) !== process.pid && cmdline.includes(`${dir}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* ended meanwhile */
      }
    }
  }
}

export async function startOwnEngine(dir: string, images: string[]): Promise<OwnEngine> {
  const bridge = `ogt${process.pid}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
  // Bridges of earlier runs whose test process has ended (killed before it could remove its own).
  for (const name of execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).match(/\bogt\d+(?=:)/g) ?? []) {
    const pid = Number(name.slice(3));
    let alive = pid === process.pid;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      /* gone */
    }
    if (!alive || name === bridge) ip('link', 'del', name);
  }
  ip('link', 'add', 'name', bridge, 'type', 'bridge');
  ip('addr', 'add', `10.213.${process.pid % 250}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  const sock = path.join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  let child: ChildProcess | undefined;
  const docker = (...args: string[]) =>
    execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const answers = () => {
    try {
      docker('info', '--format', '{{.ServerVersion}}');
      return true;
    } catch {
      return false;
    }
  };
  const engine: OwnEngine = {
    host,
    docker,
    async start() {
      const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
      child = spawn(
        'dockerd',
        [
          '--data-root',
          path.join(dir, 'data'),
          '--exec-root',
          path.join(dir, 'exec'),
          '--pidfile',
          path.join(dir, 'docker.pid'),
          '-H',
          host,
          `--bridge=${bridge}`,
          '--iptables=false',
          '--ip-masq=false',
        ],
        { stdio: ['ignore', log, log] },
      );
      fs.closeSync(log);
      for (let i = 0; i < 150 && !answers(); i++) await new Promise((r) => setTimeout(r, 200));
      if (!answers()) throw new Error(`the test's own dockerd did not start (log: ${path.join(dir, 'dockerd.log')})`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const gone = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    async remove() {
      try {
        await engine.stop();
        // A container shim outlives its engine by design (it was running a container when dockerd
        // stopped); with the engine's folders gone nothing would ever end it.
        killProcessesNaming(dir);
        fs.rmSync(dir, { recursive: true, force: true });
      } finally {
        ip('link', 'del', bridge);
      }
    },
  };
  fs.mkdirSync(dir, { recursive: true });
  await engine.start();
  for (const image of images)
    execFileSync('bash', ['-c', `docker save ${image} | docker -H ${host} load`], { stdio: 'ignore' });
  return engine;
}
