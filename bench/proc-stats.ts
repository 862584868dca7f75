/** What the benchmarks read of processes and the machine from /proc (Linux): memory, CPU time. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS = 100; // USER_HZ: /proc's CPU times are in 1/100 s

/** Resident memory of a process (MiB), 0 once it is gone. */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return status ? Number(status[1]) / 1024 : 0;
}
/** CPU seconds a process (and its waited-for children) has used. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i] ?? 0), 0) / TICKS;
}
/** The machine's busy CPU seconds (all cores). */
export function machineBusySeconds(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return (cpu.reduce((a, b) => a + b, 0) - idle) / TICKS;
}
export const pidsOf = (pattern: string): number[] => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
export const sumCpu = (pids: number[]) =>
  pids.reduce((a, p) => {
    try {
      return a + cpuSeconds(p);
    } catch {
      return a;
    }
  }, 0);
