import { describe, expect, it } from 'vitest';
import { ApiError, type Device } from '../src/lib/api';
import vi from '../src/lib/i18n/vi.json';
import {
  clockOffsetMessage,
  describeEditError,
  displayedVolume,
  editFieldOf,
  formatBytes,
  formatCoordinate,
  formatReading,
  outcomeMessage,
  outcomeTone,
  parseCoordinate,
  planDeviceEdit,
  splitByLocation,
  tileVerdict,
  uptimeMessage,
} from '../src/pages/devices/device-info';

function has(key: string): boolean {
  let node: unknown = vi;
  for (const part of key.split('.')) {
    if (!node || typeof node !== 'object' || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string';
}

const device = (id: string, location: Device['location'], revoked = false): Device => ({
  id,
  name: id,
  communeId: 'default',
  zones: [],
  online: true,
  lastSeen: null,
  agentVersion: null,
  revoked,
  clockOffsetMs: null,
  clockWarning: false,
  simulated: false,
  location,
  telemetry: null,
});

describe('device readings', () => {
  it.each([
    [0, 'vi', '0 B'],
    [999, 'vi', '999 B'],
    [1_500, 'vi', '1,5 kB'],
    [734_000_000, 'vi', '734 MB'],
    [1_536_000_000, 'vi', '1,5 GB'],
    [1_536_000_000, 'en', '1.5 GB'],
    [12_400_000_000, 'vi', '12 GB'],
    [999_960, 'vi', '1 MB'],
    [-1, 'vi', '—'],
  ])('formatBytes(%d, %s) = %s', (bytes, locale, text) => {
    expect(formatBytes(bytes, locale)).toBe(text);
  });

  it.each([
    [0, { key: 'deviceTools.uptimeMinutes', values: { minutes: 0 } }],
    [59, { key: 'deviceTools.uptimeMinutes', values: { minutes: 0 } }],
    [7 * 60 + 30, { key: 'deviceTools.uptimeMinutes', values: { minutes: 7 } }],
    [2 * 3600 + 5 * 60, { key: 'deviceTools.uptimeHours', values: { hours: 2, minutes: 5 } }],
    [3 * 86400 + 4 * 3600 + 59 * 60, { key: 'deviceTools.uptimeDays', values: { days: 3, hours: 4 } }],
  ])('uptime %d s reads %j', (seconds, message) => {
    expect(uptimeMessage(seconds)).toEqual(message);
    expect(has(message.key)).toBe(true);
  });

  it.each([
    [0, 'vi', 'deviceTools.clockExact', undefined],
    [250, 'vi', 'deviceTools.clockBehindMs', '250'],
    [-40, 'vi', 'deviceTools.clockAheadMs', '40'],
    [1_500, 'vi', 'deviceTools.clockBehindS', '1,5'],
    [-12_345, 'en', 'deviceTools.clockAheadS', '12.3'],
  ])('clock offset %d ms (%s) → %s %s', (ms, locale, key, amount) => {
    const message = clockOffsetMessage(ms, locale);
    expect(message.key).toBe(key);
    expect(message.values?.amount).toBe(amount);
    expect(has(key)).toBe(true);
  });

  it('formats readings and coordinates in the console language', () => {
    expect(formatReading(52.34, '°C', 'vi')).toBe('52,3 °C');
    expect(formatReading(-71, 'dBm', 'en')).toBe('-71 dBm');
    expect(formatCoordinate(21.0285, 'vi')).toBe('21,0285');
    expect(formatCoordinate(105.85421234, 'en')).toBe('105.854212');
    expect(formatCoordinate(1234.5, 'vi')).toBe('1234,5'); // no grouping
  });
});

describe('command outcomes', () => {
  it.each([
    [{ action: 'volume', level: 40 } as const, 'finished', null, 'deviceTools.volumeFinished', 'ok'],
    [{ action: 'amp', on: true } as const, 'finished', null, 'deviceTools.ampFinishedOn', 'ok'],
    [{ action: 'amp', on: false } as const, 'finished', null, 'deviceTools.ampFinishedOff', 'ok'],
    [{ action: 'volume', level: 40 } as const, 'sent', null, 'deviceTools.sentWaiting', 'waiting'],
    [{ action: 'volume', level: 40 } as const, 'failed', 'amixer: no such control', 'deviceTools.failed', 'error'],
    [{ action: 'volume', level: 40 } as const, 'failed', '  ', 'deviceTools.failedNoDetail', 'error'],
    [{ action: 'amp', on: true } as const, 'skipped', 'expired', 'deviceTools.skipped', 'error'],
    [{ action: 'amp', on: true } as const, 'skipped', null, 'deviceTools.skippedNoDetail', 'error'],
  ] as const)('%j answered %s (%s) → %s', (command, result, detail, key, tone) => {
    const message = outcomeMessage(command, { result, detail });
    expect(message.key).toBe(key);
    expect(has(key)).toBe(true);
    expect(outcomeTone(result)).toBe(tone);
    if (detail?.trim()) expect(message.values?.detail).toBe(detail);
  });

  it('says the level that was set', () => {
    expect(outcomeMessage({ action: 'volume', level: 35 }, { result: 'finished', detail: null }).values).toEqual({
      level: 35,
    });
  });

  it('shows the level just set until telemetry taken after it arrives', () => {
    const at = Date.parse('2025-11-23T10:00:00Z');
    const before = { at: '2025-11-23T09:59:50Z', volume: 80 };
    const after = { at: '2025-11-23T10:00:20Z', volume: 40 };
    expect(displayedVolume(null, null)).toBeNull();
    expect(displayedVolume(before, null)).toBe(80);
    expect(displayedVolume(null, { level: 40, at })).toBe(40);
    expect(displayedVolume(before, { level: 40, at })).toBe(40);
    expect(displayedVolume(after, { level: 55, at })).toBe(40);
  });
});

describe('rename and location', () => {
  const current = { name: 'Cụm loa Chợ', location: null };

  it.each([
    ['21,0285', 21.0285],
    ['21.0285', 21.0285],
    [' -8.5 ', -8.5],
    ['−8,5', -8.5],
    ['105', 105],
    ['', null],
    ['21,02,85', null],
    ['abc', null],
    ['1e3', null],
  ])('parseCoordinate(%j) = %s', (text, value) => {
    expect(parseCoordinate(text)).toBe(value);
  });

  it('sends only what changed', () => {
    expect(planDeviceEdit({ name: ' Cụm loa Chợ ', latitude: '', longitude: '' }, current)).toEqual({
      errors: {},
      change: null,
    });
    expect(planDeviceEdit({ name: 'Loa chợ mới', latitude: '', longitude: '' }, current).change).toEqual({
      name: 'Loa chợ mới',
    });
    expect(planDeviceEdit({ name: 'Cụm loa Chợ', latitude: '21,0285', longitude: '105,8542' }, current).change).toEqual(
      { location: { latitude: 21.0285, longitude: 105.8542 } },
    );
    const placed = { name: 'A', location: { latitude: 21.0285, longitude: 105.8542 } };
    expect(planDeviceEdit({ name: 'A', latitude: '21.0285', longitude: '105,8542' }, placed).change).toBeNull();
    // Both empty clears the location.
    expect(planDeviceEdit({ name: 'A', latitude: ' ', longitude: '' }, placed).change).toEqual({ location: null });
  });

  it.each([
    [{ name: '', latitude: '', longitude: '' }, { name: 'deviceTools.errors.nameRequired' }],
    [{ name: 'x'.repeat(101), latitude: '', longitude: '' }, { name: 'deviceTools.errors.nameTooLong' }],
    [{ name: 'A', latitude: '91', longitude: '105' }, { latitude: 'deviceTools.errors.latitudeRange' }],
    [{ name: 'A', latitude: '21', longitude: '-181' }, { longitude: 'deviceTools.errors.longitudeRange' }],
    [{ name: 'A', latitude: 'north', longitude: '105' }, { latitude: 'deviceTools.errors.latitudeRange' }],
    [{ name: 'A', latitude: '21', longitude: '' }, { longitude: 'deviceTools.errors.longitudeMissing' }],
    [{ name: 'A', latitude: '', longitude: '105' }, { latitude: 'deviceTools.errors.latitudeMissing' }],
  ])('refuses %j at the field', (input, expected) => {
    const { errors, change } = planDeviceEdit(input, current);
    expect(change).toBeNull();
    expect(Object.fromEntries(Object.entries(errors).map(([field, m]) => [field, m!.key]))).toEqual(expected);
    for (const key of Object.values(expected)) expect(has(key)).toBe(true);
  });

  it.each([
    ['name', 'name'],
    ['location.latitude', 'latitude'],
    ['location.longitude', 'longitude'],
    ['body/location/latitude', 'latitude'],
    ['location', 'form'],
    ['body', 'form'],
    [undefined, 'form'],
  ])("puts the server's field %j at %s", (field, expected) => {
    expect(editFieldOf(field)).toBe(expected);
  });

  it("turns the server's 400 and 404 into sentences at the right place", () => {
    const range = new ApiError(400, 'location.latitude: must be <= 90', { field: 'location.latitude' });
    expect(describeEditError(range)).toEqual({
      latitude: { key: 'deviceTools.errors.latitudeRange', values: { message: range.message } },
    });
    const name = new ApiError(400, 'name: must NOT have fewer than 1 characters', { field: 'name' });
    expect(describeEditError(name).name?.key).toBe('errors.invalidField');
    expect(describeEditError(new ApiError(404, 'no device', { field: 'id' })).form?.key).toBe('devices.errors.gone');
    expect(describeEditError(new ApiError(0, 'offline', { kind: 'network' })).form?.key).toBe('errors.network');
  });
});

describe('device map', () => {
  it.each([
    [{ requested: 0, loaded: 0, failed: 0 }, 0, 'loading'],
    [{ requested: 6, loaded: 0, failed: 0 }, 2_000, 'loading'],
    [{ requested: 6, loaded: 1, failed: 0 }, 100, 'ok'],
    [{ requested: 6, loaded: 1, failed: 5 }, 100, 'ok'], // one tile proves the server answers
    [{ requested: 6, loaded: 0, failed: 1 }, 100, 'loading'], // one error may be a single bad tile
    [{ requested: 6, loaded: 0, failed: 3 }, 100, 'failed'],
    [{ requested: 2, loaded: 0, failed: 2 }, 100, 'failed'], // everything asked for failed
    [{ requested: 6, loaded: 0, failed: 0 }, 8_000, 'failed'], // silence until the timeout
  ] as const)('tiles %j after %d ms → %s', (counts, elapsed, verdict) => {
    expect(tileVerdict(counts, elapsed, 8_000)).toBe(verdict);
  });

  it('puts devices with a location on the map and lists the others; revoked ones on neither', () => {
    const here = { latitude: 21, longitude: 105 };
    const { placed, unplaced } = splitByLocation([
      device('a', here),
      device('b', null),
      device('c', here, true),
      device('d', null, true),
    ]);
    expect(placed.map((d) => d.id)).toEqual(['a']);
    expect(unplaced.map((d) => d.id)).toEqual(['b']);
  });
});
