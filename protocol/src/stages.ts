import type { AckStage } from './payloads';

/** A delivery that has not been acknowledged at all yet. */
export type DeliveryStage = 'pending' | AckStage;

const RANK: Record<DeliveryStage, number> = {
  pending: 0,
  received: 1,
  ready: 2,
  started: 3,
  finished: 4,
  preempted: 5,
  skipped: 5,
  failed: 6,
};

/** Orders stages so that a delivery shows the furthest one reached; re-sent or late acks never move it back. */
export function stageRank(stage: DeliveryStage): number {
  return RANK[stage];
}

export function isFinalStage(stage: DeliveryStage): boolean {
  return stage === 'finished' || stage === 'failed' || stage === 'skipped' || stage === 'preempted';
}

/**
 * A delivery that has not started this long after its planned start is
 * missed: an error to show, not "waiting" (the loudspeaker was offline, or its
 * audio never arrived). The grace covers clock offsets and a slow download.
 */
export const MISSED_AFTER_MS = 60_000;

/** What a delivery amounts to, as people read it: one word per row of the console and the reports. */
export type DeliveryOutcome =
  'waiting' | 'playing' | 'finished' | 'failed' | 'missed' | 'stopped' | 'preempted' | 'skipped';

/** Outcomes that are someone's problem to look at. */
export const PROBLEM_OUTCOMES: readonly DeliveryOutcome[] = ['failed', 'missed'];

/**
 * One delivery's outcome from its furthest stage, its occurrence (planned
 * start, stopped or cancelled) and the time now. A stop is its own outcome,
 * never a failure or a success: whatever had not finished when someone
 * stopped the broadcast reads "stopped".
 */
export function deliveryOutcome(
  stage: DeliveryStage,
  occurrence: { startAt: number; stopped: boolean; cancelled?: boolean },
  now: number,
): DeliveryOutcome {
  switch (stage) {
    case 'finished':
    case 'failed':
      return stage;
    case 'preempted':
    case 'skipped':
      return occurrence.stopped ? 'stopped' : stage;
    case 'started':
      return occurrence.stopped ? 'stopped' : 'playing';
    default:
      if (occurrence.stopped || occurrence.cancelled) return 'stopped';
      return now > occurrence.startAt + MISSED_AFTER_MS ? 'missed' : 'waiting';
  }
}
