import type { AckStage } from '@loaxa/protocol';
import { isFinalStage } from '../ack/ack-reporter';

/** What the ack journal says an occurrence reached before the agent died. */
export interface JournalledOccurrence {
  stages: readonly AckStage[];
  /** Device-clock time of its newest journal record. */
  at: number;
  /** Device-clock instant from which its audio may have been heard (journalled before it could start). */
  armedAt?: number;
}

/** The final ack to send for an occurrence the previous run left part-way; null when there is none to send. */
export type Recovery = { stage: 'preempted' | 'failed'; detail: string } | null;

export const CUT_BY_RESTART = 'cut off by an agent restart while playing; not played again';
export const ARMED_AT_RESTART =
  'agent restarted as it was starting to play (power cut or crash); not played again, as it may have been partly heard';

/**
 * After a restart, before any plan is applied: an occurrence that may have
 * been audible when the agent died is closed with a final ack instead of being
 * played again from the top. Anything that cannot have been heard yet (no arm,
 * or armed for an instant still ahead of the device clock) is left to run.
 *
 * The journal's order of writes makes this exact: an item is armed, durably,
 * before its audio can start, and "started" is journalled as it starts, so an
 * item whose start the previous run did not live to journal is still armed.
 * A device clock now behind the journal's own records (a Pi without a
 * real-time clock, before NTP) cannot tell whether the armed instant passed,
 * so such an item is closed too: missing a notice is better than saying it twice.
 */
export function recoverOccurrence(entry: JournalledOccurrence, now: number): Recovery {
  if (entry.stages.some(isFinalStage)) return null;
  if (entry.stages.includes('started')) return { stage: 'preempted', detail: CUT_BY_RESTART };
  if (entry.armedAt !== undefined && (entry.armedAt <= now || now < entry.at)) {
    return { stage: 'failed', detail: ARMED_AT_RESTART };
  }
  return null;
}
