/**
 * Is a loudspeaker inside an alert's area? CAP areas are WGS 84 polygons and
 * circles; loudspeakers have a map position in the same datum.
 *
 * Polygons are tested in plain degrees (ray casting, even-odd rule), which is
 * exact for the straight lines a map draws between the points and fine for
 * areas that do not cross the antimeridian — Vietnam lies at 8–24°N,
 * 102–110°E. Circles use the great-circle (haversine) distance.
 *
 * A point exactly on a polygon's edge or a circle's rim counts as inside: an
 * alert should rather reach one loudspeaker too many than miss one.
 */
import { booleanIntersects } from '@turf/boolean-intersects';
import { circle as turfCircle } from '@turf/circle';
import { polygon as turfPolygon } from '@turf/helpers';
import type { CapArea, CapCircle, LatLon } from './cap';

export interface GeoPoint {
  lat: number;
  lon: number;
}

/** IUGG mean Earth radius. */
export const EARTH_RADIUS_KM = 6371.0088;

/** Degrees; about a centimetre on the ground, so "on the edge" survives floating-point rounding. */
const EDGE_TOLERANCE_DEG = 1e-7;

/** Great-circle distance in kilometres. */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function pointInCircle(point: GeoPoint, circle: CapCircle): boolean {
  return haversineKm(point, circle) <= circle.radiusKm;
}

/**
 * Ray casting: count the polygon edges a ray from the point towards east
 * crosses; an odd count is inside. The ring may be closed (CAP's form, last
 * point = first) or open.
 */
export function pointInPolygon(point: GeoPoint, polygon: readonly LatLon[]): boolean {
  const n = polygon.length;
  if (n < 3) return false;
  const { lat: y, lon: x } = point;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [yi, xi] = polygon[i]!;
    const [yj, xj] = polygon[j]!;
    if (onSegment(x, y, xi, yi, xj, yj)) return true;
    // The half-open test (one end ≥, the other <) counts a vertex the ray passes
    // through once, not twice, and skips horizontal edges.
    if (yi > y !== yj > y) {
      const crossLon = xi + ((y - yi) * (xj - xi)) / (yj - yi);
      if (x < crossLon) inside = !inside;
    }
  }
  return inside;
}

function onSegment(x: number, y: number, x1: number, y1: number, x2: number, y2: number): boolean {
  if (x < Math.min(x1, x2) - EDGE_TOLERANCE_DEG || x > Math.max(x1, x2) + EDGE_TOLERANCE_DEG) return false;
  if (y < Math.min(y1, y2) - EDGE_TOLERANCE_DEG || y > Math.max(y1, y2) + EDGE_TOLERANCE_DEG) return false;
  const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
  const length = Math.hypot(x2 - x1, y2 - y1);
  return Math.abs(cross) <= EDGE_TOLERANCE_DEG * Math.max(length, EDGE_TOLERANCE_DEG);
}

/**
 * Whether the point lies in any of the area's polygons or circles. Geocodes
 * are not geometry: they are matched against zones' and communes' codes by
 * the caller, so an area with only geocodes contains no point here.
 */
export function areaContains(area: Pick<CapArea, 'polygons' | 'circles'>, point: GeoPoint): boolean {
  return (
    area.polygons.some((polygon) => pointInPolygon(point, polygon)) ||
    area.circles.some((circle) => pointInCircle(point, circle))
  );
}

/** A [lat, lon] ring as a GeoJSON polygon ([lon, lat], closed). */
function geoJsonPolygon(ring: readonly LatLon[]): ReturnType<typeof turfPolygon> {
  const coordinates = ring.map(([lat, lon]) => [lon, lat]);
  const [first, last] = [coordinates[0]!, coordinates.at(-1)!];
  if (first[0] !== last[0] || first[1] !== last[1]) coordinates.push(first);
  return turfPolygon([coordinates]);
}

/**
 * Whether the alert's polygons or circles overlap a zone's area (a ring of
 * [lat, lon] points drawn on the map): touching counts, as for points.
 * Circles are approximated by 64-sided polygons (within 0.5 % of the radius).
 */
export function areaOverlaps(area: Pick<CapArea, 'polygons' | 'circles'>, ring: readonly LatLon[]): boolean {
  if (ring.length < 3) return false;
  const zone = geoJsonPolygon(ring);
  return (
    area.polygons.some((p) => p.length >= 3 && booleanIntersects(geoJsonPolygon(p), zone)) ||
    area.circles.some((c) =>
      booleanIntersects(
        turfCircle([c.lon, c.lat], Math.max(c.radiusKm, 1e-6), { steps: 64, units: 'kilometers' }),
        zone,
      ),
    )
  );
}
