import { describe, expect, it } from 'vitest';
import { expandRule, occurrenceIdFor, RuleError, type ScheduleRule } from './recurrence';
import { findConflicts, intervalsOf, type Booking } from './conflicts';

const VN = 'Asia/Ho_Chi_Minh';
const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number[]) => ms.map((m) => new Date(m).toISOString());

describe('expandRule', () => {
  const week = [utc('2026-11-23T00:00:00Z'), utc('2026-11-30T00:00:00Z')] as const;

  it.each<[string, ScheduleRule, string[]]>([
    [
      'once at 17:00 Vietnam time is 10:00 UTC',
      { kind: 'once', startDate: '2026-11-25', times: ['17:00'] },
      ['2026-11-25T10:00:00.000Z'],
    ],
    [
      'daily 17:00 within a date range',
      { kind: 'daily', startDate: '2026-11-24', endDate: '2026-11-26', times: ['17:00'] },
      ['2026-11-24T10:00:00.000Z', '2026-11-25T10:00:00.000Z', '2026-11-26T10:00:00.000Z'],
    ],
    [
      'twice a day, times given out of order',
      { kind: 'daily', startDate: '2026-11-28', endDate: '2026-11-28', times: ['17:00', '06:30'] },
      ['2026-11-27T23:30:00.000Z', '2026-11-28T10:00:00.000Z'],
    ],
    [
      'weekly on Monday and Friday (ISO 1 and 5)',
      { kind: 'weekly', startDate: '2026-11-01', times: ['06:00'], weekdays: [1, 5] },
      // Fri 27 and Mon 30 Nov 06:00 local; Mon 23 Nov 06:00 local is 22 Nov 23:00 UTC, before the window.
      ['2026-11-26T23:00:00.000Z', '2026-11-29T23:00:00.000Z'],
    ],
    [
      'an early-morning local time falls on the previous UTC day',
      { kind: 'daily', startDate: '2026-11-29', endDate: '2026-11-30', times: ['05:00'] },
      ['2026-11-28T22:00:00.000Z', '2026-11-29T22:00:00.000Z'],
    ],
    [
      'a range entirely before the window',
      { kind: 'daily', startDate: '2026-01-01', endDate: '2026-01-31', times: ['07:00'] },
      [],
    ],
  ])('%s', (_name, rule, expected) => {
    expect(iso(expandRule(rule, VN, week[0], week[1]))).toEqual(expected);
  });

  it.each<[string, ScheduleRule, string[]]>([
    [
      'daily across a month boundary (31 January → 1 February)',
      { kind: 'daily', startDate: '2027-01-30', endDate: '2027-02-01', times: ['18:00'] },
      ['2027-01-30T11:00:00.000Z', '2027-01-31T11:00:00.000Z', '2027-02-01T11:00:00.000Z'],
    ],
    [
      'weekly across a year boundary (Thursday 31 Dec 2026, Friday 1 Jan 2027)',
      { kind: 'weekly', startDate: '2026-12-28', endDate: '2027-01-03', times: ['07:00'], weekdays: [4, 5] },
      ['2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ],
    [
      'daily over a leap day (28 Feb → 29 Feb → 1 Mar 2028)',
      { kind: 'daily', startDate: '2028-02-28', endDate: '2028-03-01', times: ['12:00'] },
      ['2028-02-28T05:00:00.000Z', '2028-02-29T05:00:00.000Z', '2028-03-01T05:00:00.000Z'],
    ],
    [
      'a time with seconds',
      { kind: 'once', startDate: '2026-11-25', times: ['17:00:45'] },
      ['2026-11-25T10:00:45.000Z'],
    ],
  ])('%s (window 2026–2028)', (_name, rule, expected) => {
    expect(iso(expandRule(rule, VN, utc('2026-11-01T00:00:00Z'), utc('2028-12-31T00:00:00Z')))).toEqual(expected);
  });

  it('keeps the wall-clock time across a DST change in zones that have one', () => {
    const starts = expandRule(
      { kind: 'daily', startDate: '2026-03-28', endDate: '2026-03-30', times: ['09:00'] },
      'Europe/Berlin',
      utc('2026-03-27T00:00:00Z'),
      utc('2026-04-01T00:00:00Z'),
    );
    expect(iso(starts)).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  });

  it('an open-ended daily rule stops at the window and is the same every time', () => {
    const rule: ScheduleRule = { kind: 'daily', startDate: '2026-01-01', times: ['17:00'] };
    const a = expandRule(rule, VN, utc('2026-11-23T00:00:00Z'), utc('2026-11-30T00:00:00Z'));
    expect(a).toHaveLength(7);
    expect(expandRule(rule, VN, utc('2026-11-23T00:00:00Z'), utc('2026-11-30T00:00:00Z'))).toEqual(a);
    // Ids are stored: written out, not recomputed, so a change of scheme (which would make a
    // restart re-create every occurrence under a new id) fails here. 17:00 in Hanoi is 10:00Z.
    const ids = a.map((s) => occurrenceIdFor('sch-1', s));
    expect([ids[0], ids[6]]).toEqual(['occ-sch-1-mwt3h340', 'occ-sch-1-mx1o4740']);
    expect(new Set(a.map((s) => occurrenceIdFor('sch-1', s))).size).toBe(7);
  });

  it.each<[Partial<ScheduleRule>, string]>([
    [{ startDate: '25/11/2026' }, 'startDate'],
    [{ endDate: '2026-11-01' }, 'endDate'],
    [{ times: [] }, 'times'],
    [{ times: ['7h30'] }, 'times.0'],
    [{ times: ['24:00'] }, 'times.0'],
    [{ times: ['07:00', '07:00'] }, 'times'],
    [{ kind: 'weekly', weekdays: [] }, 'weekdays'],
    [{ kind: 'weekly', weekdays: [0] }, 'weekdays.0'],
    [{ kind: 'once', times: ['07:00', '08:00'] }, 'times'],
  ])('refuses %j naming %s', (patch, field) => {
    const rule = { kind: 'daily', startDate: '2026-11-20', times: ['07:00'], ...patch } as ScheduleRule;
    try {
      expandRule(rule, VN, 0, 1);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RuleError);
      expect((err as RuleError).field).toBe(field);
    }
  });
});

describe('findConflicts', () => {
  const m = 60_000;
  const booking = (id: string, devices: string[], starts: number[], minutes: number): Booking => ({
    scheduleId: id,
    title: `Chương trình ${id}`,
    priority: 'normal',
    deviceIds: devices,
    intervals: intervalsOf(starts, minutes * m),
  });

  it.each<[string, Booking, Booking[], number]>([
    ['no shared device', booking('a', ['d1'], [0], 10), [booking('b', ['d2'], [0], 10)], 0],
    ['back to back is not a conflict', booking('a', ['d1'], [0], 10), [booking('b', ['d1'], [10 * m], 10)], 0],
    ['overlap by one minute', booking('a', ['d1'], [0], 10), [booking('b', ['d1'], [9 * m], 10)], 1],
    ['contained', booking('a', ['d1'], [0], 60), [booking('b', ['d1'], [10 * m], 5)], 1],
    ['itself is ignored', booking('a', ['d1'], [0], 10), [booking('a', ['d1'], [0], 10)], 0],
    [
      'several starts each overlapping',
      booking('a', ['d1', 'd2'], [0, 100 * m, 200 * m], 10),
      [booking('b', ['d2'], [5 * m, 105 * m, 300 * m], 10)],
      2,
    ],
  ])('%s', (_name, candidate, existing, total) => {
    expect(findConflicts(candidate, existing).total).toBe(total);
  });

  it('names the device, the other programme and the times', () => {
    const report = findConflicts(booking('a', ['d1', 'd2'], [0], 10), [booking('b', ['d2', 'd3'], [5 * m], 10)]);
    expect(report.conflicts).toEqual([
      {
        otherScheduleId: 'b',
        otherTitle: 'Chương trình b',
        otherPriority: 'normal',
        deviceIds: ['d2'],
        start: 0,
        end: 10 * m,
        otherStart: 5 * m,
        otherEnd: 15 * m,
      },
    ]);
  });

  it('caps the list but counts everything', () => {
    const day = 24 * 60 * m;
    const starts = Array.from({ length: 365 }, (_, i) => i * day);
    const report = findConflicts(booking('a', ['d1'], starts, 30), [booking('b', ['d1'], starts, 30)], 10);
    expect(report.total).toBe(365);
    expect(report.conflicts).toHaveLength(10);
  });
});
