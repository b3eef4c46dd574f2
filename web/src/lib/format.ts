/**
 * Times and numbers as the commune reads them: every time in the commune's
 * zone (Asia/Ho_Chi_Minh), whatever zone the officer's phone is set to.
 * Pure functions of their inputs, so they are tested by table.
 */

export const COMMUNE_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** BCP 47 tag for Intl, per UI language. */
export function intlLocale(locale: string | null | undefined): string {
  return locale?.startsWith('en') ? 'en-GB' : 'vi-VN';
}

const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>();

function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>(
  key: string,
  make: () => T,
): T {
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = make();
    formatters.set(key, formatter);
  }
  return formatter as T;
}

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "14:05 23/11/2025" (vi) — date and time in the commune's zone. */
export function formatDateTime(value: string | number | Date, locale: string, timeZone = COMMUNE_TIME_ZONE): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '—';
  const tag = intlLocale(locale);
  return cached(
    `dt|${tag}|${timeZone}`,
    () =>
      new Intl.DateTimeFormat(tag, {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        day: '2-digit',
        month: '2-digit',
        year: 'numeric',
        hourCycle: 'h23',
      }),
  ).format(date);
}

/** "14:05:09" — time of day with seconds in the commune's zone. */
export function formatTime(value: string | number | Date, locale: string, timeZone = COMMUNE_TIME_ZONE): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '—';
  const tag = intlLocale(locale);
  return cached(
    `t|${tag}|${timeZone}`,
    () =>
      new Intl.DateTimeFormat(tag, {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }),
  ).format(date);
}

export function formatNumber(value: number, locale: string): string {
  const tag = intlLocale(locale);
  return cached(`n|${tag}`, () => new Intl.NumberFormat(tag)).format(value);
}

/** A share (0–1) as "66,7%" (vi) / "66.7%" (en); "—" when there is none. */
export function formatPercent(share: number | null, locale: string): string {
  if (share === null || !Number.isFinite(share)) return '—';
  const tag = intlLocale(locale);
  return cached(
    `p|${tag}`,
    () => new Intl.NumberFormat(tag, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }),
  ).format(share);
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "3 phút trước" / "3 minutes ago"; under ten seconds reads as "now". */
export function formatRelative(value: string | number | Date, nowMs: number, locale: string): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '—';
  const tag = intlLocale(locale);
  const rtf = cached(`r|${tag}`, () => new Intl.RelativeTimeFormat(tag, { numeric: 'auto' }));
  let delta = (date.getTime() - nowMs) / 1000;
  if (Math.abs(delta) < 10) return rtf.format(0, 'second');
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(delta) < size) return rtf.format(Math.round(delta), unit);
    delta /= size;
  }
  return rtf.format(Math.round(delta), 'year');
}

// ---------------------------------------------------------------- time zones

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClockIn(timeZone: string, epochMs: number): WallClock {
  const parts = cached(
    `wall|${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }),
  ).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((part) => part.type === type)?.value ?? '0');
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

/** Offset of `timeZone` from UTC at the given instant, in milliseconds (+7 h for Viet Nam). */
export function zoneOffsetMs(timeZone: string, epochMs: number): number {
  const wall = wallClockIn(timeZone, epochMs);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * Reads the value of an `<input type="datetime-local">` ("2025-11-23T17:00")
 * as a wall-clock time in `timeZone` and returns the instant as UTC ISO-8601.
 * Returns null for an empty or malformed value.
 */
export function zonedLocalToUtcIso(value: string, timeZone = COMMUNE_TIME_ZONE): string | null {
  const match = LOCAL_INPUT.exec(value.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Two passes settle the offset even next to a daylight-saving change.
  let instant = wallAsUtc - zoneOffsetMs(timeZone, wallAsUtc);
  instant = wallAsUtc - zoneOffsetMs(timeZone, instant);
  return new Date(instant).toISOString();
}

/** The value an `<input type="datetime-local">` needs to show `epochMs` in `timeZone`. */
export function utcToZonedLocalInput(epochMs: number, timeZone = COMMUNE_TIME_ZONE): string {
  const wall = wallClockIn(timeZone, epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${String(wall.year).padStart(4, '0')}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}`;
}
