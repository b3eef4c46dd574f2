/**
 * expandRule does wall-clock arithmetic on days whose UTC offset is steady and
 * hands DST-transition days to luxon. Checked here against the plain luxon
 * expansion (walk every calendar date, set the time) over years of days in
 * zones with and without DST, with gaps and repeats at odd hours, a transition
 * at midnight, and a zone that skipped a whole day. (The earlier expansion
 * stepped a luxon DateTime by one day: where DST starts at midnight the steps
 * landed at 01:00 from then on and the last day of a rule was left out.)
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { expandRule, type ScheduleRule } from './recurrence';

/**
 * The straightforward expansion: walk the calendar dates (in UTC, so no date
 * is skipped or repeated) and let luxon place each wall-clock time in the zone.
 */
function reference(rule: ScheduleRule, zone: string, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  const date = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
  const localDateOf = (ms: number) => DateTime.fromMillis(ms, { zone }).toISODate()!;
  const last = rule.kind === 'once' ? date(rule.startDate) : date(rule.endDate ?? localDateOf(toMs));
  const first = DateTime.max(date(rule.startDate), date(localDateOf(fromMs)).minus({ days: 1 }));
  const times = [...rule.times].sort().map((t) => t.split(':').map(Number) as [number, number, number?]);
  for (let day = first; day <= last; day = day.plus({ days: 1 })) {
    if (rule.kind === 'weekly' && !rule.weekdays!.includes(day.weekday)) continue;
    const midnight = DateTime.fromObject({ year: day.year, month: day.month, day: day.day }, { zone });
    for (const [hour, minute, second = 0] of times) {
      const instant = midnight.set({ hour, minute, second, millisecond: 0 }).toMillis();
      if (instant >= fromMs && instant < toMs) out.push(instant);
    }
    if (midnight.toMillis() >= toMs) break;
  }
  return out;
}

const ZONES = [
  'Asia/Ho_Chi_Minh',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe', // 30-minute DST
  'America/Santiago', // DST changes at midnight
  'Asia/Kathmandu', // +05:45
  'Pacific/Apia', // skipped 30 December 2011
  'UTC',
];
const TIMES = ['00:00', '00:30', '01:30', '02:00', '02:30', '03:00', '06:00', '12:00:30', '23:59:59'];

describe('expandRule against luxon day by day', () => {
  it.each(ZONES)('daily and weekly rules over several years in %s', (zone) => {
    const from = Date.UTC(2011, 0, 1);
    const to = Date.UTC(2014, 0, 1);
    const rules: ScheduleRule[] = [
      { kind: 'daily', startDate: '2011-01-01', times: TIMES },
      { kind: 'daily', startDate: '2011-03-20', endDate: '2013-11-05', times: ['02:30', '17:00'] },
      { kind: 'weekly', startDate: '2011-01-01', times: ['00:00', '01:59:59', '02:30'], weekdays: [1, 5, 7] },
      { kind: 'once', startDate: '2012-03-25', times: ['02:30'] },
      { kind: 'once', startDate: '2011-12-30', times: ['12:00'] },
    ];
    let compared = 0;
    for (const rule of rules) {
      const expected = reference(rule, zone, from, to);
      expect(expandRule(rule, zone, from, to), `${zone} ${JSON.stringify(rule)}`).toEqual(expected);
      compared += expected.length;
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('windows that start and end mid-day give the same instants', () => {
    const rule: ScheduleRule = { kind: 'daily', startDate: '2024-01-01', times: ['01:30', '02:30', '23:00'] };
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Ho_Chi_Minh']) {
      for (let k = 0; k < 50; k++) {
        const from = Date.UTC(2024, 2, 1) + k * 7_777_777;
        const to = from + 3 * 86_400_000 + k * 1_234_567;
        expect(expandRule(rule, zone, from, to), `${zone} ${from}`).toEqual(reference(rule, zone, from, to));
      }
    }
  });
});
