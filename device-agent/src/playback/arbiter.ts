/**
 * Who plays when two items want the loudspeaker (Circular 39/2020/TT-BTTTT):
 * emergency interrupts whatever plays; priority goes ahead of waiting normal
 * items; normal items play in order. Pure, so the rules are tested by table.
 */
import type { Priority } from '@loaxa/protocol';

export interface Contender {
  occurrenceId: string;
  priority: Priority;
  /** Planned start by the device clock. */
  startAt: number;
  /** Arrival order, the last tie-breaker. */
  seq: number;
  /**
   * Plays after this occurrence when that one is playing or waiting here, even as an
   * emergency (a notice's later language version after the one before it).
   */
  after?: string;
}

export type Admission = 'start' | 'preempt' | 'wait';

const RANK: Record<Priority, number> = { normal: 0, priority: 1, emergency: 2 };

export function admit(current: Contender | null, incoming: Contender): Admission {
  if (!current) return 'start';
  if (incoming.after !== undefined && incoming.after === current.occurrenceId) return 'wait';
  // A newer emergency also interrupts an older one: the latest warning is the one that matters.
  if (incoming.priority === 'emergency') return 'preempt';
  return 'wait';
}

/** Index of the waiting item to play next, or -1 when none waits. An item waits for the one it comes after. */
export function nextInLine(waiting: readonly Contender[]): number {
  let best = -1;
  for (let i = 0; i < waiting.length; i++) {
    const candidate = waiting[i]!;
    if (candidate.after !== undefined && waiting.some((w) => w.occurrenceId === candidate.after)) continue;
    const incumbent = best >= 0 ? waiting[best]! : undefined;
    if (!incumbent || ahead(candidate, incumbent)) best = i;
  }
  return best;
}

function ahead(a: Contender, b: Contender): boolean {
  if (RANK[a.priority] !== RANK[b.priority]) return RANK[a.priority] > RANK[b.priority];
  // Among emergencies the newest wins; otherwise earliest planned start, then arrival.
  if (a.priority === 'emergency') return a.seq > b.seq;
  if (a.startAt !== b.startAt) return a.startAt < b.startAt;
  return a.seq < b.seq;
}
