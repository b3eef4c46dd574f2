import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import {
  addDays,
  canCancelOccurrence,
  communeDate,
  conflictsOfRefusal,
  describeRule,
  foldText,
  formatDuration,
  groupByDay,
  isoWeekday,
  markCancelled,
  mondayOf,
  moveItem,
  parseTags,
  parseTimes,
  programmeDurationMs,
  publicNote,
  scheduleToForm,
  targetableDevices,
  weekRange,
} from '../src/pages/scheduling';

const day = (n: number): string => ['', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'][n]!;

describe('rule summary', () => {
  it.each([
    [
      { kind: 'once', startDate: '2025-12-01', times: ['17:00', '06:00'] },
      { key: 'schedules.rule.once', values: { times: '06:00, 17:00', date: '01/12/2025' } },
    ],
    [
      { kind: 'daily', startDate: '2025-12-01', times: ['06:00'] },
      { key: 'schedules.rule.daily', values: { times: '06:00', from: '01/12/2025', days: '' } },
    ],
    [
      { kind: 'weekly', startDate: '2025-12-01', endDate: '2025-12-31', times: ['06:00'], weekdays: [7, 1, 3] },
      {
        key: 'schedules.rule.weeklyUntil',
        values: { times: '06:00', from: '01/12/2025', to: '31/12/2025', days: 'T2, T4, CN' },
      },
    ],
  ] as const)('%j', (rule, expected) => {
    expect(
      describeRule(
        { ...rule, times: [...rule.times], weekdays: 'weekdays' in rule ? [...rule.weekdays] : undefined },
        day,
      ),
    ).toEqual(expected);
  });
});

describe('week grouping', () => {
  it('knows ISO weekdays and Mondays', () => {
    expect(isoWeekday('2025-11-24')).toBe(1);
    expect(isoWeekday('2025-11-30')).toBe(7);
    expect(mondayOf('2025-11-30')).toBe('2025-11-24');
    expect(mondayOf('2025-11-24')).toBe('2025-11-24');
    expect(addDays('2025-12-29', 7)).toBe('2026-01-05');
  });

  it('reads dates in the commune zone, not UTC', () => {
    // 18:30 UTC on Sunday is 01:30 on Monday in Ha Noi.
    expect(communeDate('2025-11-30T18:30:00Z')).toBe('2025-12-01');
    expect(weekRange('2025-11-24')).toEqual({ from: '2025-11-23T17:00:00.000Z', to: '2025-11-30T17:00:00.000Z' });
  });

  it('puts entries in seven columns by commune day, sorted by start', () => {
    const entries = [
      { id: 'b', start: '2025-11-24T10:00:00Z' },
      { id: 'a', start: '2025-11-23T23:00:00Z' }, // Monday 06:00 in Ha Noi
      { id: 'sun', start: '2025-11-30T12:00:00Z' },
      { id: 'next-week', start: '2025-11-30T17:00:00Z' },
    ];
    const days = groupByDay(entries, '2025-11-24');
    expect(days.map((d) => d.date)).toEqual([
      '2025-11-24',
      '2025-11-25',
      '2025-11-26',
      '2025-11-27',
      '2025-11-28',
      '2025-11-29',
      '2025-11-30',
    ]);
    expect(days[0]!.entries.map((e) => e.id)).toEqual(['a', 'b']);
    expect(days[6]!.entries.map((e) => e.id)).toEqual(['sun']);
    expect(days.flatMap((d) => d.entries)).toHaveLength(3);
  });
});

describe('programme editing', () => {
  it('sums repeats and gaps like the server', () => {
    expect(
      programmeDurationMs([
        { contentId: 'a', durationMs: 10_000, repeat: 2, gapMs: 1_000 },
        { contentId: 'b', durationMs: 5_000, repeat: 1, gapMs: 0 },
      ]),
    ).toBe(27_000);
    expect(programmeDurationMs([])).toBe(0);
  });

  it('moves items and ignores moves off the ends', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
    expect(moveItem(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moveItem(['a', 'b', 'c'], 2, 3)).toEqual(['a', 'b', 'c']);
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65_400)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});

describe('form parsing', () => {
  it.each([
    ['06:00, 17:30', ['06:00', '17:30']],
    ['17:30 6:00 06:00', ['06:00', '17:30']],
    ['6h30', ['06:30']],
    ['', null],
    ['25:00', null],
    ['sáng', null],
  ])('times %j', (text, expected) => {
    expect(parseTimes(text)).toEqual(expected);
  });

  it('splits tags', () => {
    expect(parseTags(' tin tức, y tế,, tin tức ')).toEqual(['tin tức', 'y tế']);
  });
});

describe('editing a schedule', () => {
  const base = {
    title: 'Tin sáng',
    programmeId: 'pg-1',
    priority: 'normal' as const,
    volume: null,
    repeat: 2,
    repeatGapMs: 30_000,
    zones: ['thon-dong'],
    devices: ['loa-03'],
  };

  it('loads a weekly schedule into the form', () => {
    expect(
      scheduleToForm({
        ...base,
        rule: {
          kind: 'weekly',
          startDate: '2025-12-01',
          endDate: '2025-12-31',
          times: ['17:30:00', '06:00'],
          weekdays: [5, 1],
        },
      }),
    ).toEqual({
      title: 'Tin sáng',
      programmeId: 'pg-1',
      kind: 'weekly',
      startDate: '2025-12-01',
      endDate: '2025-12-31',
      times: '06:00, 17:30',
      weekdays: [1, 5],
      zones: ['thon-dong'],
      devices: ['loa-03'],
      priority: 'normal',
      volume: '',
      repeat: 2,
      gapSeconds: 30,
    });
  });

  it('keeps what a one-off has and drops what it cannot', () => {
    const form = scheduleToForm({
      ...base,
      volume: 80,
      rule: { kind: 'once', startDate: '2025-12-01', endDate: '2025-12-02', times: ['06:00:30'], weekdays: [1] },
    });
    expect(form).toMatchObject({ kind: 'once', endDate: '', weekdays: [], volume: '80', times: '06:00:30' });
    expect(parseTimes(form.times)).toEqual(['06:00:30']);
  });

  it('reads times with seconds, dropping zero seconds', () => {
    expect(parseTimes('06:00:00, 6:00, 17:30:15')).toEqual(['06:00', '17:30:15']);
    expect(parseTimes('06:00:60')).toBeNull();
  });
});

describe('choosing loudspeakers', () => {
  const devices = [
    { id: 'loa-02', name: 'Cụm loa Chợ', revoked: false },
    { id: 'loa-01', name: 'Cụm loa Nhà văn hóa', revoked: false },
    { id: 'loa-09', name: 'Cụm loa Đồng', revoked: true },
    { id: 'loa-10', name: 'Cụm loa Đình', revoked: true },
  ];

  it('lists usable ones by name, and revoked ones only when already chosen', () => {
    expect(targetableDevices(devices, '', []).map((d) => d.id)).toEqual(['loa-02', 'loa-01']);
    expect(targetableDevices(devices, '', ['loa-10']).map((d) => d.id)).toEqual(['loa-02', 'loa-10', 'loa-01']);
  });

  it('finds by name or id, ignoring marks and case', () => {
    expect(targetableDevices(devices, 'cho', []).map((d) => d.id)).toEqual(['loa-02']);
    expect(targetableDevices(devices, 'VAN HOA', []).map((d) => d.id)).toEqual(['loa-01']);
    expect(targetableDevices(devices, 'dinh', ['loa-10']).map((d) => d.id)).toEqual(['loa-10']);
    expect(targetableDevices(devices, 'loa-01', []).map((d) => d.id)).toEqual(['loa-01']);
    expect(targetableDevices(devices, 'xyz', [])).toEqual([]);
  });

  it('folds Vietnamese text', () => {
    expect(foldText('Đường Trần Hưng Đạo')).toBe('duong tran hung dao');
  });
});

describe('cancelling one occurrence', () => {
  const now = Date.parse('2025-12-01T00:00:00Z');

  it.each([
    [{ start: '2025-12-01T00:00:01Z', cancelled: false }, true],
    [{ start: '2025-12-01T00:00:00Z', cancelled: false }, false],
    [{ start: '2025-11-30T23:00:00Z', cancelled: false }, false],
    [{ start: '2025-12-02T00:00:00Z', cancelled: true }, false],
  ])('%j can be cancelled: %s', (entry, expected) => {
    expect(canCancelOccurrence(entry, now)).toBe(expected);
  });

  it('marks only that occurrence, without changing the list it was given', () => {
    const week = [
      { occurrenceId: 'a', cancelled: false },
      { occurrenceId: 'b', cancelled: false },
    ];
    expect(markCancelled(week, 'b')).toEqual([
      { occurrenceId: 'a', cancelled: false },
      { occurrenceId: 'b', cancelled: true },
    ]);
    expect(week[1]!.cancelled).toBe(false);
  });
});

describe('a refused save', () => {
  const conflict = {
    deviceIds: ['loa-1'],
    otherScheduleId: 'sc-1',
    otherTitle: 'Bản tin sáng',
    otherPriority: 'normal' as const,
    start: '2026-01-01T23:00:00.000Z',
    end: '2026-01-01T23:05:00.000Z',
    otherStart: '2026-01-01T23:02:00.000Z',
    otherEnd: '2026-01-01T23:10:00.000Z',
  };

  it('lists the overlaps a 409 carries', () => {
    const cause = new ApiError(409, 'overlaps 3 time(s)', {
      field: 'rule',
      detail: { conflicts: [conflict], total: 3 },
    });
    expect(conflictsOfRefusal(cause)).toEqual({ list: [conflict], total: 3 });
  });

  it.each([
    ['a 409 without a list (wrong state)', new ApiError(409, 'only a draft…', { field: 'status' })],
    ['a 400 with a list', new ApiError(400, 'bad', { detail: { conflicts: [conflict], total: 1 } })],
    ['an empty list', new ApiError(409, 'x', { detail: { conflicts: [], total: 0 } })],
    ['not an API error', new Error('boom')],
  ])('is null for %s', (_name, cause) => {
    expect(conflictsOfRefusal(cause)).toBeNull();
  });
});

describe('what approval confirms for the public page', () => {
  it('lists the public titles under their heading', () => {
    expect(publicNote(['Lịch tiêm chủng', 'Thu thuế đất'])).toEqual({
      key: 'schedules.publicTitles',
      titles: ['Lịch tiêm chủng', 'Thu thuế đất'],
    });
  });

  it('says so when nothing of it is public', () => {
    expect(publicNote([])).toEqual({ key: 'schedules.publicNone', titles: [] });
  });
});
