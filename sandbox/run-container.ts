import type Docker from 'dockerode';
import { CappedBuffer } from './capped-buffer';
import { removeOrOwe } from './owed-removals';
import { DEADLINE_LABEL, INCIDENT_LABEL, OWNER_LABEL, PURPOSE_LABEL, SANDBOX_LABEL } from './labels';
import { ownerLabel } from './container-owner';
import type { SandboxLimits } from './limits';

/** A host path bound into the container. Everything OpsGuard mounts is read-only by default. */
export interface SandboxMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

export interface SandboxRunSpec {
  image: string;
  argv: string[];
  workdir?: string;
  mounts?: SandboxMount[];
  /**
   * 'none' (the default, every run of the code under test) or 'bridge': only the dependency
   * preparation container reaches a network (the package index).
   */
  network?: 'none' | 'bridge';
  /** The container's whole environment: nothing of the host's is passed in. */
  env?: Record<string, string>;
  limits: SandboxLimits;
  /** Shown on the container as io.opsguard.incident / io.opsguard.purpose. */
  incidentId?: string;
  purpose?: string;
  /** Aborting kills the container (activity cancellation). */
  signal?: AbortSignal;
  /**
   * Written to the container's stdin once it has started (the run key of a guarded run). Nothing else
   * carries it: not argv, not the environment, not a file.
   */
  stdin?: string;
}

export interface SandboxResult {
  /** The process's exit status (137 when killed: timeout, OOM or cancellation). */
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  oomKilled: boolean;
  cancelled: boolean;
  durationMs: number;
  imageId: string;
  /** Limits the daemon reported it could not enforce (create's Warnings). */
  warnings: string[];
  limits: SandboxLimits;
}

/** Slack past a run's deadline before the janitor may remove its container. */
export const JANITOR_GRACE_SECONDS = 60;

/** The user the code under test runs as: nobody, not root. */
export const SANDBOX_USER = '65534:65534';

/** Turn limits and mounts into Docker's HostConfig: the whole hardening policy is here. */
export function hostConfigFor(spec: SandboxRunSpec): Docker.HostConfig {
  const { limits } = spec;
  const memoryBytes = limits.memoryMb * 1024 * 1024;
  return {
    NetworkMode: spec.network ?? 'none',
    Memory: memoryBytes,
    MemorySwap: memoryBytes, // equal to Memory: no swap on top (unset would mean 2x)
    NanoCpus: Math.round(limits.cpus * 1e9),
    PidsLimit: limits.pids,
    ReadonlyRootfs: true,
    Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpfsMb}m,mode=1777` },
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Binds: (spec.mounts ?? []).map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly === false ? 'rw' : 'ro'}`),
    Ulimits: [{ Name: 'fsize', Soft: limits.fileSizeMb * 1024 * 1024, Hard: limits.fileSizeMb * 1024 * 1024 }],
    ...(limits.ioWeight ? { BlkioWeight: limits.ioWeight } : {}),
    // The engine keeps no copy of the output. Its default driver (json-file, no size limit) wrote
    // every byte a run printed under /var/lib/docker until the container was removed: 500 MB in 4 s
    // of printing, past every cap of ours, and a disk-fill route out of the sandbox. OpsGuard reads
    // the output from the attach stream alone (capped in CappedBuffer), never from `docker logs`.
    LogConfig: { Type: 'none', Config: {} },
    AutoRemove: false, // removed in our finally, after we have read its state
  };
}

interface CreateResponse {
  Id: string;
  Warnings: string[] | null;
}

/** POST /containers/create directly: dockerode's createContainer drops the daemon's Warnings. */
function createWithWarnings(docker: Docker, options: Docker.ContainerCreateOptions): Promise<CreateResponse> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/containers/create?',
        method: 'POST',
        options,
        statusCodes: {
          200: true,
          201: true,
          400: 'bad parameter',
          404: 'no such image',
          409: 'conflict',
          500: 'server error',
        },
      },
      (err, data) => (err ? reject(err) : resolve(data as CreateResponse)),
    );
  });
}

/**
 * One fresh container, in three steps: created (image, mounts, limits and labels set, output
 * attached), started, run (stdin written, deadline armed, waited for, removed in every outcome).
 * runInSandbox does all three at once; warm-containers.ts does the first two ahead of time, for a
 * process that waits on its stdin until the run is released.
 */
export class SandboxContainer {
  private readonly stdout: CappedBuffer;
  private readonly stderr: CappedBuffer;
  private removed = false;

  private constructor(
    private readonly spec: SandboxRunSpec,
    private readonly container: Docker.Container,
    private readonly warnings: string[],
    private readonly stream: NodeJS.ReadWriteStream,
    private readonly streamEnded: Promise<void>,
    buffers: { stdout: CappedBuffer; stderr: CappedBuffer },
  ) {
    this.stdout = buffers.stdout;
    this.stderr = buffers.stderr;
  }

  /**
   * Create the container and attach to its output (before start, so no early output is lost).
   * `holdSeconds`: how long it may wait before its run; the janitor's deadline label counts it.
   */
  static async create(docker: Docker, spec: SandboxRunSpec, holdSeconds = 0): Promise<SandboxContainer> {
    const now = Math.ceil(Date.now() / 1000);
    const labels: Record<string, string> = {
      [SANDBOX_LABEL]: '1',
      [OWNER_LABEL]: ownerLabel(),
      // Past this, no live run can own the container (its own timer would have killed it).
      [DEADLINE_LABEL]: String(now + holdSeconds + spec.limits.timeoutSeconds + JANITOR_GRACE_SECONDS),
    };
    if (spec.incidentId) labels[INCIDENT_LABEL] = spec.incidentId;
    if (spec.purpose) labels[PURPOSE_LABEL] = spec.purpose;
    const withStdin = spec.stdin !== undefined;
    const created = await createWithWarnings(docker, {
      Image: spec.image,
      Cmd: spec.argv,
      WorkingDir: spec.workdir,
      Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
      User: SANDBOX_USER,
      Tty: false,
      OpenStdin: withStdin,
      StdinOnce: withStdin,
      AttachStdin: withStdin,
      AttachStdout: true,
      AttachStderr: true,
      NetworkDisabled: (spec.network ?? 'none') === 'none',
      Labels: labels,
      HostConfig: hostConfigFor(spec),
    });
    const container = docker.getContainer(created.Id);
    try {
      // With stdin the connection is hijacked (duplex).
      const stream = await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        ...(withStdin ? { stdin: true, hijack: true } : {}),
      });
      const streamEnded = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      const buffers = {
        stdout: new CappedBuffer(spec.limits.outputBytes),
        stderr: new CappedBuffer(spec.limits.outputBytes),
      };
      docker.modem.demuxStream(stream, buffers.stdout, buffers.stderr);
      return new SandboxContainer(spec, container, created.Warnings ?? [], stream, streamEnded, buffers);
    } catch (err) {
      await removeOrOwe(container);
      throw err;
    }
  }

  get id(): string {
    return this.container.id;
  }

  /** Start the process. With stdin it waits there until run() writes the run's input. */
  async start(): Promise<void> {
    try {
      await this.container.start();
    } catch (err) {
      await this.remove();
      throw err;
    }
  }

  /**
   * Release the run: write stdin, arm the deadline, wait for the exit, read the state. The container
   * is removed in every outcome; the duration counts from here, not from create or start.
   */
  async run(input: { stdin?: string; signal?: AbortSignal } = {}): Promise<SandboxResult> {
    const { spec, container } = this;
    const started = Date.now();
    let timedOut = false;
    let cancelled = false;
    let deadline: NodeJS.Timeout | undefined;
    const kill = () => container.kill().catch(() => undefined); // already exited: nothing to kill
    const onAbort = () => {
      cancelled = true;
      void kill();
    };
    try {
      if (input.stdin !== undefined) this.stream.write(input.stdin);
      deadline = setTimeout(() => {
        timedOut = true;
        void kill();
      }, spec.limits.timeoutSeconds * 1000);
      input.signal?.addEventListener('abort', onAbort, { once: true });
      if (input.signal?.aborted) onAbort();

      const waited = (await container.wait()) as { StatusCode: number };
      clearTimeout(deadline);
      // The attach stream may deliver its last frames just after the process exits.
      await Promise.race([this.streamEnded, new Promise((r) => setTimeout(r, 2000))]);
      const info = await container.inspect();
      return {
        exitCode: waited.StatusCode,
        stdout: this.stdout.text(),
        stderr: this.stderr.text(),
        stdoutBytes: this.stdout.totalBytes,
        stderrBytes: this.stderr.totalBytes,
        stdoutTruncated: this.stdout.truncated,
        stderrTruncated: this.stderr.truncated,
        timedOut,
        oomKilled: info.State.OOMKilled,
        cancelled,
        durationMs: Date.now() - started,
        imageId: info.Image,
        warnings: this.warnings,
        limits: spec.limits,
      };
    } finally {
      clearTimeout(deadline);
      input.signal?.removeEventListener('abort', onAbort);
      await this.remove();
    }
  }

  /** Whether its process is still up (a started container waiting for its run). */
  async running(): Promise<boolean> {
    if (this.removed) return false;
    const info = await this.container.inspect().catch(() => null);
    return info?.State.Running === true;
  }

  /** Kill and remove it (gone already is fine; an engine that does not answer is owed it). */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await removeOrOwe(this.container);
    // A container removed before it ran (or while the engine was away) may leave its attach
    // connection open: close it, or the socket outlives the container.
    (this.stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
  }
}

/**
 * Run one command in a fresh container and remove it in every outcome. stdout and stderr come back
 * separately (Tty off, demultiplexed), each capped; the deadline kills the container.
 */
export async function runInSandbox(docker: Docker, spec: SandboxRunSpec): Promise<SandboxResult> {
  const sandbox = await SandboxContainer.create(docker, spec);
  await sandbox.start();
  return await sandbox.run({ stdin: spec.stdin, signal: spec.signal });
}
