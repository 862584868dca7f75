/**
 * How fast this machine is for OpsGuard's work right now: the machine CPU one hardened sandbox
 * container costs when it runs `true` (create, start, wait, remove; dockerd, containerd, runc and the
 * kernel together), one after another. On a shared VM this moves by a third between hours, so the
 * throughput benchmark reports it beside its figures: an incident runs 8 such containers before any
 * Python, and 60 incidents a minute on 2 cores allow 2 CPU-seconds each in all. It counts all of
 * the machine's CPU while it runs, so like the benchmark itself it wants an otherwise idle machine.
 */
import type Docker from 'dockerode';
import { DEFAULT_LIMITS } from '../sandbox/limits';
import { runInSandbox } from '../sandbox/run-container';
import { machineBusySeconds } from './proc-stats';
import { summary } from './stats';

export interface ContainerFloor {
  runs: number;
  /** Machine CPU per container, ms (all processes, all cores). */
  cpuMs: number;
  wallMs: ReturnType<typeof summary>;
}

export async function containerFloor(docker: Docker, image: string, runs = 10): Promise<ContainerFloor> {
  const once = async () => {
    const r = await runInSandbox(docker, { image, argv: ['true'], limits: DEFAULT_LIMITS, purpose: 'bench-floor' });
    if (r.exitCode !== 0)
      throw new Error(`the floor probe's container exited ${r.exitCode}: ${r.stderr.slice(0, 200)}`);
  };
  await once(); // the image's layers in the page cache
  const walls: number[] = [];
  const busy0 = machineBusySeconds();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    walls.push(Math.round(performance.now() - t0));
  }
  return { runs, cpuMs: Math.round(((machineBusySeconds() - busy0) / runs) * 1000), wallMs: summary(walls) };
}
