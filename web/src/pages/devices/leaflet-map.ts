/**
 * The Leaflet side of the device map. This module (with Leaflet, its CSS and
 * supercluster) is imported dynamically by DeviceMap.svelte only when the map
 * is shown, so the console's first load does not carry it.
 *
 * Up to CLUSTER_ABOVE loudspeakers (a commune, a merged commune) each is a
 * marker. A province's thousands are clustered (supercluster): only the
 * clusters and markers in view are on the map, drawn again after each pan or
 * zoom, so 15,000 loudspeakers pan and zoom as smoothly as 150. A cluster
 * shows how many it holds and how many of them are offline (its colour too);
 * a click zooms in to where it splits.
 *
 * When the tile server cannot be reached (an offline commune office), the map
 * stays: the tile layer goes, the background turns plain and each village's
 * name is written where its loudspeakers stand, so the markers still say where.
 *
 * The Alerts page draws a disaster alert's polygons and circles under the
 * markers (showAreas), the loudspeakers inside them ringed. The Devices page
 * draws each zone's area, light (showZones), and the one a technician is
 * drawing, corner by corner as they click (showDraft, onClick).
 */
import * as L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import Supercluster, { type ClusterFeature } from 'supercluster';
import { tileVerdict, TILE_TIMEOUT_MS, type TileCounts, type TileVerdict } from './device-info';

/** A loudspeaker on the map; its words are made only when its marker is (MapTexts). */
export type MapPoint = {
  id: string;
  latitude: number;
  longitude: number;
  online: boolean;
  name: string;
  /** Inside the area drawn over the map (an alert's polygon or circle): its marker is ringed. */
  inside?: boolean;
};

/** An area drawn over the loudspeakers (a disaster alert's polygons and circles, WGS84). */
export interface MapArea {
  /** Its description, the shapes' tooltip. */
  label: string;
  /** Each polygon's [latitude, longitude] points. */
  polygons: readonly (readonly number[])[][];
  circles: readonly { lat: number; lon: number; radiusKm: number }[];
}

/** A zone's area ([latitude, longitude] corners), drawn light under the markers. */
export interface ZoneShape {
  id: string;
  /** The zone's name, the shape's tooltip. */
  label: string;
  points: readonly (readonly [number, number])[];
}

/** More loudspeakers than this are clustered; a commune's 150 are each a marker. */
export const CLUSTER_ABOVE = 300;

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
  /** "Cụm loa Chợ: Trực tuyến": the marker's tooltip, title and accessible name. */
  marker(point: MapPoint): string;
  /** Shown under the label in the marker's popup (coordinates). */
  detail(point: MapPoint): string;
  /** The loudspeaker's card, linked from the popup. */
  href(point: MapPoint): string;
  /** "120 cụm loa, 5 ngoại tuyến; bấm để phóng to": a cluster's title and accessible name. */
  cluster(count: number, offline: number): string;
}

type ClusterTotals = {
  offline: number;
};

export interface DeviceMapHandle {
  /** Redraws the markers; `fit` frames them again (the set shown has changed). */
  update(points: readonly MapPoint[], villages: readonly VillageLabel[], fit: boolean): void;
  /** Draws these areas under the markers (replacing those drawn before); `fit` frames the areas. */
  showAreas(areas: readonly MapArea[], fit: boolean): void;
  /** Draws the zones' areas (replacing those drawn before); `fit` frames them. */
  showZones(zones: readonly ZoneShape[], fit: boolean): void;
  /** The area being drawn (its corners joined, a polygon from three), or null for none; `fit` frames it. */
  showDraft(points: readonly (readonly [number, number])[] | null, fit: boolean): void;
  /** Hears every click on the map (a corner of the area being drawn); null stops. */
  onClick(handler: ((latitude: number, longitude: number) => void) | null): void;
  /** The map's centre (a corner added from the keyboard). */
  center(): [number, number];
  destroy(): void;
}

/** Where a map with nothing on it yet looks: Viet Nam. */
const COUNTRY_VIEW: [number, number] = [16.2, 106.3];
const COUNTRY_ZOOM = 5.5;
/** Around the commune when there is one loudspeaker; never closer than a street. */
const SINGLE_ZOOM = 15;
const MAX_FIT_ZOOM = 16;
const MAX_ZOOM = 19;
/** Village names sit above the tiles and under the markers, which stay clickable. */
const VILLAGE_PANE = 'villages';
/** Cluster radius on screen, px: a thumb's width between two clusters. */
const CLUSTER_RADIUS = 60;
/** Clustered, village names are written only where few are in view (a province has a thousand). */
const MAX_VILLAGE_LABELS = 40;
/** Clusters and markers just off screen are drawn too, so a short pan shows no empty edge. */
const VIEW_PADDING = 0.25;

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

  const zoneLayer = L.layerGroup().addTo(map);
  const areaLayer = L.layerGroup().addTo(map);
  const draftLayer = L.layerGroup().addTo(map);
  let clickHandler: ((event: L.LeafletMouseEvent) => void) | null = null;
  const markers = L.layerGroup().addTo(map);
  const villageLayer = L.layerGroup();
  let villages: readonly VillageLabel[] = [];
  /** The clustered index while there are more than CLUSTER_ABOVE loudspeakers; null: each is a marker. */
  let index: Supercluster<MapPoint, ClusterTotals> | null = null;
  /** Set by each drawing of the clusters: update() knows whether framing drew them already. */
  let drawn = false;
  /**
   * The markers drawn from the index, by cluster or loudspeaker: a redraw keeps
   * those still there (a focused cluster stays focused when the map pans to it).
   */
  let drawnMarkers = new Map<string, L.Marker>();

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
    let shown = villages;
    if (index) {
      // A province: only the villages in view, and only when they are few enough to read.
      const bounds = map.getBounds();
      shown = villages.filter((village) => bounds.contains([village.latitude, village.longitude]));
      if (shown.length > MAX_VILLAGE_LABELS) shown = [];
    }
    for (const village of shown) {
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

  function deviceMarker(point: MapPoint): L.Marker {
    const label = options.texts.marker(point);
    const marker = L.marker([point.latitude, point.longitude], {
      title: label,
      alt: label,
      keyboard: true,
      icon: L.divIcon({
        className: `device-marker ${point.online ? 'online' : 'offline'}${point.inside ? ' inside' : ''}`,
        html: '<span class="device-marker-dot"></span>',
        iconSize: [22, 22],
        iconAnchor: [11, 11],
      }),
    });
    return marker.bindPopup(() => popupFor(point, label, options.texts));
  }

  function clusterMarker(feature: ClusterFeature<ClusterTotals>): L.Marker {
    const [longitude, latitude] = feature.geometry.coordinates as [number, number];
    const { point_count: count, offline, cluster_id: id } = feature.properties;
    // Bigger for more; green when all are online, amber with some offline, grey when most are.
    const size = count < 10 ? 34 : count < 100 ? 40 : count < 1000 ? 48 : 56;
    const tone = offline === 0 ? 'all-online' : offline * 2 > count ? 'mostly-offline' : 'some-offline';
    const body = document.createElement('span');
    body.className = 'device-cluster-body';
    body.dataset.count = String(count);
    body.dataset.offline = String(offline);
    const total = document.createElement('span');
    total.className = 'device-cluster-count';
    total.textContent = String(feature.properties.point_count_abbreviated);
    body.append(total);
    if (offline > 0) {
      const down = document.createElement('span');
      down.className = 'device-cluster-offline';
      down.textContent = String(offline);
      body.append(down);
    }
    const label = options.texts.cluster(count, offline);
    const zoomIn = () => {
      const zoom = Math.min(index?.getClusterExpansionZoom(id) ?? map.getZoom() + 2, MAX_ZOOM);
      map.setView([latitude, longitude], Math.max(zoom, map.getZoom() + 1));
    };
    return (
      L.marker([latitude, longitude], {
        title: label,
        alt: label,
        keyboard: true,
        icon: L.divIcon({ className: `device-cluster ${tone}`, html: body, iconSize: [size, size] }),
      })
        .on('click', zoomIn)
        // Leaflet turns Enter into a click only on markers with a popup: a cluster has none.
        .on('keypress', (event: L.LeafletKeyboardEvent) => {
          if (event.originalEvent.key === 'Enter') zoomIn();
        })
    );
  }

  /** The clusters and loudspeakers in (and just around) the view, at this zoom. */
  function drawClusters(): void {
    if (!index) return;
    const bounds = map.getBounds().pad(VIEW_PADDING);
    const box: [number, number, number, number] = [
      Math.max(-180, bounds.getWest()),
      Math.max(-85, bounds.getSouth()),
      Math.min(180, bounds.getEast()),
      Math.min(85, bounds.getNorth()),
    ];
    // Whole zoom levels: at a quarter step in between, the clusters of the level below (a little apart).
    const features = index.getClusters(box, Math.floor(map.getZoom()));
    drawn = true;
    const next = new Map<string, L.Marker>();
    for (const feature of features) {
      const cluster = 'cluster' in feature.properties && feature.properties.cluster;
      const key = cluster
        ? `c${(feature.properties as ClusterFeature<ClusterTotals>['properties']).cluster_id}`
        : `p${(feature.properties as MapPoint).id}`;
      const marker =
        drawnMarkers.get(key) ??
        (cluster
          ? clusterMarker(feature as ClusterFeature<ClusterTotals>)
          : deviceMarker(feature.properties as MapPoint)
        ).addTo(markers);
      next.set(key, marker);
    }
    for (const [key, marker] of drawnMarkers) if (!next.has(key)) marker.remove();
    drawnMarkers = next;
    if (plain) drawVillages();
  }

  map.on('moveend', drawClusters);

  function frame(points: readonly MapPoint[]): void {
    // Framed at once, not animated: a filter changes the set many times a second while typing.
    if (points.length === 1) {
      map.setView([points[0]!.latitude, points[0]!.longitude], SINGLE_ZOOM, { animate: false });
      return;
    }
    let south = 90;
    let north = -90;
    let west = 180;
    let east = -180;
    for (const p of points) {
      south = Math.min(south, p.latitude);
      north = Math.max(north, p.latitude);
      west = Math.min(west, p.longitude);
      east = Math.max(east, p.longitude);
    }
    map.fitBounds(
      [
        [south, west],
        [north, east],
      ],
      {
        // More room at the top for the village names written above the northernmost markers.
        paddingTopLeft: [24, 36],
        paddingBottomRight: [24, 24],
        maxZoom: MAX_FIT_ZOOM,
        animate: false,
      },
    );
  }

  /** A map not yet framed on anything shows the country: Leaflet needs a view before it can draw. */
  function ensureView(): void {
    try {
      map.getCenter();
    } catch {
      map.setView(COUNTRY_VIEW, COUNTRY_ZOOM, { animate: false });
    }
  }

  function fitTo(bounds: L.LatLngBounds | null): void {
    if (bounds?.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: MAX_FIT_ZOOM, animate: false });
  }

  return {
    update(points, nextVillages, fit) {
      villages = nextVillages;
      markers.clearLayers();
      drawnMarkers = new Map();
      if (points.length > CLUSTER_ABOVE) {
        index = new Supercluster<MapPoint, ClusterTotals>({
          radius: CLUSTER_RADIUS,
          // Leaflet's tiles are 256 px (supercluster counts in 512 px ones by default): radius in screen px.
          extent: 256,
          maxZoom: MAX_FIT_ZOOM,
          map: (point) => ({ offline: point.online ? 0 : 1 }),
          reduce: (total, more) => {
            total.offline += more.offline;
          },
        });
        index.load(
          points.map((point) => ({
            type: 'Feature' as const,
            geometry: { type: 'Point' as const, coordinates: [point.longitude, point.latitude] },
            properties: point,
          })),
        );
      } else {
        index = null;
        if (plain) drawVillages();
        for (const point of points) deviceMarker(point).addTo(markers);
      }
      drawn = false;
      if (fit && points.length > 0) frame(points);
      // Framing moves the map, which draws the clusters (moveend); otherwise draw them here.
      if (index && !drawn) drawClusters();
    },
    showAreas(areas, fit) {
      areaLayer.clearLayers();
      const style = { className: 'map-area', color: '#b42318', weight: 2, fillColor: '#e4572e', fillOpacity: 0.18 };
      let bounds: L.LatLngBounds | null = null;
      const extend = (more: L.LatLngBounds) => {
        bounds = bounds ? bounds.extend(more) : L.latLngBounds(more.getSouthWest(), more.getNorthEast());
      };
      for (const area of areas) {
        for (const points of area.polygons) {
          if (points.length < 3) continue;
          const latLngs = points.map(([lat, lon]) => L.latLng(lat!, lon!));
          L.polygon(latLngs, style).bindTooltip(area.label, { sticky: true }).addTo(areaLayer);
          extend(L.latLngBounds(latLngs));
        }
        for (const circle of area.circles) {
          const centre = L.latLng(circle.lat, circle.lon);
          const radius = circle.radiusKm * 1000;
          L.circle(centre, { ...style, radius })
            .bindTooltip(area.label, { sticky: true })
            .addTo(areaLayer);
          extend(centre.toBounds(radius * 2));
        }
      }
      const framed = bounds as L.LatLngBounds | null;
      if (fit && framed) {
        map.fitBounds(framed, { padding: [24, 24], maxZoom: MAX_FIT_ZOOM, animate: false });
      }
    },
    showZones(zones, fit) {
      zoneLayer.clearLayers();
      const style = { className: 'zone-area', color: '#0b5d4b', weight: 1.5, fillColor: '#1e8449', fillOpacity: 0.08 };
      let bounds: L.LatLngBounds | null = null;
      for (const zone of zones) {
        if (zone.points.length < 3) continue;
        const latLngs = zone.points.map(([lat, lon]) => L.latLng(lat, lon));
        L.polygon(latLngs, style).bindTooltip(zone.label, { sticky: true }).addTo(zoneLayer);
        bounds = bounds ? bounds.extend(L.latLngBounds(latLngs)) : L.latLngBounds(latLngs);
      }
      if (fit) fitTo(bounds);
      ensureView();
    },
    showDraft(points, fit) {
      draftLayer.clearLayers();
      if (points && points.length > 0) {
        const latLngs = points.map(([lat, lon]) => L.latLng(lat, lon));
        const style = { className: 'zone-draft', color: '#b86e00', weight: 2.5, dashArray: '6 4', fillOpacity: 0.15 };
        (latLngs.length >= 3 ? L.polygon(latLngs, style) : L.polyline(latLngs, style)).addTo(draftLayer);
        for (const corner of latLngs) {
          L.circleMarker(corner, {
            className: 'zone-draft-corner',
            radius: 5,
            color: '#fff',
            weight: 2,
            fillColor: '#b86e00',
            fillOpacity: 1,
            interactive: false,
          }).addTo(draftLayer);
        }
        if (fit) fitTo(L.latLngBounds(latLngs));
      }
      ensureView();
    },
    onClick(handler) {
      if (clickHandler) map.off('click', clickHandler);
      clickHandler = handler ? (event) => handler(event.latlng.lat, event.latlng.lng) : null;
      if (clickHandler) map.on('click', clickHandler);
      element.classList.toggle('map-drawing', handler !== null);
    },
    center() {
      ensureView();
      const centre = map.getCenter();
      return [centre.lat, centre.lng];
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
function popupFor(point: MapPoint, labelText: string, texts: MapTexts): HTMLElement {
  const popup = document.createElement('div');
  popup.className = 'device-popup';
  const label = document.createElement('strong');
  label.textContent = labelText;
  const detail = document.createElement('span');
  detail.textContent = texts.detail(point);
  const link = document.createElement('a');
  link.href = texts.href(point);
  link.textContent = texts.open;
  popup.append(label, detail, link);
  return popup;
}
