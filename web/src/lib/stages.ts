/**
 * Delivery stages as the console shows them. The ordering mirrors
 * `stageRank` in @loaxa/protocol: a delivery shows the furthest stage
 * reached, and a late or repeated event never moves it back.
 */
import type { Delivery, DeliveryStage, Occurrence } from './api';

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

export function stageRank(stage: DeliveryStage): number {
  return RANK[stage] ?? 0;
}

export function isFinalStage(stage: DeliveryStage): boolean {
  return stage === 'finished' || stage === 'failed' || stage === 'skipped' || stage === 'preempted';
}

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
  done: boolean;
}

export function summarise(deliveries: readonly Delivery[]): DeliverySummary {
  const summary: DeliverySummary = {
    total: deliveries.length,
    finished: 0,
    failed: 0,
    settled: 0,
    playing: 0,
    done: false,
  };
  for (const { stage } of deliveries) {
    if (stage === 'finished') summary.finished++;
    if (stage === 'failed') summary.failed++;
    if (stage === 'started') summary.playing++;
    if (isFinalStage(stage)) summary.settled++;
  }
  summary.done = summary.total > 0 && summary.settled === summary.total;
  return summary;
}
