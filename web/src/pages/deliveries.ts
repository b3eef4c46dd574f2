/**
 * The occurrence × device matrix as data: one row per device, one column per
 * occurrence, each cell the furthest stage that device reached.
 */
import type { Delivery, DeliveryStage, Occurrence, OccurrenceSummary } from '../lib/api';
import { isProblem, outcomeOf, summarise } from '../lib/stages';
import { textMatcher } from '../lib/search';

/** What a matrix cell shows: the stage reached, or what it amounts to when that says more. */
export type CellState = DeliveryStage | 'missed' | 'stopped';

export interface MatrixCell extends Delivery {
  state: CellState;
  /** Failed or missed: someone should look at it. */
  problem: boolean;
}

export interface MatrixRow {
  deviceId: string;
  cells: (MatrixCell | null)[];
  /** Any cell failed or missed. */
  failed: boolean;
}

export interface Matrix {
  columns: Occurrence[];
  rows: MatrixRow[];
}

/** A cell: missed (not started a minute after its time) and stopped are shown as such, not as "waiting". */
export function matrixCell(occurrence: Occurrence, delivery: Delivery, now: number): MatrixCell {
  const outcome = outcomeOf(occurrence, delivery, now);
  const state: CellState = outcome === 'missed' || outcome === 'stopped' ? outcome : delivery.stage;
  return { ...delivery, state, problem: isProblem(outcome) };
}

/** The matrix's row filters: a search over the loudspeaker's name and id, and a zone. */
export interface MatrixFilter {
  onlyFailed?: boolean;
  /** Every word in the loudspeaker's name or id (diacritics forgiven). */
  query?: string;
  /** Only loudspeakers of this zone (by `zonesOf`). */
  zone?: string;
  zonesOf?: (deviceId: string) => readonly string[];
}

export function deliveryMatrix(
  occurrences: readonly Occurrence[],
  options: MatrixFilter & { nameOf?: (deviceId: string) => string; locale?: string; now?: number } = {},
): Matrix {
  const nameOf = options.nameOf ?? ((id: string) => id);
  const now = options.now ?? Date.now();
  const cellOf = (o: Occurrence, d: Delivery) => matrixCell(o, d, now);
  let columns = [...occurrences];
  if (options.onlyFailed) columns = columns.filter((o) => o.deliveries.some((d) => cellOf(o, d).problem));
  // Each column's deliveries by device: a merged commune's broadcast reaches a thousand loudspeakers.
  const byDevice = columns.map((o) => new Map(o.deliveries.map((d) => [d.deviceId, d])));
  const matches = textMatcher(options.query ?? '');
  const zone = options.zone;
  const deviceIds = new Set<string>();
  for (const occurrence of columns) for (const d of occurrence.deliveries) deviceIds.add(d.deviceId);
  let rows: MatrixRow[] = [...deviceIds]
    .filter((deviceId) => matches(`${nameOf(deviceId)} ${deviceId}`))
    .filter((deviceId) => !zone || (options.zonesOf?.(deviceId) ?? []).includes(zone))
    .map((deviceId) => {
      const cells = columns.map((o, i) => {
        const delivery = byDevice[i]!.get(deviceId);
        return delivery ? cellOf(o, delivery) : null;
      });
      return { deviceId, cells, failed: cells.some((cell) => cell?.problem === true) };
    });
  if (options.onlyFailed) rows = rows.filter((row) => row.failed);
  const collator = new Intl.Collator(options.locale ?? 'vi', { numeric: true });
  rows.sort((a, b) => Number(b.failed) - Number(a.failed) || collator.compare(nameOf(a.deviceId), nameOf(b.deviceId)));
  return { columns, rows };
}

export interface RecentProgress {
  devices: number;
  finished: number;
  failed: number;
  /** Not started a minute after the planned start. */
  missed: number;
  /** Not finished when it was stopped. */
  stopped: number;
  /** Every targeted loudspeaker reached a final stage. */
  done: boolean;
}

/**
 * Progress of a listed broadcast: the server's counts, or the live picture
 * when this console follows the broadcast and has seen it get further
 * (stages only move forward, so the further view is the fresher one).
 */
export function recentProgress(summary: OccurrenceSummary, live?: Occurrence | null, now = Date.now()): RecentProgress {
  const { stages, outcomes } = summary;
  const settled = stages.finished + stages.failed + stages.skipped + stages.preempted;
  const listed: RecentProgress = {
    devices: summary.devices,
    finished: outcomes.finished,
    failed: outcomes.failed,
    missed: outcomes.missed,
    stopped: outcomes.stopped,
    done: summary.devices > 0 && settled === summary.devices,
  };
  if (!live || live.deliveries.length === 0) return listed;
  const seen = summarise(live.deliveries, { occurrence: live, now });
  if (seen.settled < settled) return listed;
  return {
    devices: seen.total,
    finished: seen.finished,
    failed: seen.failed,
    missed: seen.missed,
    stopped: seen.stopped,
    done: seen.done,
  };
}

/**
 * The recent list as an officer reads it: what is playing or just played
 * first (newest first), then what is coming (soonest first).
 */
export function splitRecent<T extends { startAt: string }>(
  items: readonly T[],
  now: number,
): { aired: T[]; upcoming: T[] } {
  const aired = items
    .filter((i) => Date.parse(i.startAt) <= now)
    .sort((a, b) => Date.parse(b.startAt) - Date.parse(a.startAt));
  const upcoming = items
    .filter((i) => Date.parse(i.startAt) > now)
    .sort((a, b) => Date.parse(a.startAt) - Date.parse(b.startAt));
  return { aired, upcoming };
}

// ---------------------------------------------------------------- address

const OCCURRENCE_PARAM = 'occurrence';

/** `#/deliveries?occurrence=…`: the deliveries page with this broadcast chosen (its column in the matrix). */
export function occurrenceHash(id: string): string {
  return `/deliveries?${new URLSearchParams({ [OCCURRENCE_PARAM]: id }).toString()}`;
}

/** The broadcast a `#/deliveries?occurrence=…` address chooses, or null. */
export function occurrenceFromHash(hash: string): string | null {
  const query = hash.replace(/^#/, '').split('?')[1];
  if (query === undefined) return null;
  return new URLSearchParams(query).get(OCCURRENCE_PARAM) || null;
}
