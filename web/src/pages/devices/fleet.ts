/**
 * The loudspeaker table as pure functions: search that forgives missing
 * diacritics ("thon dong" finds "Thôn Đông"), filters by village and status,
 * sorting by column, and the `#/devices?device=…` address of one loudspeaker.
 * Tested by table in web/test/devices-fleet.test.ts.
 */
import type { Device, Zone } from '../../lib/api';

export type FleetStatus = 'offline' | 'online' | 'revoked';
/** `all` shows every loudspeaker, revoked ones last. */
export type StatusFilter = 'all' | FleetStatus;
export const STATUS_FILTERS = ['all', 'offline', 'online', 'revoked'] as const satisfies readonly StatusFilter[];

/** Village filter: '' for all, NO_ZONE for loudspeakers in no village, else a zone id. */
export const NO_ZONE = '-';

export type SortKey = 'name' | 'status' | 'zones' | 'lastSeen' | 'volume' | 'playing';
export type SortDirection = 'asc' | 'desc';
export const SORT_KEYS = [
  'status',
  'name',
  'zones',
  'lastSeen',
  'volume',
  'playing',
] as const satisfies readonly SortKey[];

export interface FleetView {
  query: string;
  zone: string;
  status: StatusFilter;
  sort: SortKey;
  direction: SortDirection;
}

/** Offline first: the loudspeakers that need a technician come to the top. */
export const DEFAULT_VIEW: FleetView = { query: '', zone: '', status: 'all', sort: 'status', direction: 'asc' };

export function isFiltered(view: Pick<FleetView, 'query' | 'zone' | 'status'>): boolean {
  return view.query.trim() !== '' || view.zone !== '' || view.status !== 'all';
}

// ---------------------------------------------------------------- search

/**
 * Lower case without diacritics: NFD splits "ô" into "o" + a combining mark,
 * which is dropped; "đ" has no decomposition and is mapped by hand.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Every word typed must appear in the name or the id, in any order. */
export function searchMatcher(query: string): (device: Pick<Device, 'name' | 'id'>) => boolean {
  const words = foldForSearch(query).split(' ').filter(Boolean);
  if (words.length === 0) return () => true;
  return (device) => {
    const haystack = `${foldForSearch(device.name)} ${foldForSearch(device.id)}`;
    return words.every((word) => haystack.includes(word));
  };
}

// ---------------------------------------------------------------- filters

export function fleetStatus(device: Pick<Device, 'online' | 'revoked'>): FleetStatus {
  if (device.revoked) return 'revoked';
  return device.online ? 'online' : 'offline';
}

export function filterDevices<D extends Pick<Device, 'name' | 'id' | 'zones' | 'online' | 'revoked'>>(
  devices: readonly D[],
  view: Pick<FleetView, 'query' | 'zone' | 'status'>,
): D[] {
  const matches = searchMatcher(view.query);
  return devices.filter((device) => {
    if (view.status !== 'all' && fleetStatus(device) !== view.status) return false;
    if (view.zone === NO_ZONE ? device.zones.length > 0 : view.zone && !device.zones.includes(view.zone)) return false;
    return matches(device);
  });
}

/** The village filter's choices, in Vietnamese alphabetical order ("Thôn 2" before "Thôn 10"). */
export function villageOptions(zones: readonly Pick<Zone, 'id' | 'name'>[], collator: Intl.Collator): Zone['id'][] {
  return [...zones].sort((a, b) => collator.compare(a.name, b.name) || a.id.localeCompare(b.id)).map((z) => z.id);
}

// ---------------------------------------------------------------- sorting

export interface SortContext {
  collator: Intl.Collator;
  zoneName(id: string): string;
  /** What the loudspeaker plays now, as shown ('' when idle). */
  playing(device: Device): string;
}

const STATUS_ORDER: Record<FleetStatus, number> = { offline: 0, online: 1, revoked: 2 };

/** A device's villages as one sortable text: "Thôn Đông, Thôn Tây" (empty sorts last). */
export function zoneLabel(device: Pick<Device, 'zones'>, context: Pick<SortContext, 'collator' | 'zoneName'>): string {
  return device.zones
    .map((id) => context.zoneName(id))
    .sort(context.collator.compare)
    .join(', ');
}

/**
 * Sorted by `key` then by name (then id), so equal keys keep a stable, readable
 * order. Unknown values (never seen, no telemetry, no village) go last either way.
 */
export function sortDevices(
  devices: readonly Device[],
  key: SortKey,
  direction: SortDirection,
  context: SortContext,
): Device[] {
  const sign = direction === 'asc' ? 1 : -1;
  const byName = (a: Device, b: Device) => context.collator.compare(a.name, b.name) || compareText(a.id, b.id);
  const value = sortValue(key, context);
  return devices
    .map((device) => ({ device, value: value(device) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        if (a.value !== b.value) return a.value === null ? 1 : -1;
        return byName(a.device, b.device);
      }
      const order =
        typeof a.value === 'number' && typeof b.value === 'number'
          ? a.value - b.value
          : context.collator.compare(String(a.value), String(b.value));
      return order * sign || byName(a.device, b.device);
    })
    .map((entry) => entry.device);
}

function sortValue(key: SortKey, context: SortContext): (device: Device) => string | number | null {
  switch (key) {
    case 'name':
      return (device) => device.name;
    case 'status':
      return (device) => STATUS_ORDER[fleetStatus(device)];
    case 'zones':
      return (device) => zoneLabel(device, context) || null;
    case 'lastSeen':
      return (device) => (device.lastSeen ? Date.parse(device.lastSeen) : null);
    case 'volume':
      return (device) => device.telemetry?.volume ?? null;
    case 'playing':
      return (device) => context.playing(device) || null;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A click on a column header: the same column turns around, another starts ascending. */
export function nextSort(
  view: Pick<FleetView, 'sort' | 'direction'>,
  key: SortKey,
): Pick<FleetView, 'sort' | 'direction'> {
  if (view.sort === key) return { sort: key, direction: view.direction === 'asc' ? 'desc' : 'asc' };
  return { sort: key, direction: 'asc' };
}

// ---------------------------------------------------------------- address

const DEVICE_PARAM = 'device';

/** `#/devices?device=loa-01`: one loudspeaker's card, a link the back button and a bookmark understand. */
export function deviceHash(id: string): string {
  return `/devices?${new URLSearchParams({ [DEVICE_PARAM]: id }).toString()}`;
}

/** The loudspeaker a `#/devices?device=…` address opens, or null for the table. */
export function deviceFromHash(hash: string): string | null {
  const query = hash.replace(/^#/, '').split('?')[1];
  if (query === undefined) return null;
  return new URLSearchParams(query).get(DEVICE_PARAM) || null;
}
