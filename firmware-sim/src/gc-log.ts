/**
 * The garbage collector's pauses in this process, kept for a while: a fleet process holds
 * thousands of simulated devices in one heap, and one pause in the middle of their start at a
 * shared instant delays every device after it. The benchmark asks which pauses fell inside the
 * window its devices started in, to tell that apart from the agents' own start path.
 */
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';

export interface GcPause {
  /** Date.now() time the pause began, with sub-ms resolution. */
  at: number;
  ms: number;
  kind: 'young' | 'old' | 'incremental' | 'weak callbacks';
}

const KINDS: Record<number, GcPause['kind']> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'young',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'old',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

/** Records every pause from now on, forgetting those older than `keepMs`; stop() ends it. */
export function startGcLog(keepMs = 300_000): { between(from: number, to: number): GcPause[]; stop(): void } {
  const pauses: GcPause[] = [];
  const observer = new PerformanceObserver((list) => {
    // Entries arrive within a turn or two of their pause: the wall clock's offset from the
    // monotonic one now (not at the process's start, which NTP may have slewed since).
    const offset = Date.now() - performance.now();
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
      const kind = KINDS[detail?.kind ?? -1] ?? 'old';
      pauses.push({ at: offset + entry.startTime, ms: entry.duration, kind });
    }
    const horizon = Date.now() - keepMs;
    while (pauses.length > 0 && pauses[0]!.at < horizon) pauses.shift();
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    /** Pauses overlapping [from, to] (Date.now() times). */
    between: (from, to) => pauses.filter((p) => p.at <= to && p.at + p.ms >= from),
    stop: () => observer.disconnect(),
  };
}
