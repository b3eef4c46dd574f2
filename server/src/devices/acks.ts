/**
 * Acknowledgements: stored idempotently ((device, ref, stage) is unique), and
 * each delivery keeps the furthest stage reached — and the first final stage —
 * so re-sent or late acks after a reconnect change nothing.
 */
import { sql, type Kysely } from 'kysely';
import { isFinalStage, stageRank, type AckPayload, type DeliveryStage } from '@loaxa/protocol';
import type { SqlDb, Tables } from '../db/sql';
import type { DeliveryEvent, EventHub } from '../events/hub';
import type { BatchTx } from './registry';

export class AckLedger {
  constructor(
    private readonly sqlDb: SqlDb,
    private readonly hub: EventHub,
  ) {}

  /**
   * Returns true if the ack (its last stage) was new. Stages carried in `earlier` are recorded first, in order.
   * In `batch` (the inbound messages' transaction) the deliveries' events wait for its commit;
   * otherwise the ack is stored in a transaction of its own.
   */
  async record(deviceId: string, ack: AckPayload, batch?: BatchTx): Promise<boolean> {
    const { earlier, ...last } = ack;
    const apply = async (tx: Kysely<Tables>, events: DeliveryEvent[]) => {
      // An earlier stage has its own detail or none, never the last stage's.
      for (const stage of earlier ?? [])
        await this.recordOne(tx, deviceId, { ...last, detail: stage.detail, ...stage }, events);
      return this.recordOne(tx, deviceId, last, events);
    };
    const events: DeliveryEvent[] = [];
    const tell = () => {
      for (const e of events) this.hub.emit('delivery', e);
    };
    if (batch) {
      const isNew = await apply(batch.tx, events);
      if (events.length > 0) batch.afterCommit(tell);
      return isNew;
    }
    const isNew = await this.sqlDb.db.transaction().execute((tx) => apply(tx, events));
    tell();
    return isNew;
  }

  /** Plain templates, not builders: every ack of every device comes through here. */
  private async recordOne(
    db: Kysely<Tables>,
    deviceId: string,
    ack: Omit<AckPayload, 'earlier'>,
    events: DeliveryEvent[],
  ): Promise<boolean> {
    const refId = ack.occurrenceId ?? ack.commandId!;
    const detail = ack.detail ?? null;
    const inserted = await sql`INSERT INTO acks (device_id, ref_id, stage, at, detail, received_at)
      VALUES (${deviceId}, ${refId}, ${ack.stage}, ${ack.at}, ${detail}, ${Date.now()}) ON CONFLICT DO NOTHING`.execute(
      db,
    );
    const isNew = Number(inserted.numAffectedRows ?? 0) > 0;
    if (!isNew || !ack.occurrenceId) return isNew;

    // Compare-and-set on the stage read: another instance storing an ack of the same delivery in
    // between (PostgreSQL, several servers) makes the update miss, and the stage is read again.
    for (;;) {
      const current = (
        await sql<{ stage: DeliveryStage }>`SELECT stage FROM deliveries
          WHERE occurrence_id = ${ack.occurrenceId} AND device_id = ${deviceId}`.execute(db)
      ).rows[0];
      // The first final stage wins: an agent that lost its state and acks "skipped"
      // for an item it already finished must not rewrite history.
      if (!current || isFinalStage(current.stage) || stageRank(ack.stage) <= stageRank(current.stage)) return true;
      const updated = await sql`UPDATE deliveries SET stage = ${ack.stage}, at = ${ack.at}, detail = ${detail}
        WHERE occurrence_id = ${ack.occurrenceId} AND device_id = ${deviceId} AND stage = ${current.stage}`.execute(db);
      if (Number(updated.numAffectedRows ?? 0) > 0) break;
    }
    events.push({
      occurrenceId: ack.occurrenceId,
      deviceId,
      stage: ack.stage,
      at: new Date(ack.at).toISOString(),
      detail,
    });
    return true;
  }
}
