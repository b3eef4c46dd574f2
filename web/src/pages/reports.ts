/**
 * The reports page's period: whole days in the commune's zone, turned into
 * the [from, to) instants the API takes. Pure functions, tested by table.
 */
import { COMMUNE_TIME_ZONE, utcToZonedLocalInput, zonedLocalToUtcIso } from '../lib/format';

/** The default period: the last 30 days, today included. */
export const DEFAULT_REPORT_DAYS = 30;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "2025-11-23" plus `days` (may be negative), or null for a malformed day. */
export function addDays(day: string, days: number): string | null {
  const match = DAY.exec(day);
  if (!match) return null;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days));
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().slice(0, 10);
}

/** Today in the commune's zone, "YYYY-MM-DD" (the value of an `<input type="date">`). */
export function todayIn(nowMs: number, timeZone = COMMUNE_TIME_ZONE): string {
  return utcToZonedLocalInput(nowMs, timeZone).slice(0, 10);
}

export function defaultReportDays(nowMs: number, timeZone = COMMUNE_TIME_ZONE): { from: string; to: string } {
  const to = todayIn(nowMs, timeZone);
  return { from: addDays(to, 1 - DEFAULT_REPORT_DAYS)!, to };
}

export type PeriodResult = { ok: true; from: string; to: string } | { ok: false; field: 'from' | 'to' };

/**
 * From the start of day `fromDay` to the end of day `toDay` (both in the
 * commune's zone) as UTC ISO instants; names the day that is wrong.
 */
export function reportPeriod(fromDay: string, toDay: string, timeZone = COMMUNE_TIME_ZONE): PeriodResult {
  const from = DAY.test(fromDay) ? zonedLocalToUtcIso(`${fromDay}T00:00`, timeZone) : null;
  if (!from) return { ok: false, field: 'from' };
  const next = addDays(toDay, 1);
  const to = next ? zonedLocalToUtcIso(`${next}T00:00`, timeZone) : null;
  if (!to || Date.parse(to) <= Date.parse(from)) return { ok: false, field: 'to' };
  return { ok: true, from, to };
}
