/**
 * The zone whose area is being drawn and its corners so far, shared by the
 * zones panel (which starts the drawing) and the map (which shows it and adds
 * a corner per click). Pure steps are in zone-area.ts.
 */
import type { ZoneArea } from '../../lib/api';
import type { AreaPoint } from './zone-area';

/** Which zone's area is being drawn, and its corners so far; null when none is. */
class ZoneDrawing {
  zoneId = $state<string | null>(null);
  points = $state.raw<AreaPoint[]>([]);
  /** Bumped on every start, so the map frames the zone it is asked to draw. */
  started = $state(0);

  start(zoneId: string, area: ZoneArea | null): void {
    this.zoneId = zoneId;
    this.points = (area ?? []).map(([lat, lon]) => [lat, lon] as AreaPoint);
    this.started++;
  }

  stop(): void {
    this.zoneId = null;
    this.points = [];
  }
}

export const zoneDrawing = new ZoneDrawing();
