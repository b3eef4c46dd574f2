/**
 * Recent broadcasts for the console's deliveries page: the occurrences starting
 * in a window, newest first, each with how far its deliveries got, counted in
 * one aggregation over occurrences ⟕ deliveries.
 */
import {
  ACK_STAGES,
  deliveryOutcome,
  MISSED_AFTER_MS,
  PROBLEM_OUTCOMES,
  type DeliveryOutcome,
  type DeliveryStage,
  type Priority,
} from '@loaxa/protocol';
import { sql, type RawBuilder } from 'kysely';
import type { Engine, SqlDb } from '../db/sql';
import type { Scope } from '../tenancy/scope';

export const DELIVERY_STAGES = ['pending', ...ACK_STAGES] as const satisfies readonly DeliveryStage[];
export const DELIVERY_OUTCOMES = [
  'waiting',
  'playing',
  'finished',
  'failed',
  'missed',
  'stopped',
  'preempted',
  'skipped',
] as const satisfies readonly DeliveryOutcome[];

export interface OccurrenceSummary {
  id: string;
  communeId: string;
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
  /** The same deliveries by outcome (deliveryOutcome): missed and stopped counted as such. */
  outcomes: Record<DeliveryOutcome, number>;
}

export interface OccurrenceWindow {
  /** Start instants in [from, to), epoch ms. */
  from: number;
  to: number;
  limit: number;
  /** Occurrences to skip (newest first) before the page; 0 when absent. */
  offset?: number;
}

type Row = {
  id: string;
  commune_id: string;
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

// Stage names come from the protocol's fixed list, never from input. COUNT is a BIGINT on
// PostgreSQL, which our pool gives back as a number (db/sql.ts).
const stageCounts = () => DELIVERY_STAGES.map((s) => sql<number>`COUNT(CASE WHEN d.stage = ${s} THEN 1 END)`.as(s));

/**
 * `column` in SQLite's order of text (by bytes): PostgreSQL's default depends on the database's
 * collation, and a page boundary between equal start times must fall in the same place on both.
 */
export function byBytes(engine: Engine, column: string): RawBuilder<string> {
  return engine === 'postgres' ? sql`${sql.ref(column)} COLLATE "C"` : sql`${sql.ref(column)}`;
}

/** How many occurrences of `scope` start in the window (the list's total before paging). */
export async function countOccurrences(
  target: SqlDb,
  scope: Scope,
  { from, to }: Pick<OccurrenceWindow, 'from' | 'to'>,
): Promise<number> {
  const row: { n: number } = await target.db
    .selectFrom('occurrences as o')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('o.start_at', '>=', from)
    .where('o.start_at', '<', to)
    .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
    .executeTakeFirstOrThrow();
  return row.n;
}

/** The occurrences in `scope` starting in the window, newest first, one page of them. */
export async function recentOccurrences(
  target: SqlDb,
  scope: Scope,
  { from, to, limit, offset = 0 }: OccurrenceWindow,
  now: number = Date.now(),
): Promise<OccurrenceSummary[]> {
  const rows: Row[] = await target.db
    .selectFrom('occurrences as o')
    .leftJoin('deliveries as d', 'd.occurrence_id', 'o.id')
    .select([
      'o.id',
      'o.commune_id',
      'o.title',
      'o.priority',
      'o.start_at',
      'o.duration_ms',
      'o.schedule_id',
      'o.cancelled_at',
      'o.stopped_at',
      'o.stopped_by',
      (eb) => eb.fn.count<number>('d.device_id').as('devices'),
      ...stageCounts(),
    ])
    .where('o.start_at', '>=', from)
    .where('o.start_at', '<', to)
    .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
    // o.id is the key: PostgreSQL takes o's other columns as grouped by it too.
    .groupBy('o.id')
    .orderBy('o.start_at', 'desc')
    .orderBy(byBytes(target.engine, 'o.id'), 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map((r) => {
    const stages = Object.fromEntries(DELIVERY_STAGES.map((s) => [s, r[s]])) as Record<DeliveryStage, number>;
    const occurrence = { startAt: r.start_at, stopped: r.stopped_at !== null, cancelled: r.cancelled_at !== null };
    const outcomes = Object.fromEntries(DELIVERY_OUTCOMES.map((o) => [o, 0])) as Record<DeliveryOutcome, number>;
    for (const stage of DELIVERY_STAGES) outcomes[deliveryOutcome(stage, occurrence, now)] += stages[stage];
    return {
      id: r.id,
      communeId: r.commune_id,
      title: r.title,
      priority: r.priority,
      startAt: new Date(r.start_at).toISOString(),
      durationMs: r.duration_ms,
      scheduleId: r.schedule_id,
      cancelled: r.cancelled_at !== null,
      stoppedAt: r.stopped_at === null ? null : new Date(r.stopped_at).toISOString(),
      stoppedBy: r.stopped_by,
      devices: r.devices,
      stages,
      outcomes,
    };
  });
}

/** A delivery someone should look at: failed, or missed (not started after its time). */
export interface DeliveryProblem {
  occurrenceId: string;
  communeId: string;
  title: string;
  priority: Priority;
  startAt: string;
  deviceId: string;
  deviceName: string;
  /** Whether the loudspeaker is connected now (a missed one usually is not). */
  online: boolean;
  outcome: 'failed' | 'missed';
  stage: DeliveryStage;
  /** When the device last reported on it (null: never). */
  at: string | null;
  detail: string | null;
}

/**
 * Problems among the deliveries of every broadcast in `scope` that started in
 * [since, now], newest first — not only those this console sent.
 */
export async function deliveryProblems(
  target: SqlDb,
  scope: Scope,
  { since, limit }: { since: number; limit: number },
  now = Date.now(),
): Promise<DeliveryProblem[]> {
  const rows: {
    id: string;
    commune_id: string;
    title: string;
    priority: Priority;
    start_at: number;
    stopped_at: number | null;
    cancelled_at: number | null;
    device_id: string;
    stage: DeliveryStage;
    at: number | null;
    detail: string | null;
    device_name: string;
    online: number;
  }[] = await target.db
    .selectFrom('occurrences as o')
    .innerJoin('deliveries as d', 'd.occurrence_id', 'o.id')
    .innerJoin('devices as v', 'v.id', 'd.device_id')
    .select([
      'o.id',
      'o.commune_id',
      'o.title',
      'o.priority',
      'o.start_at',
      'o.stopped_at',
      'o.cancelled_at',
      'd.device_id',
      'd.stage',
      'd.at',
      'd.detail',
      'v.name as device_name',
      'v.online',
    ])
    .where('o.start_at', '>=', since)
    .where('o.start_at', '<=', now)
    .where('o.stopped_at', 'is', null)
    .where('o.cancelled_at', 'is', null)
    .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
    .where((eb) =>
      eb.or([
        eb('d.stage', '=', 'failed'),
        // Started later than this is missed: o.start_at + MISSED_AFTER_MS < now.
        eb.and([eb('d.stage', 'in', ['pending', 'received', 'ready']), eb('o.start_at', '<', now - MISSED_AFTER_MS)]),
      ]),
    )
    .orderBy('o.start_at', 'desc')
    .orderBy(byBytes(target.engine, 'd.device_id'))
    .limit(limit)
    .execute();
  const problems: DeliveryProblem[] = [];
  for (const r of rows) {
    const occurrence = { startAt: r.start_at, stopped: r.stopped_at !== null, cancelled: r.cancelled_at !== null };
    const outcome = deliveryOutcome(r.stage, occurrence, now);
    if (!PROBLEM_OUTCOMES.includes(outcome)) continue;
    problems.push({
      occurrenceId: r.id,
      communeId: r.commune_id,
      title: r.title,
      priority: r.priority,
      startAt: new Date(r.start_at).toISOString(),
      deviceId: r.device_id,
      deviceName: r.device_name,
      online: r.online === 1,
      outcome: outcome as 'failed' | 'missed',
      stage: r.stage,
      at: r.at === null ? null : new Date(r.at).toISOString(),
      detail: r.detail,
    });
  }
  return problems;
}
