/**
 * What the benchmarks read from other processes (Linux /proc): resident memory,
 * proportional memory and CPU time of a process, or of a process and its
 * children (PostgreSQL's postmaster and its backends).
 */
import fs from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** Resident memory of another process, from /proc (Linux); 0 when it is gone. */
export function rssOfPid(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size (each shared page divided among the processes mapping it), bytes:
 * what a group of processes sharing memory (PostgreSQL's shared buffers) uses when summed; 0 when gone.
 */
export function pssOfPid(pid: number): number {
  try {
    const kb = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time (user + system) a process has used so far, seconds; 0 when it is gone. `reaped`: with
 * that of its children that have exited and been waited for (a postmaster's finished backends).
 */
export function cpuSecondsOfPid(pid: number, options: { reaped?: boolean } = {}): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // utime, stime (fields 14, 15), then cutime, cstime (16, 17)
    const ticks = fields[11]! + fields[12]! + (options.reaped ? fields[13]! + fields[14]! : 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** `pid` and its direct children (a postmaster's backends and workers). */
export function pidAndChildren(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return [pid, ...children];
}

/** CPU time the whole machine has spent busy so far (all cores; idle and iowait excluded), seconds. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // cpu  user nice system idle iowait irq softirq steal …
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS;
}

/** Memory the kernel could still give to processes without swapping (MemAvailable), bytes. */
export function machineAvailableBytes(): number {
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}
