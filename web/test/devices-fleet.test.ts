/**
 * The loudspeaker table's search, filters and sorting (web/src/pages/devices/fleet.ts),
 * the map's village labels and its tile source, by table.
 */
import { describe, expect, it } from 'vitest';
import type { Device } from '../src/lib/api';
import { villageCentres } from '../src/pages/devices/device-info';
import {
  deviceFromHash,
  deviceHash,
  filterDevices,
  foldForSearch,
  isFiltered,
  nextSort,
  NO_ZONE,
  searchMatcher,
  sortDevices,
  villageOptions,
  type SortKey,
} from '../src/pages/devices/fleet';
import { OSM_TILE_URL, sourceFor } from '../src/pages/devices/map-tiles';

const ZONES: Record<string, string> = { dong: 'Thôn Đông', tay: 'Thôn Tây', t2: 'Thôn 2', t10: 'Thôn 10' };

function device(id: string, name: string, extra: Partial<Device> = {}): Device {
  return {
    id,
    name,
    communeId: 'default',
    zones: [],
    online: true,
    lastSeen: null,
    agentVersion: null,
    revoked: false,
    clockOffsetMs: null,
    clockWarning: false,
    location: null,
    simulated: false,
    telemetry: null,
    ...extra,
  };
}

const telemetry = (volume: number, playing: string | null = null): Device['telemetry'] => ({
  at: '2025-11-23T07:00:00.000Z',
  volume,
  playing,
  cacheBytes: 0,
  uptimeS: 60,
});

const collator = new Intl.Collator('vi', { numeric: true, sensitivity: 'base' });
const context = {
  collator,
  zoneName: (id: string) => ZONES[id] ?? id,
  playing: (d: Device) => d.telemetry?.playing ?? '',
};

describe('search folds Vietnamese diacritics', () => {
  it.each([
    ['Thôn Đông', 'thon dong'],
    ['CỤM LOA Nhà Văn Hóa', 'cum loa nha van hoa'],
    ['  Chợ   Mới ', 'cho moi'],
    ['Trường THCS Đắk Lắk', 'truong thcs dak lak'],
    // Precomposed and decomposed input fold the same.
    ['Thôn Đông'.normalize('NFD'), 'thon dong'],
  ])('%s → %s', (text, folded) => {
    expect(foldForSearch(text)).toBe(folded);
  });

  const hall = device('loa-017', 'Cụm loa Nhà văn hóa Thôn Đông');
  it.each([
    ['thon dong', true],
    ['Thôn Đông', true],
    ['THÔN', true],
    ['dong nha', true], // every word, any order
    ['017', true], // part of the id
    ['loa-01', true],
    ['thon tay', false],
    ['cho moi', false],
    ['', true],
    ['   ', true],
  ])('"%s" finds it: %s', (query, found) => {
    expect(searchMatcher(query)(hall)).toBe(found);
  });
});

describe('filters', () => {
  const devices = [
    device('a', 'A', { zones: ['dong'], online: true }),
    device('b', 'B', { zones: ['dong', 'tay'], online: false }),
    device('c', 'C', { zones: ['tay'], online: false }),
    device('d', 'D', { zones: [], online: true }),
    device('e', 'E', { zones: ['dong'], online: false, revoked: true }),
  ];
  const ids = (view: { query?: string; zone?: string; status?: 'all' | 'offline' | 'online' | 'revoked' }) =>
    filterDevices(devices, { query: '', zone: '', status: 'all', ...view }).map((d) => d.id);

  it.each([
    [{}, ['a', 'b', 'c', 'd', 'e']],
    [{ status: 'offline' as const }, ['b', 'c']], // a revoked loudspeaker is not "offline"
    [{ status: 'online' as const }, ['a', 'd']],
    [{ status: 'revoked' as const }, ['e']],
    [{ zone: 'dong' }, ['a', 'b', 'e']],
    [{ zone: 'tay', status: 'offline' as const }, ['b', 'c']],
    [{ zone: NO_ZONE }, ['d']],
    [{ zone: 'dong', query: 'b' }, ['b']],
  ])('%o → %o', (view, expected) => {
    expect(ids(view)).toEqual(expected);
  });

  it('knows when anything narrows the list', () => {
    expect(isFiltered({ query: ' ', zone: '', status: 'all' })).toBe(false);
    expect(isFiltered({ query: 'x', zone: '', status: 'all' })).toBe(true);
    expect(isFiltered({ query: '', zone: 'dong', status: 'all' })).toBe(true);
    expect(isFiltered({ query: '', zone: '', status: 'offline' })).toBe(true);
  });

  it('lists villages in Vietnamese order, numbers as numbers', () => {
    const zones = [
      { id: 't10', name: 'Thôn 10' },
      { id: 'tay', name: 'Thôn Tây' },
      { id: 'dong', name: 'Thôn Đông' },
      { id: 't2', name: 'Thôn 2' },
      { id: 'an', name: 'Ấp An' },
    ];
    // "Đ" sorts after "D" and before "T"; "Ấ" with "A".
    expect(villageOptions(zones, collator)).toEqual(['an', 't2', 't10', 'dong', 'tay']);
  });
});

describe('sorting', () => {
  const devices = [
    device('x3', 'Cụm loa 10', {
      online: true,
      zones: ['tay'],
      lastSeen: '2025-11-23T07:00:00Z',
      telemetry: telemetry(80),
    }),
    device('x1', 'Cụm loa 2', {
      online: false,
      zones: ['dong'],
      lastSeen: '2025-11-22T07:00:00Z',
      telemetry: telemetry(30, 'Tin sáng'),
    }),
    device('x2', 'Cụm loa Đông', { online: false, zones: [], lastSeen: null }),
    device('x4', 'Cụm loa Bắc', { online: true, revoked: true, zones: ['t2'], telemetry: telemetry(50) }),
  ];
  const order = (key: SortKey, direction: 'asc' | 'desc' = 'asc') =>
    sortDevices(devices, key, direction, context).map((d) => d.id);

  it.each([
    // Offline first, revoked last; ties by name.
    ['status', 'asc', ['x1', 'x2', 'x3', 'x4']],
    ['status', 'desc', ['x4', 'x3', 'x1', 'x2']],
    // "2" before "10"; "Bắc" before "Đông".
    ['name', 'asc', ['x1', 'x3', 'x4', 'x2']],
    ['name', 'desc', ['x2', 'x4', 'x3', 'x1']],
    // Unknown values last in both directions.
    ['zones', 'asc', ['x4', 'x1', 'x3', 'x2']],
    ['lastSeen', 'asc', ['x1', 'x3', 'x4', 'x2']],
    ['lastSeen', 'desc', ['x3', 'x1', 'x4', 'x2']],
    ['volume', 'asc', ['x1', 'x4', 'x3', 'x2']],
    ['volume', 'desc', ['x3', 'x4', 'x1', 'x2']],
    ['playing', 'asc', ['x1', 'x3', 'x4', 'x2']],
  ] as const)('%s %s', (key, direction, expected) => {
    expect(order(key, direction)).toEqual(expected);
  });

  it('turns a column around on a second click, starts another ascending', () => {
    expect(nextSort({ sort: 'name', direction: 'asc' }, 'name')).toEqual({ sort: 'name', direction: 'desc' });
    expect(nextSort({ sort: 'name', direction: 'desc' }, 'name')).toEqual({ sort: 'name', direction: 'asc' });
    expect(nextSort({ sort: 'name', direction: 'desc' }, 'volume')).toEqual({ sort: 'volume', direction: 'asc' });
  });
});

describe('a loudspeaker’s address', () => {
  it.each([
    ['loa-01', '/devices?device=loa-01'],
    ['a b&c', '/devices?device=a+b%26c'],
  ])('%s ↔ %s', (id, hash) => {
    expect(deviceHash(id)).toBe(hash);
    expect(deviceFromHash(`#${hash}`)).toBe(id);
  });

  it.each(['#/devices', '#/devices?', '#/devices?device=', '#/', ''])('%s opens the table', (hash) => {
    expect(deviceFromHash(hash)).toBeNull();
  });
});

describe('the map', () => {
  it('writes each village above its northernmost loudspeaker, centred west to east', () => {
    const at = (latitude: number, longitude: number) => ({ latitude, longitude });
    const placed = [
      { zones: ['dong'], location: at(21, 105) },
      { zones: ['dong', 'tay'], location: at(21.2, 105.2) },
      { zones: ['tay'], location: at(21.4, 105.6) },
      { zones: [], location: at(20, 104) },
    ];
    expect(villageCentres(placed, (id) => ZONES[id] ?? id, collator)).toEqual([
      { id: 'dong', name: 'Thôn Đông', latitude: 21.2, longitude: 105.1 },
      { id: 'tay', name: 'Thôn Tây', latitude: 21.4, longitude: 105.4 },
    ]);
  });

  it.each([
    [null, OSM_TILE_URL, true, 'tile.openstreetmap.org'],
    ['', OSM_TILE_URL, true, 'tile.openstreetmap.org'],
    ['https://tiles.xa.vn/osm/{z}/{x}/{y}.png', 'https://tiles.xa.vn/osm/{z}/{x}/{y}.png', false, 'tiles.xa.vn'],
    [
      'https://{s}.tiles.xa.vn:8443/{z}/{x}/{y}.png',
      'https://{s}.tiles.xa.vn:8443/{z}/{x}/{y}.png',
      false,
      's.tiles.xa.vn:8443',
    ],
  ])('tiles from %s', (configured, url, osm, host) => {
    expect(sourceFor(configured)).toEqual({ url, osm, host });
  });
});
