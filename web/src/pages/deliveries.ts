/**
 * The occurrence × device matrix as data: one row per device, one column per
 * occurrence, each cell the furthest stage that device reached.
 */
import type { Delivery, Occurrence } from '../lib/api';

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
