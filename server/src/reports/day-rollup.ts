/**
 * The day roll-up of the reports: each loudspeaker's sums (deliveries by
 * outcome, minutes on air, online and observed time) over each closed day,
 * stored once in `device_days` (migration 18), so that a province report over
 * a month adds 30 rows per loudspeaker instead of counting a million
 * deliveries and online changes again.
 *
 * A day is Asia/Ho_Chi_Minh's (UTC+7, no daylight saving), stored as the UTC
 * instant of its midnight. A day is closed once it has ended and its last
 * broadcast could no longer change from "not yet" to "missed"
 * (MISSED_AFTER_MS). Whatever would change a summed day afterwards (a late
 * acknowledgement, a stopped or deleted broadcast, a loudspeaker's online
 * change or dates written into the past) takes the day off `rolled_days` by a
 * trigger of the same migration (PostgreSQL's baseline has the same ones,
 * db/postgres-schema.ts); the next report sums it again. So a summed
 * day always equals counting it from the history.
 */
import { sql, type Kysely } from 'kysely';
import { MISSED_AFTER_MS } from '@loaxa/protocol';
import { ROLLUP_LOCK_KEY } from '../db/postgres-schema';
import type { SqlDb, Tables } from '../db/sql';

export const DAY_MS = 86_400_000;
/** Asia/Ho_Chi_Minh is UTC+7 all year. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;

/** Sums that add up across devices and days; the shares are computed from them at the end. */
export interface Totals {
  broadcasts: number;
  finished: number;
  failed: number;
  missed: number;
  stopped: number;
  onAirMs: number;
  onlineMs: number;
  observedMs: number;
}

export function emptyTotals(): Totals {
  return { broadcasts: 0, finished: 0, failed: 0, missed: 0, stopped: 0, onAirMs: 0, onlineMs: 0, observedMs: 0 };
}

/** Adds each device's `part` into `into`. */
export function addTotals(into: Map<string, Totals>, part: ReadonlyMap<string, Totals>): void {
  for (const [deviceId, t] of part) {
    const sum = into.get(deviceId);
    if (!sum) {
      into.set(deviceId, { ...t });
      continue;
    }
    for (const key of Object.keys(sum) as (keyof Totals)[]) sum[key] += t[key];
  }
}

/** Midnight in Vietnam at or before `t`. */
export function dayStart(t: number): number {
  return Math.floor((t + VIETNAM_OFFSET_MS) / DAY_MS) * DAY_MS - VIETNAM_OFFSET_MS;
}

/**
 * The whole closed days inside [from, end): from the first midnight at or
 * after `from` to the last midnight before which everything is settled.
 * Null when there is none.
 */
export function closedDays(
  from: number,
  end: number,
  now: number,
): { first: number; end: number; count: number } | null {
  const first = dayStart(from) === from ? from : dayStart(from) + DAY_MS;
  const last = dayStart(Math.min(end, now - MISSED_AFTER_MS));
  if (last <= first) return null;
  return { first, end: last, count: (last - first) / DAY_MS };
}

/** Rows of device_days per INSERT: 10 parameters each, well under SQLite's 32,766 and PostgreSQL's 65,535. */
const INSERT_BATCH = 1_000;

/** Counts each device's sums over [dayStart, dayEnd) through `db` (the roll-up's transaction). */
export type DayCount = (db: Kysely<Tables>, dayStart: number, dayEnd: number) => Promise<ReadonlyMap<string, Totals>>;

export class DayRollup {
  constructor(private readonly sqlDb: SqlDb) {}

  /** How many days of [first, end) are not summed (or no longer current). */
  async missing(first: number, end: number): Promise<number> {
    const { rows } = await sql<{
      n: number;
    }>`SELECT COUNT(*) AS n FROM rolled_days WHERE day >= ${first} AND day < ${end}`.execute(this.sqlDb.db);
    return (end - first) / DAY_MS - rows[0]!.n;
  }

  /**
   * Sums each day of [first, end) that is not summed yet with `count` (the
   * reports' own counting over one day, run inside the transaction), in one
   * transaction per day: a day is stored whole or not at all. On SQLite nothing
   * else writes meanwhile, so the counting and the stored rows see the same
   * history. On PostgreSQL (READ COMMITTED) a write committed while the day was
   * being summed would be missed by the sums and find no rolled_days row to take
   * off yet; so each day's transaction first takes the roll-up lock exclusive
   * (ROLLUP_LOCK_KEY, db/postgres-schema.ts), which every *_rolled trigger takes
   * shared: it waits for the writes in flight to commit and only then counts
   * (each later statement has a new snapshot), and the writes that come after
   * wait in their trigger until the day is committed in rolled_days, then take
   * it off.
   *
   * No deadlock: the exclusive lock is the transaction's first lock, so the
   * roll-up holds nothing a writer could be waiting for while it waits. Once it
   * holds it, it locks only device_days rows (written by nothing else but a
   * device's deletion cascading), its own rolled_days row (which writers delete
   * only after the shared lock, so never while the roll-up holds it) and, for
   * device_days' foreign key, devices rows FOR KEY SHARE, which no write of the
   * server conflicts with (none changes a device's id; devices are revoked, not
   * deleted). So a writer waiting in its trigger, whatever row locks it holds,
   * waits for a roll-up that waits for none of them; writers share the lock and
   * no transaction takes it exclusive while holding it shared. (A writer asking
   * for it shared queues behind a waiting roll-up; should a writer already
   * holding it wait for that one's row locks, PostgreSQL's deadlock check lets
   * the queued writer go first, after deadlock_timeout, aborting nothing. A
   * DELETE of a device by hand locks its row before its cascade fires the
   * triggers: should it meet a roll-up of that device, PostgreSQL detects the
   * cycle and aborts one of the two, to be retried.)
   */
  async ensure(first: number, end: number, count: DayCount): Promise<number> {
    const { db } = this.sqlDb;
    const rolled = new Set(
      (
        await sql<{ day: number }>`SELECT day FROM rolled_days WHERE day >= ${first} AND day < ${end}`.execute(db)
      ).rows.map((r) => r.day),
    );
    let summed = 0;
    for (let day = first; day < end; day += DAY_MS) {
      if (rolled.has(day)) continue;
      await db.transaction().execute(async (tx) => {
        if (this.sqlDb.engine === 'postgres') {
          // First, before any read or lock (see above). Released at commit or rollback.
          await sql`SELECT pg_advisory_xact_lock(${sql.raw(ROLLUP_LOCK_KEY)})`.execute(tx);
        }
        // By key, device by device (rows exist only for devices; a deleted one took its rows along).
        await sql`DELETE FROM device_days WHERE device_id IN (SELECT id FROM devices) AND day = ${day}`.execute(tx);
        const rows = [...(await count(tx, day, day + DAY_MS))].map(([deviceId, t]) => ({
          device_id: deviceId,
          day,
          broadcasts: t.broadcasts,
          finished: t.finished,
          failed: t.failed,
          missed: t.missed,
          stopped: t.stopped,
          on_air_ms: t.onAirMs,
          online_ms: t.onlineMs,
          observed_ms: t.observedMs,
        }));
        for (let i = 0; i < rows.length; i += INSERT_BATCH) {
          // Two PostgreSQL connections may sum the same day at once (two province reports): the
          // later one writes its equal numbers over the first's rather than failing on the key.
          await tx
            .insertInto('device_days')
            .values(rows.slice(i, i + INSERT_BATCH))
            .onConflict((oc) =>
              oc.columns(['device_id', 'day']).doUpdateSet((eb) => ({
                broadcasts: eb.ref('excluded.broadcasts'),
                finished: eb.ref('excluded.finished'),
                failed: eb.ref('excluded.failed'),
                missed: eb.ref('excluded.missed'),
                stopped: eb.ref('excluded.stopped'),
                on_air_ms: eb.ref('excluded.on_air_ms'),
                online_ms: eb.ref('excluded.online_ms'),
                observed_ms: eb.ref('excluded.observed_ms'),
              })),
            )
            .execute();
        }
        await sql`INSERT INTO rolled_days (day) VALUES (${day}) ON CONFLICT (day) DO NOTHING`.execute(tx);
      });
      summed++;
    }
    return summed;
  }

  /** Each device's sums over the summed days of [first, end). */
  async sum(first: number, end: number): Promise<Map<string, Totals>> {
    // PostgreSQL's SUM of a BIGINT is NUMERIC (a string to pg): cast back.
    const { rows } = await sql<{
      device_id: string;
      broadcasts: number;
      finished: number;
      failed: number;
      missed: number;
      stopped: number;
      on_air_ms: number;
      online_ms: number;
      observed_ms: number;
    }>`SELECT device_id, CAST(SUM(broadcasts) AS BIGINT) AS broadcasts, CAST(SUM(finished) AS BIGINT) AS finished,
         CAST(SUM(failed) AS BIGINT) AS failed, CAST(SUM(missed) AS BIGINT) AS missed,
         CAST(SUM(stopped) AS BIGINT) AS stopped, CAST(SUM(on_air_ms) AS BIGINT) AS on_air_ms,
         CAST(SUM(online_ms) AS BIGINT) AS online_ms, CAST(SUM(observed_ms) AS BIGINT) AS observed_ms
       FROM device_days WHERE day >= ${first} AND day < ${end} GROUP BY device_id`.execute(this.sqlDb.db);
    return new Map(
      rows.map((r) => [
        r.device_id,
        {
          broadcasts: r.broadcasts,
          finished: r.finished,
          failed: r.failed,
          missed: r.missed,
          stopped: r.stopped,
          onAirMs: r.on_air_ms,
          onlineMs: r.online_ms,
          observedMs: r.observed_ms,
        },
      ]),
    );
  }

  /** Drops the sums of days before `cutoff` (the history they came from is gone too). */
  async prune(cutoff: number): Promise<void> {
    await sql`DELETE FROM device_days WHERE day < ${cutoff}`.execute(this.sqlDb.db);
    await sql`DELETE FROM rolled_days WHERE day < ${cutoff}`.execute(this.sqlDb.db);
  }
}
