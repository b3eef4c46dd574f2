/**
 * The loudspeaker table as pure functions: search that forgives missing
 * diacritics ("thon dong" finds "Thôn Đông"), filters by commune, village and
 * status, sorting by column, the window of rows a long table draws, and the
 * `#/devices?device=…` address of one loudspeaker.
 * Tested by table in web/test/devices-fleet.test.ts.
 *
 * A province has up to 15,000 loudspeakers, so every step is linear or
 * n log n with cheap comparisons: folded names are remembered (a keystroke
 * folds nothing twice), and the collator, slow per call, orders each distinct
 * name or village once; sorting then compares numbers.
 */
import type { Device, Zone } from '../../lib/api';
import { foldForSearch } from '../../lib/search';

export type FleetStatus = 'offline' | 'online' | 'revoked';
/**
 * `all` shows every loudspeaker, revoked ones last; `problem` those a
 * technician should look at: active and offline, or with a clock more than a
 * second off. GET /devices?status= means the same (server/src/devices/registry.ts).
 */
export type StatusFilter = 'all' | FleetStatus | 'problem';
export const STATUS_FILTERS = [
  'all',
  'offline',
  'online',
  'problem',
  'revoked',
] as const satisfies readonly StatusFilter[];

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
  /** '' for every commune in view (a province user's "Toàn tỉnh"), else a commune id. */
  commune: string;
  zone: string;
  status: StatusFilter;
  sort: SortKey;
  direction: SortDirection;
}

/** Offline first: the loudspeakers that need a technician come to the top. */
export const DEFAULT_VIEW: FleetView = {
  query: '',
  commune: '',
  zone: '',
  status: 'all',
  sort: 'status',
  direction: 'asc',
};

/** What narrows the list; `commune` only for a province-wide table. */
export type FleetFilter = Pick<FleetView, 'query' | 'zone' | 'status'> & { commune?: string };

export function isFiltered(view: FleetFilter): boolean {
  return view.query.trim() !== '' || view.zone !== '' || view.status !== 'all' || !!view.commune;
}

// ---------------------------------------------------------------- density

/**
 * `compact`: one line per loudspeaker, the name and its id side by side;
 * `comfortable`: the id under the name. Compact is the default above this
 * many: a merged commune's 150 fit in far less scrolling.
 */
export type Density = 'compact' | 'comfortable';
export const COMPACT_ABOVE = 50;

export function defaultDensity(count: number): Density {
  return count > COMPACT_ABOVE ? 'compact' : 'comfortable';
}

// ---------------------------------------------------------------- the window a long table draws

/** Above this many rows the table draws only those in (and near) its scroll box. */
export const VIRTUAL_ABOVE = 300;

/**
 * The rows `[start, end)` to draw of `count` rows of `rowHeight` px, for a
 * scroll box showing `viewport` px from `scrollTop` (0 at the first row), with
 * `overscan` rows either side so a quick scroll does not show blank space.
 */
export function visibleWindow(options: {
  count: number;
  rowHeight: number;
  scrollTop: number;
  viewport: number;
  overscan?: number;
}): { start: number; end: number } {
  const { count, rowHeight, scrollTop, viewport } = options;
  const overscan = options.overscan ?? 8;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(viewport, rowHeight)) / rowHeight);
  const start = Math.min(Math.max(0, first - overscan), Math.max(0, count - 1));
  const end = Math.min(count, Math.max(start + 1, last + overscan));
  return { start, end };
}

// ---------------------------------------------------------------- search

export { foldForSearch };

/** Each name and id folded once per visit: names survive a refresh of the list. */
const folded = new Map<string, string>();
const FOLDED_MAX = 100_000;

function haystackOf(device: Pick<Device, 'name' | 'id'>): string {
  const key = `${device.name}\u0000${device.id}`;
  let value = folded.get(key);
  if (value === undefined) {
    if (folded.size >= FOLDED_MAX) folded.clear();
    value = `${foldForSearch(device.name)} ${foldForSearch(device.id)}`;
    folded.set(key, value);
  }
  return value;
}

/** Every word typed must appear in the name or the id, in any order. */
export function searchMatcher(query: string): (device: Pick<Device, 'name' | 'id'>) => boolean {
  const words = foldForSearch(query).split(' ').filter(Boolean);
  if (words.length === 0) return () => true;
  return (device) => {
    const haystack = haystackOf(device);
    return words.every((word) => haystack.includes(word));
  };
}

// ---------------------------------------------------------------- filters

export function fleetStatus(device: Pick<Device, 'online' | 'revoked'>): FleetStatus {
  if (device.revoked) return 'revoked';
  return device.online ? 'online' : 'offline';
}

/** Active and offline, or its clock more than a second off (`clockWarning`). */
export function needsLook(device: Pick<Device, 'online' | 'revoked'> & { clockWarning?: boolean }): boolean {
  return !device.revoked && (!device.online || device.clockWarning === true);
}

type Filterable = Pick<Device, 'name' | 'id' | 'zones' | 'online' | 'revoked'> & {
  clockWarning?: boolean;
  communeId?: string;
};

export function filterDevices<D extends Filterable>(devices: readonly D[], view: FleetFilter): D[] {
  const matches = searchMatcher(view.query);
  const { status, zone, commune } = view;
  return devices.filter((device) => {
    if (commune && device.communeId !== commune) return false;
    if (status === 'problem') {
      if (!needsLook(device)) return false;
    } else if (status !== 'all' && fleetStatus(device) !== status) return false;
    if (zone === NO_ZONE ? device.zones.length > 0 : zone && !device.zones.includes(zone)) return false;
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
 * Ranks of `texts` in the collator's order (equal under it: the same rank).
 * The collator is slow per call (ICU): at 15,000 names a plain sort with it
 * took longer than everything else on the page. Each distinct text is placed
 * once and remembered per collator; a list with a new name is ranked again.
 */
const rankCache = new WeakMap<Intl.Collator, Map<string, number>>();

function ranksFor(texts: Iterable<string>, collator: Intl.Collator): Map<string, number> {
  const cached = rankCache.get(collator);
  const distinct = new Set(texts);
  if (cached && [...distinct].every((text) => cached.has(text))) return cached;
  if (cached) for (const text of cached.keys()) distinct.add(text);
  const ordered = [...distinct].sort(collator.compare);
  const ranks = new Map<string, number>();
  let rank = 0;
  ordered.forEach((text, i) => {
    if (i > 0 && collator.compare(ordered[i - 1]!, text) !== 0) rank++;
    ranks.set(text, rank);
  });
  rankCache.set(collator, ranks);
  return ranks;
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
  const value = sortValue(key, context);
  const values = devices.map(value);
  const texts: string[] = devices.map((device) => device.name);
  for (const v of values) if (typeof v === 'string') texts.push(v);
  const ranks = ranksFor(texts, context.collator);
  const entries = devices.map((device, i) => {
    const v = values[i]!;
    return {
      device,
      value: v === null ? null : typeof v === 'string' ? ranks.get(v)! : v,
      name: ranks.get(device.name)!,
    };
  });
  entries.sort((a, b) => {
    if (a.value === null || b.value === null) {
      if (a.value !== b.value) return a.value === null ? 1 : -1;
    } else if (a.value !== b.value) return (a.value - b.value) * sign;
    return a.name - b.name || compareText(a.device.id, b.device.id);
  });
  return entries.map((entry) => entry.device);
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
