/**
 * The Leaflet side of the device map. This module (with Leaflet and its CSS)
 * is imported dynamically by DeviceMap.svelte only when the map is shown, so
 * the console's first load does not carry it.
 *
 * When the tile server cannot be reached (an offline commune office), the map
 * stays: the tile layer goes, the background turns plain and each village's
 * name is written where its loudspeakers stand, so the markers still say where.
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
  /** Shown under the label in the marker's popup (coordinates). */
  detail: string;
  /** The loudspeaker's card, linked from the popup. */
  href: string;
}

/** A village's name, written above its loudspeakers on a map without tiles. */
export interface VillageLabel {
  id: string;
  name: string;
  latitude: number;
  longitude: number;
}

export interface MapTexts {
  zoomIn: string;
  zoomOut: string;
  /** The popup's link to the loudspeaker's card. */
  open: string;
  /** HTML attribution for the tiles; empty for none. */
  attribution: string;
}

export interface DeviceMapHandle {
  /** Redraws the markers; `fit` frames them again (the set shown has changed). */
  update(points: readonly MapPoint[], villages: readonly VillageLabel[], fit: boolean): void;
  destroy(): void;
}

/** Around the commune when there is one loudspeaker; never closer than a street. */
const SINGLE_ZOOM = 15;
const MAX_FIT_ZOOM = 16;
/** Village names sit above the tiles and under the markers, which stay clickable. */
const VILLAGE_PANE = 'villages';

/**
 * Draws the map in `element`. `onTiles` hears once whether the tile server
 * answered ('ok') or not ('failed': tile errors, or nothing within the timeout);
 * on 'failed' the map carries on without tiles.
 */
export function createDeviceMap(
  element: HTMLElement,
  options: {
    tileUrl: string;
    texts: MapTexts;
    onTiles: (verdict: Exclude<TileVerdict, 'loading'>) => void;
    tileTimeoutMs?: number;
  },
): DeviceMapHandle {
  // Quarter-step zooms frame a commune's loudspeakers more closely than whole steps.
  const map = L.map(element, { zoomControl: false, attributionControl: true, keyboard: true, zoomSnap: 0.25 });
  map.attributionControl.setPrefix(false);
  L.control.zoom({ zoomInTitle: options.texts.zoomIn, zoomOutTitle: options.texts.zoomOut }).addTo(map);
  map.createPane(VILLAGE_PANE).style.zIndex = '450';

  const counts: TileCounts = { requested: 0, loaded: 0, failed: 0 };
  const startedAt = performance.now();
  const timeoutMs = options.tileTimeoutMs ?? TILE_TIMEOUT_MS;
  let decided = false;
  let plain = false;
  const judge = () => {
    if (decided) return;
    const verdict = tileVerdict(counts, performance.now() - startedAt, timeoutMs);
    if (verdict === 'loading') return;
    decided = true;
    clearTimeout(timer);
    if (verdict === 'failed') goPlain();
    options.onTiles(verdict);
  };
  const timer = setTimeout(judge, timeoutMs);

  const tiles = L.tileLayer(options.tileUrl, { maxZoom: 19, attribution: options.texts.attribution })
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
  const villageLayer = L.layerGroup();
  let villages: readonly VillageLabel[] = [];

  function goPlain(): void {
    plain = true;
    // No more requests that cannot be answered, no broken-image squares.
    tiles.remove();
    element.classList.add('map-plain');
    drawVillages();
    villageLayer.addTo(map);
  }

  function drawVillages(): void {
    villageLayer.clearLayers();
    for (const village of villages) {
      const label = document.createElement('span');
      label.className = 'village-label-text';
      label.textContent = village.name;
      L.marker([village.latitude, village.longitude], {
        pane: VILLAGE_PANE,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: 'village-label', html: label, iconSize: [0, 0] }),
      }).addTo(villageLayer);
    }
  }

  return {
    update(points, nextVillages, fit) {
      villages = nextVillages;
      if (plain) drawVillages();
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
        marker.bindPopup(() => popupFor(point, options.texts.open)).addTo(markers);
      }
      if (!fit || points.length === 0) return;
      // Framed at once, not animated: a filter changes the set many times a second while typing.
      if (points.length === 1) {
        map.setView([points[0]!.latitude, points[0]!.longitude], SINGLE_ZOOM, { animate: false });
      } else {
        map.fitBounds(L.latLngBounds(points.map((p) => [p.latitude, p.longitude] as L.LatLngTuple)), {
          // More room at the top for the village names written above the northernmost markers.
          paddingTopLeft: [24, 36],
          paddingBottomRight: [24, 24],
          maxZoom: MAX_FIT_ZOOM,
          animate: false,
        });
      }
    },
    destroy() {
      decided = true;
      clearTimeout(timer);
      // Leaflet 1.9 ends a zoom animation from a 250 ms timer that remove() does not cancel; on a
      // removed map it throws ("reading '_leaflet_pos'"). Mark the animation over, so the timer does nothing.
      (map as unknown as { _animatingZoom?: boolean })._animatingZoom = false;
      map.remove();
    },
  };
}

/** textContent, never HTML: a device name is whatever a technician typed. */
function popupFor(point: MapPoint, openText: string): HTMLElement {
  const popup = document.createElement('div');
  popup.className = 'device-popup';
  const label = document.createElement('strong');
  label.textContent = point.label;
  const detail = document.createElement('span');
  detail.textContent = point.detail;
  const link = document.createElement('a');
  link.href = point.href;
  link.textContent = openText;
  popup.append(label, detail, link);
  return popup;
}
