/**
 * What a new plan changes, as a pure function of what the agent holds. The
 * agent never rewrites history: an item already audible is neither replaced nor
 * cut by a plan change (only a stop command or an emergency interrupts it).
 */
import type { PlanItem } from '@loaxa/protocol';
import type { OccurrencePhase } from '../occurrence/occurrence-runner';

export interface HeldItem {
  item: PlanItem;
  phase: OccurrencePhase;
}

export type PlanChange =
  | { kind: 'schedule'; item: PlanItem }
  /** Same occurrence, different content, not started yet. */
  | { kind: 'reschedule'; item: PlanItem }
  /** No longer planned and not started: withdraw it. */
  | { kind: 'cancel'; occurrenceId: string }
  /** No longer planned and over: drop it from memory. */
  | { kind: 'forget'; occurrenceId: string };

/** Which plan the agent holds: its version within the server database's epoch (PlanPayload.epoch). */
export interface PlanStamp {
  version: number;
  epoch?: string | undefined;
}

/**
 * A plan replaces the held one when it is not older within the same epoch. A
 * plan from another epoch (the server's database was restored or created
 * anew, so its counters restarted) always replaces it.
 */
export function acceptsPlan(held: PlanStamp | null, incoming: PlanStamp): boolean {
  if (held === null) return true;
  if ((incoming.epoch ?? null) !== (held.epoch ?? null)) return true;
  return incoming.version >= held.version;
}

export function diffPlan(held: ReadonlyMap<string, HeldItem>, items: readonly PlanItem[]): PlanChange[] {
  const changes: PlanChange[] = [];
  const planned = new Set<string>();
  for (const item of items) {
    planned.add(item.occurrenceId);
    const current = held.get(item.occurrenceId);
    if (!current) changes.push({ kind: 'schedule', item });
    else if (current.phase === 'pending' && !sameItem(current.item, item)) changes.push({ kind: 'reschedule', item });
  }
  for (const [occurrenceId, current] of held) {
    if (planned.has(occurrenceId)) continue;
    if (current.phase === 'pending') changes.push({ kind: 'cancel', occurrenceId });
    else if (current.phase === 'done') changes.push({ kind: 'forget', occurrenceId });
  }
  return changes;
}

function sameItem(a: PlanItem, b: PlanItem): boolean {
  // Payloads come from one JSON encoder with a fixed key order, so a string compare is exact enough.
  return JSON.stringify(a) === JSON.stringify(b);
}
