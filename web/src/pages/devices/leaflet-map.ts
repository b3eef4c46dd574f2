/**
 * The Leaflet side of the device map. This module (with Leaflet and its CSS)
 * is imported dynamically by DeviceMap.svelte only when the map is shown, so
 * the console's first load does not carry it.
 */
import * as L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { tileVerdict, TILE_TIMEOUT_MS, type TileCounts, type TileVerdict } from './device-info';

export interface MapPoint {
  id: string;
  latitude: number;
  longitude: number;
  online: boolean;
  /** "Cụm loa Chợ: Trực tuyến": the marker's tooltip, title and accessible name. */
  label: string;
}

export interface DeviceMapHandle {
  update(points: readonly MapPoint[]): void;
  destroy(): void;
}

const TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
/** Around the commune when there is one loudspeaker; never closer than a street. */
const SINGLE_ZOOM = 15;
const MAX_FIT_ZOOM = 16;

/**
 * Draws the map in `element`. `onTiles` hears once whether the tile server
 * answered ('ok') or not ('failed': tile errors, or nothing within the timeout).
 */
export function createDeviceMap(
  element: HTMLElement,
  options: { onTiles: (verdict: Exclude<TileVerdict, 'loading'>) => void; tileTimeoutMs?: number },
): DeviceMapHandle {
  const map = L.map(element, { zoomControl: true, attributionControl: true, keyboard: true });
  map.attributionControl.setPrefix(false);
  const counts: TileCounts = { requested: 0, loaded: 0, failed: 0 };
  const startedAt = performance.now();
  const timeoutMs = options.tileTimeoutMs ?? TILE_TIMEOUT_MS;
  let decided = false;
  const judge = () => {
    if (decided) return;
    const verdict = tileVerdict(counts, performance.now() - startedAt, timeoutMs);
    if (verdict === 'loading') return;
    decided = true;
    clearTimeout(timer);
    options.onTiles(verdict);
  };
  const timer = setTimeout(judge, timeoutMs);

  L.tileLayer(TILE_URL, { maxZoom: 19, attribution: ATTRIBUTION })
    .on('tileloadstart', () => counts.requested++)
    .on('tileload', () => {
      counts.loaded++;
      judge();
    })
    .on('tileerror', () => {
      counts.failed++;
      judge();
    })
    .addTo(map);

  const markers = L.layerGroup().addTo(map);
  let fitted = false;

  return {
    update(points) {
      markers.clearLayers();
      for (const point of points) {
        const marker = L.marker([point.latitude, point.longitude], {
          title: point.label,
          alt: point.label,
          keyboard: true,
          icon: L.divIcon({
            className: `device-marker ${point.online ? 'online' : 'offline'}`,
            html: '<span class="device-marker-dot"></span>',
            iconSize: [22, 22],
            iconAnchor: [11, 11],
          }),
        });
        // textContent, never HTML: a device name is whatever a technician typed.
        const popup = document.createElement('span');
        popup.textContent = point.label;
        marker.bindPopup(popup).addTo(markers);
      }
      if (fitted || points.length === 0) return;
      fitted = true;
      if (points.length === 1) {
        map.setView([points[0]!.latitude, points[0]!.longitude], SINGLE_ZOOM);
      } else {
        map.fitBounds(L.latLngBounds(points.map((p) => [p.latitude, p.longitude] as L.LatLngTuple)), {
          padding: [24, 24],
          maxZoom: MAX_FIT_ZOOM,
        });
      }
    },
    destroy() {
      decided = true;
      clearTimeout(timer);
      map.remove();
    },
  };
}
