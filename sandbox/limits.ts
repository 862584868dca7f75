/**
 * Resource limits of one sandbox run. The defaults are the trust boundary's promise; the workflow
 * input may lower or raise them within the bounds below.
 */
export interface SandboxLimits {
  /** Memory in MiB; swap is set equal, so there is no extra swap. */
  memoryMb: number;
  /** CPU quota in cores (NanoCpus). */
  cpus: number;
  /** Wall-clock deadline: the container is killed when it passes. */
  timeoutSeconds: number;
  /** Maximum number of processes (fork-bomb guard). */
  pids: number;
  /** Bytes kept of each of stdout and stderr; the rest is counted and dropped. */
  outputBytes: number;
  /** Size of the writable /tmp (the root filesystem is read-only). */
  tmpfsMb: number;
  /**
   * Largest file a process may write (RLIMIT_FSIZE), in MiB. Bounds the one host file a guarded run
   * may write (its records), so a flood there cannot fill the host's disk.
   */
  fileSizeMb: number;
  /**
   * Block I/O weight (10-1000), unset by default. Kernels without the I/O controller drop it; the
   * daemon says so in create's Warnings, which OpsGuard surfaces rather than ignores.
   */
  ioWeight?: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryMb: 512,
  cpus: 1,
  timeoutSeconds: 60,
  pids: 128,
  outputBytes: 256 * 1024,
  tmpfsMb: 64,
  fileSizeMb: 64,
};

export function withDefaults(partial: Partial<SandboxLimits> | undefined): SandboxLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
