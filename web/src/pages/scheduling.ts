/**
 * Pure helpers for the scheduling pages (content, programmes, schedules,
 * approvals): rule summaries, the week view's grouping, programme durations
 * and list reordering. Tested by table in web/test/scheduling.test.ts.
 */
import { ApiError, type Conflict, type Priority } from '../lib/api';
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

/**
 * Whether every time of a rule is already past in its zone, so it would never
 * play (the server refuses such a schedule at save and at approval too).
 */
export function ruleIsPast(
  rule: { kind: string; startDate: string; endDate?: string; times: readonly string[] },
  now: number,
  timeZone = COMMUNE_TIME_ZONE,
): boolean {
  const lastDay = rule.kind === 'once' ? rule.startDate : rule.endDate;
  if (!lastDay) return false; // open-ended: it plays every day from now on
  const instants = rule.times.map((t) => zonedLocalToUtcIso(`${lastDay}T${t}`, timeZone));
  return instants.every((iso) => iso !== null && Date.parse(iso) <= now);
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

/**
 * "06:00, 17:30" typed by a person → sorted unique "HH:MM" list, or null when
 * any part is not a time. Seconds ("06:00:30", which the API allows) are kept
 * when not zero, so editing a schedule made through the API keeps its times.
 */
export function parseTimes(text: string): string[] | null {
  const parts = text
    .split(/[,\s;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (!parts.length) return null;
  const out = new Set<string>();
  const pad = (n: number): string => String(n).padStart(2, '0');
  for (const part of parts) {
    const match = /^(\d{1,2})[:h](\d{2})(?::(\d{2}))?$/.exec(part);
    if (!match) return null;
    const h = Number(match[1]);
    const m = Number(match[2]);
    const sec = Number(match[3] ?? 0);
    if (h > 23 || m > 59 || sec > 59) return null;
    out.add(`${pad(h)}:${pad(m)}${sec ? `:${pad(sec)}` : ''}`);
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

/** What the schedule form holds, as the officer types it. */
export interface ScheduleForm {
  title: string;
  programmeId: string;
  kind: Rule['kind'];
  startDate: string;
  endDate: string;
  /** "06:00, 17:30" */
  times: string;
  weekdays: number[];
  zones: string[];
  devices: string[];
  priority: Priority;
  /** '' for the loudspeaker's own volume. */
  volume: string;
  repeat: number;
  gapSeconds: number;
}

/** A saved schedule loaded into the form for editing (the inverse of the page's `build`). */
export function scheduleToForm(schedule: {
  title: string;
  programmeId: string;
  rule: Rule;
  priority: Priority;
  volume: number | null;
  repeat: number;
  repeatGapMs: number;
  zones: readonly string[];
  devices: readonly string[];
}): ScheduleForm {
  const { rule } = schedule;
  return {
    title: schedule.title,
    programmeId: schedule.programmeId,
    kind: rule.kind,
    startDate: rule.startDate,
    endDate: rule.kind !== 'once' ? (rule.endDate ?? '') : '',
    times: [...rule.times]
      .map((t) => t.replace(/^(\d{2}:\d{2}):00$/, '$1'))
      .sort()
      .join(', '),
    weekdays: rule.kind === 'weekly' ? [...(rule.weekdays ?? [])].sort((a, b) => a - b) : [],
    zones: [...schedule.zones],
    devices: [...schedule.devices],
    priority: schedule.priority,
    volume: schedule.volume === null ? '' : String(schedule.volume),
    repeat: schedule.repeat,
    gapSeconds: schedule.repeatGapMs / 1000,
  };
}

/** Lower case without Vietnamese marks, so "cho" finds "Chợ" and "dong" finds "Đông". */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
}

/**
 * Loudspeakers a schedule may target, by name: revoked ones are left out
 * unless already chosen, and `query` (name or id, marks ignored) narrows the list.
 */
export function targetableDevices<T extends { id: string; name: string; revoked: boolean }>(
  devices: readonly T[],
  query: string,
  chosen: readonly string[],
): T[] {
  const words = foldText(query).split(/\s+/).filter(Boolean);
  return devices
    .filter((d) => !d.revoked || chosen.includes(d.id))
    .filter((d) => {
      const text = foldText(`${d.name} ${d.id}`);
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'vi') || a.id.localeCompare(b.id));
}

/** Whether one occurrence in the week view can still be cancelled (it has not started). */
export function canCancelOccurrence(entry: { start: string; cancelled: boolean }, now: number): boolean {
  return !entry.cancelled && Date.parse(entry.start) > now;
}

/** The week's entries with one occurrence marked cancelled (a copy; the server's answer is 204). */
export function markCancelled<T extends { occurrenceId: string; cancelled: boolean }>(
  entries: readonly T[],
  occurrenceId: string,
): T[] {
  return entries.map((e) => (e.occurrenceId === occurrenceId ? { ...e, cancelled: true } : e));
}

/**
 * The overlaps a refused save (409) carries, or null when the refusal was for
 * another reason. A schedule saved after the check can still meet a conflict
 * someone else created meanwhile; the console then lists it like the check's.
 */
export function conflictsOfRefusal(cause: unknown): { list: Conflict[]; total: number } | null {
  if (!(cause instanceof ApiError) || cause.status !== 409) return null;
  const { conflicts, total } = cause.detail;
  if (!Array.isArray(conflicts) || conflicts.length === 0) return null;
  return { list: conflicts as Conflict[], total: typeof total === 'number' ? total : conflicts.length };
}

/**
 * What a schedule shows on the commune's public page once it airs (the
 * server's `publicTitles`: frozen at approval; awaiting approval, what
 * approving it would confirm): a heading and the titles, or a sentence that
 * nothing of it is public.
 */
export function publicNote(titles: readonly string[]): { key: string; titles: string[] } {
  return titles.length
    ? { key: 'schedules.publicTitles', titles: [...titles] }
    : { key: 'schedules.publicNone', titles: [] };
}
