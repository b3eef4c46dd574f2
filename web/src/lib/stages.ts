/**
 * Delivery stages as the console shows them. The rules are the protocol's
 * (one home, shared with the server and its reports): a delivery shows the
 * furthest stage reached, a late or repeated event never moves it back, and
 * its outcome (missed, stopped, …) is read by the same `deliveryOutcome`.
 */
import {
  deliveryOutcome,
  isFinalStage,
  MISSED_AFTER_MS,
  PROBLEM_OUTCOMES,
  stageRank,
  type DeliveryOutcome,
} from '@loaxa/protocol/stages';
import type { Delivery, DeliveryStage, Occurrence } from './api';

export { deliveryOutcome, isFinalStage, MISSED_AFTER_MS, PROBLEM_OUTCOMES, stageRank, type DeliveryOutcome };

/** One delivery's outcome in its occurrence, now. */
export function outcomeOf(occurrence: Pick<Occurrence, 'startAt' | 'stoppedAt'>, delivery: Delivery, now: number) {
  return deliveryOutcome(
    delivery.stage,
    { startAt: Date.parse(occurrence.startAt), stopped: occurrence.stoppedAt !== null },
    now,
  );
}

export const isProblem = (outcome: DeliveryOutcome): boolean => PROBLEM_OUTCOMES.includes(outcome);

/** True when `next` may replace `current` (same or further stage). */
export function advances(current: DeliveryStage, next: DeliveryStage): boolean {
  return stageRank(next) >= stageRank(current);
}

/** Merges one delivery update into a list, keeping the furthest stage per device. */
export function mergeDelivery(deliveries: Delivery[], update: Delivery): Delivery[] {
  const index = deliveries.findIndex((delivery) => delivery.deviceId === update.deviceId);
  if (index === -1) return [...deliveries, update];
  const current = deliveries[index]!;
  if (!advances(current.stage, update.stage)) return deliveries;
  if (current.stage === update.stage && current.at === update.at && current.detail === update.detail) {
    return deliveries;
  }
  const next = deliveries.slice();
  next[index] = update;
  return next;
}

/** Merges a freshly fetched occurrence with what live events already told us. */
export function mergeOccurrence(known: Occurrence | undefined, fetched: Occurrence): Occurrence {
  if (!known) return fetched;
  let deliveries = fetched.deliveries;
  for (const delivery of known.deliveries) deliveries = mergeDelivery(deliveries, delivery);
  return { ...fetched, deliveries };
}

export interface DeliverySummary {
  total: number;
  finished: number;
  failed: number;
  /** Reached a final stage (finished, failed, skipped, preempted). */
  settled: number;
  playing: number;
  /** Not started a minute after the planned start (needs `at`): an error, not "waiting". */
  missed: number;
  /** Not finished when someone stopped the broadcast (needs `at`): neither success nor failure. */
  stopped: number;
  done: boolean;
}

/**
 * Counts of a broadcast's deliveries. With `at` (its occurrence and the time
 * now) missed and stopped deliveries are counted too; without, they stay 0.
 */
export function summarise(
  deliveries: readonly Delivery[],
  at?: { occurrence: Pick<Occurrence, 'startAt' | 'stoppedAt'>; now: number },
): DeliverySummary {
  const summary: DeliverySummary = {
    total: deliveries.length,
    finished: 0,
    failed: 0,
    settled: 0,
    playing: 0,
    missed: 0,
    stopped: 0,
    done: false,
  };
  for (const delivery of deliveries) {
    const { stage } = delivery;
    if (stage === 'finished') summary.finished++;
    if (stage === 'failed') summary.failed++;
    if (stage === 'started' && !at?.occurrence.stoppedAt) summary.playing++;
    if (isFinalStage(stage)) summary.settled++;
    if (at) {
      const outcome = outcomeOf(at.occurrence, delivery, at.now);
      if (outcome === 'missed') summary.missed++;
      if (outcome === 'stopped') summary.stopped++;
    }
  }
  summary.done = summary.total > 0 && summary.settled === summary.total;
  return summary;
}
