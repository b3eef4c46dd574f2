import { describe, expect, it } from 'vitest';
import { formatPercent } from '../src/lib/format';
import { addDays, defaultReportDays, reportPeriod, todayIn } from '../src/pages/reports';

describe('report period', () => {
  it('adds days across months and years', () => {
    expect(addDays('2025-11-23', -29)).toBe('2025-10-25');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('23/11/2025', 1)).toBeNull();
  });

  it("defaults to the last 30 days, today included, by the commune's calendar", () => {
    // 23:30 UTC on 23 Nov is already 24 Nov in Viet Nam.
    const now = Date.UTC(2025, 10, 23, 23, 30);
    expect(todayIn(now)).toBe('2025-11-24');
    expect(defaultReportDays(now)).toEqual({ from: '2025-10-26', to: '2025-11-24' });
  });

  it('runs from the start of the first day to the end of the last, Viet Nam time', () => {
    expect(reportPeriod('2025-11-01', '2025-11-30')).toEqual({
      ok: true,
      from: '2025-10-31T17:00:00.000Z',
      to: '2025-11-30T17:00:00.000Z',
    });
    expect(reportPeriod('2025-11-23', '2025-11-23')).toMatchObject({ ok: true, to: '2025-11-23T17:00:00.000Z' });
  });

  it.each([
    ['', '2025-11-30', 'from'],
    ['2025-11-30', '', 'to'],
    ['2025-12-01', '2025-11-30', 'to'],
  ])('names the wrong day: %j – %j → %s', (from, to, field) => {
    expect(reportPeriod(from, to)).toEqual({ ok: false, field });
  });
});

describe('percent', () => {
  it.each([
    [0.6667, 'vi', '66,7%'],
    [0.6667, 'en', '66.7%'],
    [1, 'vi', '100,0%'],
    [null, 'vi', '—'],
  ])('%s in %s → %s', (share, locale, text) => {
    expect(formatPercent(share, locale)).toBe(text);
  });
});
