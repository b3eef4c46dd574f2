/**
 * A zone's area as a technician draws it on the Devices page's map: each
 * click adds a corner ([lat, lon], to about 10 cm), "Hoàn tác" takes the last
 * back, and the area is saved with PATCH /zones/:id `area` once it has 3 to
 * 500 corners. The drawing's state is in
 * zone-drawing.svelte.ts. Tested in web/test/zone-area.test.ts.
 */
import type { Message } from '../../lib/errors';

/** The server's limits (server/src/http/language-fields.ts ZoneArea). */
export const AREA_LIMITS = { min: 3, max: 500 } as const;

export type AreaPoint = [number, number];

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

/** The area with one more corner (unchanged when it is full or the point is not on the Earth). */
export function addAreaPoint(points: readonly AreaPoint[], latitude: number, longitude: number): AreaPoint[] {
  if (points.length >= AREA_LIMITS.max) return [...points];
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90) return [...points];
  // Leaflet's longitudes go on past ±180 when the map is panned round the world.
  const lon = ((((longitude + 180) % 360) + 360) % 360) - 180;
  return [...points, [round(latitude), round(lon)]];
}

/** The area without its last corner. */
export function undoAreaPoint(points: readonly AreaPoint[]): AreaPoint[] {
  return points.slice(0, -1);
}

/** What keeps the area from being saved, or null. */
export function areaProblem(points: readonly AreaPoint[]): Message | null {
  if (points.length < AREA_LIMITS.min) return { key: 'zones.area.tooFew', values: { min: AREA_LIMITS.min } };
  if (points.length > AREA_LIMITS.max) return { key: 'zones.area.tooMany', values: { max: AREA_LIMITS.max } };
  return null;
}

/** The same corners in the same order (nothing to save). */
export function sameArea(a: readonly AreaPoint[] | null, b: readonly AreaPoint[] | null): boolean {
  if (!a || !b) return (a?.length ?? 0) === 0 && (b?.length ?? 0) === 0;
  return a.length === b.length && a.every(([lat, lon], i) => lat === b[i]![0] && lon === b[i]![1]);
}
