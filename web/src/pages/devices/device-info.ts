/**
 * What the Devices page says about one loudspeaker, as pure functions of the
 * device's record and the console's language: sizes, uptime, clock offset,
 * command outcomes, the rename/location form and the map's tile check.
 * Tested by table in web/test/devices.test.ts.
 */
import {
  ApiError,
  type CommandOutcome,
  type Device,
  type DeviceChange,
  type DeviceLocation,
  type DeviceTelemetry,
} from '../../lib/api';
import { describeApiError, type FieldErrors, type Message } from '../../lib/errors';
import { intlLocale } from '../../lib/format';

const decimals = (locale: string, digits: number): Intl.NumberFormat =>
  new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: digits });

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** "1,5 GB" (vi) / "1.5 GB" (en), in SI units as disk makers count: one decimal under 10. */
export function formatBytes(bytes: number, locale: string): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  // 999.96 kB rounds to "1000 kB": say "1 MB" instead.
  if (unit < SIZE_UNITS.length - 1 && Math.round(value) >= 1000) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${decimals(locale, digits).format(value)} ${SIZE_UNITS[unit]}`;
}

/** "3 ngày 4 giờ" / "2 giờ 5 phút" / "7 phút", as an i18n message. */
export function uptimeMessage(seconds: number): Message {
  const total = Math.max(0, Math.floor(seconds / 60));
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days > 0) return { key: 'deviceTools.uptimeDays', values: { days, hours } };
  if (hours > 0) return { key: 'deviceTools.uptimeHours', values: { hours, minutes } };
  return { key: 'deviceTools.uptimeMinutes', values: { minutes } };
}

/**
 * `offsetMs` is server clock − device clock: positive means the loudspeaker's
 * clock is behind. Under a second reads in ms, above in seconds.
 */
export function clockOffsetMessage(offsetMs: number, locale: string): Message {
  const size = Math.abs(offsetMs);
  if (size === 0) return { key: 'deviceTools.clockExact' };
  const direction = offsetMs > 0 ? 'Behind' : 'Ahead';
  return size < 1000
    ? { key: `deviceTools.clock${direction}Ms`, values: { amount: decimals(locale, 0).format(size) } }
    : { key: `deviceTools.clock${direction}S`, values: { amount: decimals(locale, 1).format(size / 1000) } };
}

/** "52,3 °C", "−71 dBm": a reading with its unit, in the console's number format. */
export function formatReading(value: number, unit: string, locale: string): string {
  return `${decimals(locale, 1).format(value)} ${unit}`;
}

/** "21,0285" (vi) / "21.0285" (en): up to six decimals (about 10 cm), no grouping. */
export function formatCoordinate(value: number, locale: string): string {
  return new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 6, useGrouping: false }).format(value);
}

// ---------------------------------------------------------------- commands

export type CommandKind = { action: 'volume'; level: number } | { action: 'amp'; on: boolean };

/** The sentence under the controls once the server has answered a volume or amplifier command. */
export function outcomeMessage(command: CommandKind, outcome: Pick<CommandOutcome, 'result' | 'detail'>): Message {
  const detail = outcome.detail?.trim() || null;
  switch (outcome.result) {
    case 'finished':
      return command.action === 'volume'
        ? { key: 'deviceTools.volumeFinished', values: { level: command.level } }
        : { key: command.on ? 'deviceTools.ampFinishedOn' : 'deviceTools.ampFinishedOff' };
    case 'sent':
      return { key: 'deviceTools.sentWaiting' };
    case 'skipped':
      return detail ? { key: 'deviceTools.skipped', values: { detail } } : { key: 'deviceTools.skippedNoDetail' };
    case 'failed':
      return detail ? { key: 'deviceTools.failed', values: { detail } } : { key: 'deviceTools.failedNoDetail' };
  }
}

/** How the sentence is shown: done, still on its way, or refused. */
export function outcomeTone(result: CommandOutcome['result']): 'ok' | 'waiting' | 'error' {
  if (result === 'finished') return 'ok';
  if (result === 'sent') return 'waiting';
  return 'error';
}

/** A level this console set, and when (console clock, ms). */
export interface CommandedLevel {
  level: number;
  at: number;
}

/**
 * The volume the slider shows: the level just set from this console until the
 * loudspeaker reports telemetry taken after it (every 30 s), then what it
 * reports. Null when neither is known.
 */
export function displayedVolume(
  telemetry: Pick<DeviceTelemetry, 'at' | 'volume'> | null,
  commanded: CommandedLevel | null,
): number | null {
  if (commanded && (!telemetry || Date.parse(telemetry.at) < commanded.at)) return commanded.level;
  return telemetry?.volume ?? null;
}

// ---------------------------------------------------------------- rename and location

export type EditField = 'name' | 'latitude' | 'longitude';
export const MAX_NAME = 100;

const NUMBER = /^[+\-−]?\d+(?:[.,]\d+)?$/;

/** Reads "21,0285" or "21.0285" (a Vietnamese keyboard types a comma); null when not a number. */
export function parseCoordinate(text: string): number | null {
  const trimmed = text.trim().replace(/\s+/g, '');
  if (!NUMBER.test(trimmed)) return null;
  const value = Number(trimmed.replace(',', '.').replace('−', '-'));
  return Number.isFinite(value) ? value : null;
}

export interface EditInput {
  name: string;
  latitude: string;
  longitude: string;
}

/**
 * Checks the form as the server would and returns the PATCH body holding only
 * what changed (null when nothing did). Both coordinates empty clears the
 * location.
 */
export function planDeviceEdit(
  input: EditInput,
  current: Pick<Device, 'name' | 'location'>,
): { errors: FieldErrors<EditField>; change: DeviceChange | null } {
  const errors: FieldErrors<EditField> = {};
  const name = input.name.trim();
  if (!name) errors.name = { key: 'deviceTools.errors.nameRequired' };
  else if (name.length > MAX_NAME) errors.name = { key: 'deviceTools.errors.nameTooLong', values: { max: MAX_NAME } };

  let location: DeviceLocation | null = null;
  const latText = input.latitude.trim();
  const lonText = input.longitude.trim();
  if (latText || lonText) {
    const latitude = parseCoordinate(latText);
    const longitude = parseCoordinate(lonText);
    if (!latText) errors.latitude = { key: 'deviceTools.errors.latitudeMissing' };
    else if (latitude === null || latitude < -90 || latitude > 90)
      errors.latitude = { key: 'deviceTools.errors.latitudeRange' };
    if (!lonText) errors.longitude = { key: 'deviceTools.errors.longitudeMissing' };
    else if (longitude === null || longitude < -180 || longitude > 180)
      errors.longitude = { key: 'deviceTools.errors.longitudeRange' };
    if (latitude !== null && longitude !== null) location = { latitude, longitude };
  }
  if (Object.keys(errors).length) return { errors, change: null };

  const change: DeviceChange = {};
  if (name !== current.name) change.name = name;
  const same =
    location === current.location ||
    (location !== null &&
      current.location !== null &&
      location.latitude === current.location.latitude &&
      location.longitude === current.location.longitude);
  if (!same) change.location = location;
  return { errors, change: Object.keys(change).length ? change : null };
}

/**
 * Places the server's 400 on the form: its `field` is "name",
 * "location.latitude" or "location.longitude"; anything else stays on the form.
 */
export function editFieldOf(field: string | undefined): EditField | 'form' {
  const path = (field ?? '').replace(/^body[./]?/, '').replace(/\//g, '.');
  if (path === 'name') return 'name';
  if (path === 'location.latitude') return 'latitude';
  if (path === 'location.longitude') return 'longitude';
  return 'form';
}

/** A failed PATCH as sentences at the name, latitude or longitude field (or the form). */
export function describeEditError(cause: unknown): FieldErrors<EditField> {
  const placed =
    cause instanceof ApiError && cause.status !== 0
      ? new ApiError(cause.status, cause.message, { field: editFieldOf(cause.field) })
      : cause;
  return describeApiError(placed, ['name', 'latitude', 'longitude'] as const, {
    '400:latitude': 'deviceTools.errors.latitudeRange',
    '400:longitude': 'deviceTools.errors.longitudeRange',
    '404': 'devices.errors.gone',
  });
}

// ---------------------------------------------------------------- the map

export interface TileCounts {
  requested: number;
  loaded: number;
  failed: number;
}

export type TileVerdict = 'loading' | 'ok' | 'failed';

/** Errors (with no tile loaded) that are enough to say the tile server cannot be reached. */
const TILE_ERRORS_ENOUGH = 3;
export const TILE_TIMEOUT_MS = 8_000;

/**
 * Whether the map's background can be shown. One loaded tile proves the tile
 * server is reachable; with none loaded, a few errors (or every tile asked so
 * far failing), or the time running out, mean it is not (an offline commune
 * office, a machine with no internet): the page then shows a plain list.
 */
export function tileVerdict(counts: TileCounts, elapsedMs: number, timeoutMs = TILE_TIMEOUT_MS): TileVerdict {
  if (counts.loaded > 0) return 'ok';
  if (counts.failed > 0 && counts.failed >= Math.min(counts.requested, TILE_ERRORS_ENOUGH)) return 'failed';
  if (elapsedMs >= timeoutMs) return 'failed';
  return 'loading';
}

/** Devices with a location (for the map) and without (listed as "no location yet"). */
export function splitByLocation<D extends Pick<Device, 'location' | 'revoked'>>(
  devices: readonly D[],
): { placed: (D & { location: DeviceLocation })[]; unplaced: D[] } {
  const active = devices.filter((device) => !device.revoked);
  return {
    placed: active.filter((device): device is D & { location: DeviceLocation } => device.location !== null),
    unplaced: active.filter((device) => device.location === null),
  };
}

/**
 * Where to write each village's name on a map without tiles: just above its
 * northernmost located loudspeaker, in the middle from west to east, so the
 * name does not cover the markers (one in two villages counts for both).
 * Sorted by name.
 */
export function villageCentres<D extends Pick<Device, 'zones'> & { location: DeviceLocation }>(
  placed: readonly D[],
  zoneName: (id: string) => string,
  collator: Intl.Collator,
): { id: string; name: string; latitude: number; longitude: number }[] {
  const spans = new Map<string, { north: number; west: number; east: number }>();
  for (const device of placed) {
    const { latitude, longitude } = device.location;
    for (const zone of device.zones) {
      const span = spans.get(zone);
      if (!span) spans.set(zone, { north: latitude, west: longitude, east: longitude });
      else {
        span.north = Math.max(span.north, latitude);
        span.west = Math.min(span.west, longitude);
        span.east = Math.max(span.east, longitude);
      }
    }
  }
  return [...spans]
    .map(([id, span]) => ({ id, name: zoneName(id), latitude: span.north, longitude: (span.west + span.east) / 2 }))
    .sort((a, b) => collator.compare(a.name, b.name));
}
