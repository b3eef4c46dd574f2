/**
 * Recent broadcasts for the console's deliveries page: the occurrences starting
 * in a window, newest first, each with how far its deliveries got, counted in
 * one aggregation over occurrences ⟕ deliveries.
 */
import { ACK_STAGES, type DeliveryStage, type Priority } from '@loaxa/protocol';
import type { Db } from '../db/database';

export const DELIVERY_STAGES = ['pending', ...ACK_STAGES] as const satisfies readonly DeliveryStage[];

export interface OccurrenceSummary {
  id: string;
  title: string;
  priority: Priority;
  startAt: string;
  durationMs: number;
  scheduleId: string | null;
  cancelled: boolean;
  /** Set when someone stopped it (a stop is its own outcome, not a failure). */
  stoppedAt: string | null;
  stoppedBy: string | null;
  /** Loudspeakers the occurrence targets (its deliveries). */
  devices: number;
  /** How many deliveries are at each stage (the furthest reached). */
  stages: Record<DeliveryStage, number>;
}

export interface OccurrenceWindow {
  /** Start instants in [from, to), epoch ms. */
  from: number;
  to: number;
  limit: number;
}

type Row = {
  id: string;
  title: string;
  priority: Priority;
  start_at: number;
  duration_ms: number;
  schedule_id: string | null;
  cancelled_at: number | null;
  stopped_at: number | null;
  stopped_by: string | null;
  devices: number;
} & Record<DeliveryStage, number>;

// Stage names come from the protocol's fixed list, never from input.
const STAGE_COUNTS = DELIVERY_STAGES.map((s) => `COUNT(CASE WHEN d.stage = '${s}' THEN 1 END) AS "${s}"`).join(',\n');

export function recentOccurrences(db: Db, { from, to, limit }: OccurrenceWindow): OccurrenceSummary[] {
  const rows = db
    .prepare(
      `SELECT o.id, o.title, o.priority, o.start_at, o.duration_ms, o.schedule_id, o.cancelled_at, o.stopped_at, o.stopped_by,
         COUNT(d.device_id) AS devices,
         ${STAGE_COUNTS}
       FROM occurrences o LEFT JOIN deliveries d ON d.occurrence_id = o.id
       WHERE o.start_at >= ? AND o.start_at < ?
       GROUP BY o.id
       ORDER BY o.start_at DESC, o.id DESC
       LIMIT ?`,
    )
    .all(from, to, limit) as Row[];
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    priority: r.priority,
    startAt: new Date(r.start_at).toISOString(),
    durationMs: r.duration_ms,
    scheduleId: r.schedule_id,
    cancelled: r.cancelled_at !== null,
    stoppedAt: r.stopped_at === null ? null : new Date(r.stopped_at).toISOString(),
    stoppedBy: r.stopped_by,
    devices: r.devices,
    stages: Object.fromEntries(DELIVERY_STAGES.map((s) => [s, r[s]])) as Record<DeliveryStage, number>,
  }));
}
