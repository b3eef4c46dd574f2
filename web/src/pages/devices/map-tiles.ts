/**
 * Where the map's background comes from: the commune's own tile server when
 * the server names one (LOAXA_MAP_TILES_URL, through GET /api/v1/map), else
 * the public OpenStreetMap server. Asked once per visit; an unanswered
 * question keeps OpenStreetMap (the map then shows markers on a plain
 * background if that cannot load either).
 */
import { API_BASE, type ResponseOf } from '../../lib/api';

type MapConfig = ResponseOf<'/api/v1/map', 'get', 200>;

export const OSM_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
export const OSM_COPYRIGHT_URL = 'https://www.openstreetmap.org/copyright';

export interface TileSource {
  url: string;
  /** The public OpenStreetMap server (its attribution is shown), or the commune's own. */
  osm: boolean;
  /** "tile.openstreetmap.org", "tiles.xa.vn": named when the tiles cannot load. */
  host: string;
}

let asked: Promise<TileSource> | null = null;

export function tileSource(): Promise<TileSource> {
  asked ??= askServer().then((tileUrl) => {
    // Not answered: OpenStreetMap this time, and ask again next time.
    if (tileUrl === undefined) asked = null;
    return sourceFor(tileUrl);
  });
  return asked;
}

/** The server's template, null for OpenStreetMap, undefined when it did not say. */
async function askServer(): Promise<string | null | undefined> {
  try {
    const response = await fetch(`${API_BASE}/map`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    return response.ok ? ((await response.json()) as MapConfig).tileUrl : undefined;
  } catch {
    return undefined;
  }
}

export function sourceFor(tileUrl: string | null | undefined): TileSource {
  const url = tileUrl?.trim() || OSM_TILE_URL;
  let host: string;
  try {
    host = new URL(url.replace(/[{}]/g, ''), typeof location === 'undefined' ? 'http://localhost' : location.href).host;
  } catch {
    host = url;
  }
  return { url, osm: url === OSM_TILE_URL, host };
}
