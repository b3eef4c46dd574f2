/**
 * Pure helpers for the scheduling pages (content, programmes, schedules,
 * approvals): rule summaries, the week view's grouping, programme durations
 * and list reordering. Tested by table in web/test/scheduling.test.ts.
 */
import type { Message } from '../lib/errors';
import { COMMUNE_TIME_ZONE, utcToZonedLocalInput, zonedLocalToUtcIso } from '../lib/format';

export interface Rule {
  kind: 'once' | 'daily' | 'weekly';
  startDate: string;
  endDate?: string;
  times: string[];
  weekdays?: number[];
}

/**
 * A rule as one sentence, kept as an i18n key: "Hằng tuần T2, T4 lúc 06:00,
 * 17:00 từ 01/12/2025". `dayName` names an ISO weekday (1 Monday … 7 Sunday).
 */
export function describeRule(rule: Rule, dayName: (isoDay: number) => string): Message {
  const times = [...rule.times].sort().join(', ');
  const from = displayDate(rule.startDate);
  if (rule.kind === 'once') return { key: 'schedules.rule.once', values: { times, date: from } };
  const days = [...(rule.weekdays ?? [])]
    .sort((a, b) => a - b)
    .map(dayName)
    .join(', ');
  const suffix = rule.endDate ? 'Until' : '';
  const values: Record<string, string> = { times, from, days };
  if (rule.endDate) values.to = displayDate(rule.endDate);
  return { key: `schedules.rule.${rule.kind}${suffix}`, values };
}

/** "2025-12-01" → "01/12/2025" (both languages read day first). */
export function displayDate(isoDate: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : isoDate;
}

/** "1:05" or "1:02:05" for a duration in milliseconds. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export interface DraftItem {
  contentId: string;
  durationMs: number;
  repeat: number;
  gapMs: number;
}

/** Same sum as the server's (server/src/schedule/programmes.ts): each pass plays the item then its gap. */
export function programmeDurationMs(items: readonly DraftItem[]): number {
  return items.reduce((sum, item) => sum + item.repeat * (item.durationMs + item.gapMs), 0);
}

/** A copy of `list` with the element at `from` moved to `to`; out-of-range moves return an unchanged copy. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = [...list];
  if (from < 0 || from >= copy.length || to < 0 || to >= copy.length || from === to) return copy;
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item as T);
  return copy;
}

/** "YYYY-MM-DD" of an instant in the commune's zone. */
export function communeDate(value: string | number | Date, timeZone = COMMUNE_TIME_ZONE): string {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return utcToZonedLocalInput(ms, timeZone).slice(0, 10);
}

/** Adds whole days to a "YYYY-MM-DD" date. */
export function addDays(isoDate: string, days: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** ISO weekday (1 Monday … 7 Sunday) of a "YYYY-MM-DD" date. */
export function isoWeekday(isoDate: string): number {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}

/** The Monday of the week holding `isoDate`. */
export function mondayOf(isoDate: string): string {
  return addDays(isoDate, 1 - isoWeekday(isoDate));
}

/** The [from, to) query of GET /calendar for the week starting on `monday`, in the commune's zone. */
export function weekRange(monday: string, timeZone = COMMUNE_TIME_ZONE): { from: string; to: string } {
  return {
    from: zonedLocalToUtcIso(`${monday}T00:00`, timeZone)!,
    to: zonedLocalToUtcIso(`${addDays(monday, 7)}T00:00`, timeZone)!,
  };
}

export interface WeekDay<T> {
  date: string;
  isoDay: number;
  entries: T[];
}

/** Seven columns from `monday`, each with the entries starting that day (commune time), by start time. */
export function groupByDay<T extends { start: string }>(
  entries: readonly T[],
  monday: string,
  timeZone = COMMUNE_TIME_ZONE,
): WeekDay<T>[] {
  const days: WeekDay<T>[] = Array.from({ length: 7 }, (_, i) => ({
    date: addDays(monday, i),
    isoDay: i + 1,
    entries: [],
  }));
  const byDate = new Map(days.map((day) => [day.date, day]));
  for (const entry of entries) byDate.get(communeDate(entry.start, timeZone))?.entries.push(entry);
  for (const day of days) day.entries.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  return days;
}

/** "06:00, 17:30" typed by a person → sorted unique "HH:MM" list, or null when any part is not a time. */
export function parseTimes(text: string): string[] | null {
  const parts = text
    .split(/[,\s;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (!parts.length) return null;
  const out = new Set<string>();
  for (const part of parts) {
    const match = /^(\d{1,2})[:h](\d{2})$/.exec(part);
    if (!match) return null;
    const h = Number(match[1]);
    const m = Number(match[2]);
    if (h > 23 || m > 59) return null;
    out.add(`${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  }
  return [...out].sort();
}

/** "tin tức, y tế" → ["tin tức", "y tế"]. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}
