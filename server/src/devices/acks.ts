/**
 * Acknowledgements: stored idempotently ((device, ref, stage) is unique), and
 * each delivery keeps the furthest stage reached — and the first final stage —
 * so re-sent or late acks after a reconnect change nothing.
 */
import { isFinalStage, stageRank, type AckPayload, type DeliveryStage } from '@loaxa/protocol';
import type { Db } from '../db/database';
import type { EventHub } from '../events/hub';

export class AckLedger {
  constructor(
    private readonly db: Db,
    private readonly hub: EventHub,
  ) {}

  /** Returns true if the ack (its last stage) was new. Stages carried in `earlier` are recorded first, in order. */
  record(deviceId: string, ack: AckPayload): boolean {
    const { earlier, ...last } = ack;
    // An earlier stage has its own detail or none, never the last stage's.
    for (const stage of earlier ?? []) this.recordOne(deviceId, { ...last, detail: stage.detail, ...stage });
    return this.recordOne(deviceId, last);
  }

  private recordOne(deviceId: string, ack: Omit<AckPayload, 'earlier'>): boolean {
    const refId = ack.occurrenceId ?? ack.commandId!;
    const detail = ack.detail ?? null;
    const inserted = this.db
      .prepare(
        `INSERT INTO acks (device_id, ref_id, stage, at, detail, received_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      )
      .run(deviceId, refId, ack.stage, ack.at, detail, Date.now()).changes;
    if (!inserted || !ack.occurrenceId) return inserted > 0;

    const current = this.db
      .prepare('SELECT stage FROM deliveries WHERE occurrence_id = ? AND device_id = ?')
      .get(ack.occurrenceId, deviceId) as { stage: DeliveryStage } | undefined;
    // The first final stage wins: an agent that lost its state and acks "skipped"
    // for an item it already finished must not rewrite history.
    if (!current || isFinalStage(current.stage) || stageRank(ack.stage) <= stageRank(current.stage)) return true;
    this.db
      .prepare('UPDATE deliveries SET stage = ?, at = ?, detail = ? WHERE occurrence_id = ? AND device_id = ?')
      .run(ack.stage, ack.at, detail, ack.occurrenceId, deviceId);
    this.hub.emit('delivery', {
      occurrenceId: ack.occurrenceId,
      deviceId,
      stage: ack.stage,
      at: new Date(ack.at).toISOString(),
      detail,
    });
    return true;
  }
}
