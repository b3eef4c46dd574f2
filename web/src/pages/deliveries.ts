/**
 * The occurrence × device matrix as data: one row per device, one column per
 * occurrence, each cell the furthest stage that device reached.
 */
import type { Delivery, Occurrence, OccurrenceSummary } from '../lib/api';
import { isFinalStage, summarise } from '../lib/stages';

export interface MatrixRow {
  deviceId: string;
  cells: (Delivery | null)[];
  failed: boolean;
}

export interface Matrix {
  columns: Occurrence[];
  rows: MatrixRow[];
}

export function deliveryMatrix(
  occurrences: readonly Occurrence[],
  options: { onlyFailed?: boolean; nameOf?: (deviceId: string) => string; locale?: string } = {},
): Matrix {
  const nameOf = options.nameOf ?? ((id: string) => id);
  let columns = [...occurrences];
  if (options.onlyFailed) columns = columns.filter((o) => o.deliveries.some((d) => d.stage === 'failed'));
  const deviceIds = new Set<string>();
  for (const occurrence of columns) for (const d of occurrence.deliveries) deviceIds.add(d.deviceId);
  let rows: MatrixRow[] = [...deviceIds].map((deviceId) => {
    const cells = columns.map((o) => o.deliveries.find((d) => d.deviceId === deviceId) ?? null);
    return { deviceId, cells, failed: cells.some((cell) => cell?.stage === 'failed') };
  });
  if (options.onlyFailed) rows = rows.filter((row) => row.failed);
  rows.sort(
    (a, b) =>
      Number(b.failed) - Number(a.failed) ||
      nameOf(a.deviceId).localeCompare(nameOf(b.deviceId), options.locale ?? 'vi', { numeric: true }),
  );
  return { columns, rows };
}

export interface RecentProgress {
  devices: number;
  finished: number;
  failed: number;
  /** Every targeted loudspeaker reached a final stage. */
  done: boolean;
}

/**
 * Progress of a listed broadcast: the server's counts, or the live picture
 * when this console follows the broadcast and has seen it get further
 * (stages only move forward, so the further view is the fresher one).
 */
export function recentProgress(summary: OccurrenceSummary, live?: Occurrence | null): RecentProgress {
  const { stages } = summary;
  const settled = (Object.keys(stages) as Delivery['stage'][])
    .filter(isFinalStage)
    .reduce((sum, stage) => sum + stages[stage], 0);
  const listed: RecentProgress = {
    devices: summary.devices,
    finished: stages.finished,
    failed: stages.failed,
    done: summary.devices > 0 && settled === summary.devices,
  };
  if (!live || live.deliveries.length === 0) return listed;
  const seen = summarise(live.deliveries);
  if (seen.settled < settled) return listed;
  return { devices: seen.total, finished: seen.finished, failed: seen.failed, done: seen.done };
}
