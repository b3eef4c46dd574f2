/**
 * Overlap detection between a schedule being created or changed and the
 * schedules already on the calendar, per device. Pure; linear in the number
 * of intervals for each pair of schedules that share a device.
 */
export interface Booking {
  scheduleId: string;
  title: string;
  priority: 'normal' | 'priority' | 'emergency';
  deviceIds: readonly string[];
  /** [start, end) in UTC epoch ms, sorted by start, not overlapping each other. */
  intervals: readonly (readonly [number, number])[];
}

export interface Conflict {
  otherScheduleId: string;
  otherTitle: string;
  otherPriority: Booking['priority'];
  deviceIds: string[];
  start: number;
  end: number;
  otherStart: number;
  otherEnd: number;
}

export interface ConflictReport {
  conflicts: Conflict[];
  /** All overlaps found; `conflicts` holds at most `limit` of them. */
  total: number;
}

export function findConflicts(candidate: Booking, existing: readonly Booking[], limit = 100): ConflictReport {
  const mine = new Set(candidate.deviceIds);
  const conflicts: Conflict[] = [];
  let total = 0;
  for (const other of existing) {
    if (other.scheduleId === candidate.scheduleId) continue;
    const shared = other.deviceIds.filter((d) => mine.has(d));
    if (shared.length === 0) continue;
    let i = 0;
    let j = 0;
    const a = candidate.intervals;
    const b = other.intervals;
    while (i < a.length && j < b.length) {
      const [as, ae] = a[i]!;
      const [bs, be] = b[j]!;
      if (as < be && bs < ae) {
        total++;
        if (conflicts.length < limit) {
          conflicts.push({
            otherScheduleId: other.scheduleId,
            otherTitle: other.title,
            otherPriority: other.priority,
            deviceIds: shared,
            start: as,
            end: ae,
            otherStart: bs,
            otherEnd: be,
          });
        }
      }
      if (ae <= be) i++;
      else j++;
    }
  }
  conflicts.sort((x, y) => x.start - y.start);
  return { conflicts, total };
}

/** Intervals of a programme of `durationMs` at each start. */
export function intervalsOf(starts: readonly number[], durationMs: number): [number, number][] {
  return starts.map((s) => [s, s + durationMs]);
}
