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
