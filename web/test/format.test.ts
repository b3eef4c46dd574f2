import { describe, expect, it } from 'vitest';
import {
  formatDateTime,
  formatNumber,
  formatRelative,
  utcToZonedLocalInput,
  zonedLocalToUtcIso,
  zoneOffsetMs,
} from '../src/lib/format';

describe('commune time zone', () => {
  it.each([
    ['2025-11-23T17:00', '2025-11-23T10:00:00.000Z'],
    ['2025-11-24T06:30', '2025-11-23T23:30:00.000Z'],
    ['2025-01-01T00:00', '2024-12-31T17:00:00.000Z'],
    ['2024-02-29T07:00:15', '2024-02-29T00:00:15.000Z'],
  ])('reads datetime-local %s as Viet Nam time → %s', (local, utc) => {
    expect(zonedLocalToUtcIso(local)).toBe(utc);
  });

  it.each(['', 'tomorrow', '2025-13-01T10:00', '2025-11-23 17:00', '2025-11-23T24:00'])('rejects %j', (value) => {
    expect(zonedLocalToUtcIso(value)).toBeNull();
  });

  it('is +7 h all year (no daylight saving)', () => {
    expect(zoneOffsetMs('Asia/Ho_Chi_Minh', Date.UTC(2025, 0, 15))).toBe(7 * 3600_000);
    expect(zoneOffsetMs('Asia/Ho_Chi_Minh', Date.UTC(2025, 6, 15))).toBe(7 * 3600_000);
  });

  it('handles zones with daylight saving', () => {
    // Summer (+2 h) and winter (+1 h) in a zone that changes its offset.
    expect(zonedLocalToUtcIso('2025-07-01T12:00', 'Europe/Paris')).toBe('2025-07-01T10:00:00.000Z');
    expect(zonedLocalToUtcIso('2025-01-01T12:00', 'Europe/Paris')).toBe('2025-01-01T11:00:00.000Z');
  });

  it('round-trips an instant to the input value', () => {
    expect(utcToZonedLocalInput(Date.parse('2025-11-23T10:00:00Z'))).toBe('2025-11-23T17:00');
    expect(utcToZonedLocalInput(Date.parse('2025-11-23T17:30:00Z'))).toBe('2025-11-24T00:30');
  });
});

describe('formatting', () => {
  it('shows date and time in Viet Nam whatever the machine zone', () => {
    const text = formatDateTime('2025-11-23T10:05:00Z', 'vi');
    expect(text).toContain('17:05');
    expect(text).toContain('23/11/2025');
  });

  it('uses Vietnamese digit grouping', () => {
    expect(formatNumber(5000, 'vi')).toBe('5.000');
    expect(formatNumber(5000, 'en')).toBe('5,000');
  });

  it('says how long ago', () => {
    const now = Date.parse('2025-11-23T10:00:00Z');
    expect(formatRelative('2025-11-23T09:57:00Z', now, 'vi')).toBe('3 phút trước');
    expect(formatRelative('2025-11-23T09:57:00Z', now, 'en')).toBe('3 minutes ago');
    expect(formatRelative('2025-11-23T12:00:00Z', now, 'en')).toBe('in 2 hours');
    expect(formatRelative('2025-11-23T09:59:55Z', now, 'en')).toBe('now');
  });
});
