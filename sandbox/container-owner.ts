/**
 * Which worker process owns a sandbox container: `<host>/<pid>/<start>` in a label, where start is the
 * process's start time (seconds since the epoch, from /proc). The janitor removes a container whose
 * owner is a process of this host that no longer runs (its pid gone, or reused by a process that
 * started at another time); a container of a live worker, on this host or another, is never removed
 * before its deadline. Linux's /proc; elsewhere only the pid's existence is checked.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's start time (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** When process `pid` started (epoch seconds), or null when /proc cannot say. */
export function processStartSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? Math.round(btime + ticks / USER_HZ) : null;
  } catch {
    return null;
  }
}

let self: string | undefined;
/** This process's owner label value. */
export function ownerLabel(): string {
  return (self ??= `${os.hostname()}/${process.pid}/${processStartSeconds(process.pid) ?? 0}`);
}

/** The owner is a process of this host that has ended (false for other hosts: their janitors decide). */
export function ownerIsGone(label: string | undefined): boolean {
  const m = /^(.+)\/(\d+)\/(\d+)$/.exec(label ?? '');
  if (!m || m[1] !== os.hostname()) return false;
  const pid = Number(m[2]);
  const started = Number(m[3]);
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = processStartSeconds(pid);
  // The pid runs: the owner only if it started when the owner did (a reused pid started later).
  return now !== null && started !== 0 && Math.abs(now - started) > 2;
}
