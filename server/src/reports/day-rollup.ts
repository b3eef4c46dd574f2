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
 * trigger of the same migration; the next report sums it again. So a summed
 * day always equals counting it from the history.
 */
import { MISSED_AFTER_MS } from '@loaxa/protocol';
import type { Db } from '../db/database';

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
export function closedDays(from: number, end: number, now: number): { first: number; end: number; count: number } | null {
  const first = dayStart(from) === from ? from : dayStart(from) + DAY_MS;
  const last = dayStart(Math.min(end, now - MISSED_AFTER_MS));
  if (last <= first) return null;
  return { first, end: last, count: (last - first) / DAY_MS };
}

export class DayRollup {
  constructor(private readonly db: Db) {}

  /** How many days of [first, end) are not summed (or no longer current). */
  missing(first: number, end: number): number {
    const rolled = (
      this.db.prepare('SELECT COUNT(*) AS n FROM rolled_days WHERE day >= ? AND day < ?').get(first, end) as {
        n: number;
      }
    ).n;
    return (end - first) / DAY_MS - rolled;
  }

  /**
   * Sums each day of [first, end) that is not summed yet with `count` (the
   * reports' own counting over one day), in one transaction per day: the
   * counting and the stored rows see the same history.
   */
  ensure(first: number, end: number, count: (dayStart: number, dayEnd: number) => ReadonlyMap<string, Totals>): number {
    const rolled = new Set(
      (
        this.db.prepare('SELECT day FROM rolled_days WHERE day >= ? AND day < ?').all(first, end) as { day: number }[]
      ).map((r) => r.day),
    );
    // By key, device by device (rows exist only for devices; a deleted one took its rows along).
    const clear = this.db.prepare('DELETE FROM device_days WHERE device_id IN (SELECT id FROM devices) AND day = ?');
    const insert = this.db.prepare(
      `INSERT INTO device_days (device_id, day, broadcasts, finished, failed, missed, stopped, on_air_ms, online_ms,
         observed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const done = this.db.prepare('INSERT OR IGNORE INTO rolled_days (day) VALUES (?)');
    let summed = 0;
    for (let day = first; day < end; day += DAY_MS) {
      if (rolled.has(day)) continue;
      this.db.transaction(() => {
        clear.run(day);
        for (const [deviceId, t] of count(day, day + DAY_MS)) {
          insert.run(
            deviceId,
            day,
            t.broadcasts,
            t.finished,
            t.failed,
            t.missed,
            t.stopped,
            t.onAirMs,
            t.onlineMs,
            t.observedMs,
          );
        }
        done.run(day);
      })();
      summed++;
    }
    return summed;
  }

  /** Each device's sums over the summed days of [first, end). */
  sum(first: number, end: number): Map<string, Totals> {
    const rows = this.db
      .prepare(
        `SELECT device_id AS deviceId, SUM(broadcasts) AS broadcasts, SUM(finished) AS finished,
           SUM(failed) AS failed, SUM(missed) AS missed, SUM(stopped) AS stopped, SUM(on_air_ms) AS onAirMs,
           SUM(online_ms) AS onlineMs, SUM(observed_ms) AS observedMs
         FROM device_days WHERE day >= ? AND day < ? GROUP BY device_id`,
      )
      .all(first, end) as (Totals & { deviceId: string })[];
    return new Map(rows.map(({ deviceId, ...t }) => [deviceId, t]));
  }

  /** Drops the sums of days before `cutoff` (the history they came from is gone too). */
  prune(cutoff: number): void {
    this.db.prepare('DELETE FROM device_days WHERE day < ?').run(cutoff);
    this.db.prepare('DELETE FROM rolled_days WHERE day < ?').run(cutoff);
  }
}
