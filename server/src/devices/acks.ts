/**
 * Acknowledgements: stored idempotently ((device, ref, stage) is unique), and
 * each delivery keeps the furthest stage reached — and the first final stage —
 * so re-sent or late acks after a reconnect change nothing.
 */
import { sql, type Kysely } from 'kysely';
import { isFinalStage, stageRank, type AckPayload, type AckStage, type DeliveryStage } from '@loaxa/protocol';
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
    const events: DeliveryEvent[] = [];
    const tell = () => {
      for (const e of events) this.hub.emit('delivery', e);
    };
    if (batch) {
      const isNew = await this.store(batch.tx, deviceId, ack, events);
      if (events.length > 0) batch.afterCommit(tell);
      return isNew;
    }
    const isNew = await this.sqlDb.db.transaction().execute((tx) => this.store(tx, deviceId, ack, events));
    tell();
    return isNew;
  }

  /**
   * Plain templates, not builders: every ack of every device comes through here. One message's
   * stages (a play-now's received, ready and started arrive together) are inserted in one
   * statement, and its delivery moves once, to the furthest of them, in one compare-and-set:
   * three queries whatever the number of stages, where a query per stage took nine.
   */
  private async store(
    db: Kysely<Tables>,
    deviceId: string,
    ack: AckPayload,
    events: DeliveryEvent[],
  ): Promise<boolean> {
    const refId = ack.occurrenceId ?? ack.commandId!;
    const stages = messageStages(ack);
    const receivedAt = Date.now();
    const rows = stages.map((s) => sql`(${deviceId}, ${refId}, ${s.stage}, ${s.at}, ${s.detail}, ${receivedAt})`);
    const inserted = await sql<{ stage: AckStage }>`INSERT INTO acks (device_id, ref_id, stage, at, detail, received_at)
      VALUES ${sql.join(rows)} ON CONFLICT DO NOTHING RETURNING stage`.execute(db);
    const fresh = new Set(inserted.rows.map((r) => r.stage));
    // A stage named twice in one message is stored from its first mention: the last is new only if that was it.
    const isNew = fresh.has(ack.stage) && !ack.earlier?.some((s) => s.stage === ack.stage);
    if (fresh.size === 0 || !ack.occurrenceId) return isNew;
    const newStages = stages.filter((s) => fresh.has(s.stage));

    // Compare-and-set on the stage read: another instance storing an ack of the same delivery in
    // between (PostgreSQL, several servers) makes the update miss, and the stage is read again.
    for (;;) {
      const current = (
        await sql<{ stage: DeliveryStage }>`SELECT stage FROM deliveries
          WHERE occurrence_id = ${ack.occurrenceId} AND device_id = ${deviceId}`.execute(db)
      ).rows[0];
      if (!current) return isNew;
      const steps = advance(current.stage, newStages);
      const last = steps.at(-1);
      if (!last) return isNew;
      const updated = await sql`UPDATE deliveries SET stage = ${last.stage}, at = ${last.at}, detail = ${last.detail}
        WHERE occurrence_id = ${ack.occurrenceId} AND device_id = ${deviceId} AND stage = ${current.stage}`.execute(db);
      if (Number(updated.numAffectedRows ?? 0) === 0) continue;
      for (const step of steps) {
        events.push({
          occurrenceId: ack.occurrenceId,
          deviceId,
          stage: step.stage,
          at: new Date(step.at).toISOString(),
          detail: step.detail,
        });
      }
      return isNew;
    }
  }
}

interface StageRecord {
  stage: AckStage;
  at: number;
  detail: string | null;
}

/** The stages a message carries, oldest first, each stage once (its first mention). */
function messageStages(ack: AckPayload): StageRecord[] {
  const all = [...(ack.earlier ?? []), ack];
  const seen = new Set<AckStage>();
  const stages: StageRecord[] = [];
  for (const { stage, at, detail } of all) {
    if (seen.has(stage)) continue;
    seen.add(stage);
    stages.push({ stage, at, detail: detail ?? null });
  }
  return stages;
}

/**
 * The stages a delivery at `current` goes through, taking `stages` in order: each one further
 * than where it is moves it on; the first final stage wins (an agent that lost its state and
 * acks "skipped" for an item it already finished must not rewrite history).
 */
function advance(current: DeliveryStage, stages: readonly StageRecord[]): StageRecord[] {
  const steps: StageRecord[] = [];
  let at = current;
  for (const s of stages) {
    if (isFinalStage(at) || stageRank(s.stage) <= stageRank(at)) continue;
    at = s.stage;
    steps.push(s);
  }
  return steps;
}
