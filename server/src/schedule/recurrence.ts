/**
 * Schedule rules → concrete start instants. Rules are written in the
 * commune's wall-clock time (e.g. "17:00 daily in Asia/Ho_Chi_Minh") and
 * expanded to UTC instants over a window. Pure: the same rule and window
 * always give the same instants, which is what makes occurrence ids stable
 * across restarts.
 */
import { DateTime, Info } from 'luxon';

export interface ScheduleRule {
  kind: 'once' | 'daily' | 'weekly';
  /** First local date, YYYY-MM-DD. */
  startDate: string;
  /** Last local date (inclusive), YYYY-MM-DD; absent = no end. Ignored for `once`. */
  endDate?: string;
  /** Local wall-clock times, HH:MM, one or several a day. */
  times: string[];
  /** ISO weekdays 1 (Monday) … 7 (Sunday); required for `weekly`. */
  weekdays?: number[];
}

export class RuleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RuleError';
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** HH:MM, or HH:MM:SS where a start must fall on a second (tests, tight programmes). */
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$/;

function localDate(value: string, field: string, zone: string): DateTime {
  const d = DATE_RE.test(value) ? DateTime.fromISO(value, { zone }) : null;
  if (!d?.isValid) throw new RuleError(field, `${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
  return d.startOf('day');
}

/** Checks a rule; throws RuleError naming the field. */
export function validateRule(rule: ScheduleRule, zone: string): void {
  const start = localDate(rule.startDate, 'startDate', zone);
  if (rule.endDate !== undefined && rule.kind !== 'once') {
    const end = localDate(rule.endDate, 'endDate', zone);
    if (end < start) throw new RuleError('endDate', `is before startDate ${rule.startDate}`);
  }
  if (rule.times.length === 0) throw new RuleError('times', 'give at least one time');
  rule.times.forEach((t, i) => {
    if (!TIME_RE.test(t)) throw new RuleError(`times.${i}`, `${JSON.stringify(t)} is not a time (HH:MM, 24-hour)`);
  });
  if (new Set(rule.times).size !== rule.times.length) throw new RuleError('times', 'a time is listed twice');
  if (rule.kind === 'weekly') {
    if (!rule.weekdays?.length) throw new RuleError('weekdays', 'choose at least one weekday');
    rule.weekdays.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 1 || d > 7)
        throw new RuleError(`weekdays.${i}`, 'must be 1 (Monday) … 7 (Sunday)');
    });
  }
  if (rule.kind === 'once' && rule.times.length !== 1)
    throw new RuleError('times', 'a one-off schedule has exactly one time');
}

/**
 * Start instants (UTC epoch ms) of `rule` within [fromMs, toMs), ascending.
 * A wall-clock time that does not exist in the zone (a DST gap) is moved
 * forward by luxon; one that occurs twice takes the first.
 */
export function expandRule(rule: ScheduleRule, zone: string, fromMs: number, toMs: number): number[] {
  validateRule(rule, zone);
  const out: number[] = [];
  const start = localDate(rule.startDate, 'startDate', zone);
  const lastDay =
    rule.kind === 'once'
      ? start
      : rule.endDate
        ? localDate(rule.endDate, 'endDate', zone)
        : DateTime.fromMillis(toMs, { zone }).startOf('day');
  const firstDay = DateTime.max(start, DateTime.fromMillis(fromMs, { zone }).startOf('day').minus({ days: 1 }));
  const times = [...rule.times].sort().map((t) => t.split(':').map(Number) as [number, number, number?]);
  const weekdays = new Set(rule.weekdays ?? []);

  const last = dayNumber(lastDay);
  for (let day = dayNumber(firstDay); day <= last; day++) {
    if (rule.kind === 'weekly' && !weekdays.has(isoWeekday(day))) continue;
    const offset = steadyOffset(zone, day);
    // A DST-transition day goes through luxon's wall-clock rules, from its local midnight.
    const transition = offset === null ? localMidnight(day, zone) : null;
    for (const [hour, minute, second = 0] of times) {
      const instant = transition
        ? transition.set({ hour, minute, second, millisecond: 0 }).toMillis()
        : day * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 - offset! * 60_000;
      if (instant >= fromMs && instant < toMs) out.push(instant);
    }
    const midnight = transition ? transition.toMillis() : day * DAY_MS - offset! * 60_000;
    if (midnight >= toMs) break;
  }
  return out;
}

const DAY_MS = 86_400_000;

/** A local calendar date as days since 1970-01-01. */
function dayNumber(date: DateTime): number {
  return Date.UTC(date.year, date.month - 1, date.day) / DAY_MS;
}

/** ISO weekday (1 Monday … 7 Sunday) of a day number; 1970-01-01 was a Thursday. */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function localMidnight(day: number, zone: string): DateTime {
  const d = new Date(day * DAY_MS);
  return DateTime.fromObject({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, { zone });
}

/**
 * The zone's UTC offset in minutes throughout one local day, or null when it
 * changes around that day (a DST transition: such days go through luxon's
 * wall-clock rules). Wall-clock arithmetic on the other days is what keeps a
 * conflict check over a year of daily schedules fast; luxon's per-day
 * arithmetic was most of its time. Cached: a calendar asks about the same
 * days for every schedule.
 */
function steadyOffset(zone: string, day: number): number | null {
  const key = `${zone}|${day}`;
  const known = offsets.get(key);
  if (known !== undefined) return known;
  const z = Info.normalizeZone(zone);
  // Local day `day` lies within [day − 14 h, day + 24 h + 12 h] in UTC for any offset −12 … +14.
  const before = z.offset(day * DAY_MS - 14 * 3_600_000);
  const after = z.offset((day + 1) * DAY_MS + 12 * 3_600_000);
  const offset = before === after ? before : null;
  if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

const offsets = new Map<string, number | null>();
const MAX_CACHED_OFFSETS = 100_000;

/** Stable id of one occurrence of a schedule: the same after any restart. */
export function occurrenceIdFor(scheduleId: string, startMs: number): string {
  return `occ-${scheduleId}-${startMs.toString(36)}`;
}
