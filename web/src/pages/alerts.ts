/**
 * The Alerts page's plain logic: words for a CAP alert's state, a commune's
 * decision and status, the risk level's colour (Decision 18/2021/QĐ-TTg),
 * the order of the list, which rows a province user sees for the commune in
 * view, which of "Phát ngay" / "Không phát" a user is offered, and whether a
 * map position lies inside the alert's polygons or circles.
 */
import type { Alert, AlertArea, AlertCommune, AlertCommuneStatus, AlertDecision, AlertState } from '../lib/api';
import { allows, type Who } from '../lib/permissions';

/** There is no `alert` event on the live stream: the open page asks again this often. */
export const ALERT_POLL_MS = 15_000;

export type AlertLevel = 1 | 2 | 3 | 4 | 5;

/**
 * The colours of the risk levels in Decision 18/2021/QĐ-TTg: light blue,
 * light yellow, orange, red, purple; text dark or white, whichever reads.
 */
export const LEVEL_COLOURS: Record<AlertLevel, { background: string; text: string }> = {
  1: { background: '#9fd3f5', text: '#0b2f4a' },
  2: { background: '#fbe68c', text: '#4a3b00' },
  3: { background: '#f28c28', text: '#2b1400' },
  4: { background: '#c8102e', text: '#ffffff' },
  5: { background: '#6a1b9a', text: '#ffffff' },
};

/** The level as one of 1–5 (a stray value is brought within them). */
export function alertLevel(level: number): AlertLevel {
  if (!Number.isFinite(level)) return 1;
  return Math.min(5, Math.max(1, Math.round(level))) as AlertLevel;
}

export function levelColours(level: number): { background: string; text: string } {
  return LEVEL_COLOURS[alertLevel(level)];
}

const STATE_KEYS: Record<AlertState, string> = {
  active: 'alerts.state.active',
  replaced: 'alerts.state.replaced',
  cancelled: 'alerts.state.cancelled',
  expired: 'alerts.state.expired',
  'not-actual': 'alerts.state.notActual',
};

const DECISION_KEYS: Record<AlertDecision, string> = {
  auto: 'alerts.decision.auto',
  confirm: 'alerts.decision.confirm',
  show: 'alerts.decision.show',
};

const STATUS_KEYS: Record<AlertCommuneStatus, string> = {
  waiting: 'alerts.status.waiting',
  airing: 'alerts.status.airing',
  done: 'alerts.status.done',
  dismissed: 'alerts.status.dismissed',
};

/** i18n key of an alert's state ("đang hiệu lực", "thử nghiệm – không phát", …). */
export function stateKey(state: AlertState): string {
  return STATE_KEYS[state] ?? 'alerts.state.unknown';
}

/** i18n key of what a commune's rules decided ("tự động phát", "chờ lãnh đạo xác nhận", "chỉ hiển thị"). */
export function decisionKey(decision: AlertDecision): string {
  return DECISION_KEYS[decision] ?? 'alerts.decision.unknown';
}

/** i18n key of where the alert stands in a commune. */
export function statusKey(status: AlertCommuneStatus): string {
  return STATUS_KEYS[status] ?? 'alerts.status.unknown';
}

const CAP_TERMS = {
  severity: ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'],
  urgency: ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'],
  certainty: ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'],
} as const;

/** i18n key of a CAP severity, urgency or certainty; null for a value CAP 1.2 does not name (shown as written). */
export function capTermKey(kind: keyof typeof CAP_TERMS, value: string): string | null {
  return (CAP_TERMS[kind] as readonly string[]).includes(value) ? `alerts.${kind}.${value}` : null;
}

const time = (iso: string): number => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
};

/** Newest first: by when the console's server received them, then by when they were sent. */
export function sortAlerts<A extends Pick<Alert, 'id' | 'receivedAt' | 'sentAt'>>(alerts: readonly A[]): A[] {
  return [...alerts].sort(
    (a, b) =>
      time(b.receivedAt) - time(a.receivedAt) ||
      time(b.sentAt) - time(a.sentAt) ||
      (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
}

/**
 * What the page lists for the commune in view: a commune user's list is
 * already theirs; a province user who chose one commune in the header sees the
 * alerts that reached it, each with that commune's row only.
 */
export function alertsInView<A extends Pick<Alert, 'communes'>>(
  alerts: readonly A[],
  commune: string | undefined,
): A[] {
  if (!commune) return [...alerts];
  return alerts
    .filter((alert) => alert.communes.some((row) => row.communeId === commune))
    .map((alert) => ({ ...alert, communes: alert.communes.filter((row) => row.communeId === commune) }));
}

export type AlertAction = 'confirm' | 'dismiss';

/**
 * What a user may do with a commune's row: a leader (broadcasts:emergency)
 * airs or dismisses an alert that waits for confirmation; an alert no longer
 * in force (replaced, cancelled, expired) may still be dismissed, not aired.
 */
export function actionsFor(
  user: Who | null | undefined,
  alert: Pick<Alert, 'state'>,
  row: Pick<AlertCommune, 'status'>,
): AlertAction[] {
  if (!allows(user, 'broadcasts:emergency') || row.status !== 'waiting') return [];
  return alert.state === 'active' ? ['confirm', 'dismiss'] : ['dismiss'];
}

/** Any row of this alert waits for a leader. */
export function waitsForLeader(alert: Pick<Alert, 'communes'>): boolean {
  return alert.communes.some((row) => row.status === 'waiting');
}

/** The plays an alert became in a commune, earliest first, numbered from 1. */
export function playsOf(row: Pick<AlertCommune, 'occurrences'>): { id: string; startAt: string; n: number }[] {
  return [...row.occurrences]
    .sort((a, b) => time(a.startAt) - time(b.startAt))
    .map((occurrence, i) => ({ ...occurrence, n: i + 1 }));
}

// ---------------------------------------------------------------- where

type Shapes = Pick<AlertArea, 'polygons' | 'circles'>;

/** Something to draw: a polygon of three points or more, or a circle. */
export function hasShapes(areas: readonly Shapes[]): boolean {
  return areas.some((area) => area.polygons.some((polygon) => polygon.length >= 3) || area.circles.length > 0);
}

const EARTH_RADIUS_KM = 6371.0088;
const KM_PER_DEGREE = (Math.PI * EARTH_RADIUS_KM) / 180;

function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Ray casting over [lat, lon] points (WGS84, small areas: a province at most). */
function inPolygon(polygon: readonly (readonly number[])[], lat: number, lon: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [latI, lonI] = polygon[i] as [number, number];
    const [latJ, lonJ] = polygon[j] as [number, number];
    if (latI > lat !== latJ > lat && lon < ((lonJ - lonI) * (lat - latI)) / (latJ - latI) + lonI) inside = !inside;
  }
  return inside;
}

/** A map position lies inside one of the alert's polygons or circles (as the server matches them). */
export function insideAreas(areas: readonly Shapes[], latitude: number, longitude: number): boolean {
  return areas.some(
    (area) =>
      area.polygons.some((polygon) => polygon.length >= 3 && inPolygon(polygon, latitude, longitude)) ||
      area.circles.some((c) => distanceKm(c.lat, c.lon, latitude, longitude) <= c.radiusKm),
  );
}

/** South-west and north-east corners around every polygon and circle; null when there is none. */
export function areaBounds(areas: readonly Shapes[]): [[number, number], [number, number]] | null {
  let south = 90;
  let north = -90;
  let west = 180;
  let east = -180;
  let any = false;
  const extend = (lat: number, lon: number) => {
    any = true;
    south = Math.min(south, lat);
    north = Math.max(north, lat);
    west = Math.min(west, lon);
    east = Math.max(east, lon);
  };
  for (const area of areas) {
    for (const polygon of area.polygons) for (const [lat, lon] of polygon as [number, number][]) extend(lat, lon);
    for (const c of area.circles) {
      const dLat = c.radiusKm / KM_PER_DEGREE;
      const dLon = c.radiusKm / (KM_PER_DEGREE * Math.max(0.01, Math.cos((c.lat * Math.PI) / 180)));
      extend(c.lat - dLat, c.lon - dLon);
      extend(c.lat + dLat, c.lon + dLon);
    }
  }
  return any
    ? [
        [south, west],
        [north, east],
      ]
    : null;
}
