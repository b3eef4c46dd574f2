/**
 * Builds each device's plan (what it must play, when) from stored occurrences
 * and publishes it retained, so a device that reconnects always finds its
 * latest plan waiting.
 */
import { encode, topics, type Asset, type PlanItem, type PlanPayload, type Priority } from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry } from '../devices/registry';

export const PLAN_HORIZON_MS = 7 * 24 * 3600 * 1000;

interface PlannedRow {
  id: string;
  title: string;
  priority: Priority;
  start_at: number;
  duration_ms: number;
  sha256: string;
  format: 'ogg' | 'mp3';
  bytes: number;
  /** JSON Asset[] of a programme; null for a single-notice broadcast. */
  assets: string | null;
  volume: number | null;
}

export function assetFor(row: { sha256: string; format: 'ogg' | 'mp3'; bytes: number; duration_ms: number }): Asset {
  return {
    sha256: row.sha256,
    url: `/media/${row.sha256}.${row.format}`,
    bytes: row.bytes,
    durationMs: row.duration_ms,
    format: row.format,
  };
}

export class Planner {
  constructor(
    private readonly db: Db,
    private readonly registry: DeviceRegistry,
    private readonly bus: MessageBus,
    private readonly logger: Logger,
  ) {}

  /** Scheduled (not play-now) occurrences for the device that have not ended yet. */
  planForDevice(deviceId: string, now = Date.now()): PlanPayload {
    const rows = this.db
      .prepare(
        `SELECT o.id, o.title, o.priority, o.start_at, o.duration_ms, o.sha256, m.format, m.bytes, o.assets, o.volume
         FROM deliveries d
         JOIN occurrences o ON o.id = d.occurrence_id
         JOIN media m ON m.sha256 = o.sha256
         WHERE d.device_id = ? AND o.command_id IS NULL AND o.cancelled_at IS NULL
           AND o.start_at + o.duration_ms > ? AND o.start_at < ?
         ORDER BY o.start_at LIMIT 2000`,
      )
      .all(deviceId, now, now + PLAN_HORIZON_MS) as PlannedRow[];
    const items: PlanItem[] = rows.map((r) => ({
      occurrenceId: r.id,
      startAt: r.start_at,
      priority: r.priority,
      ...(r.volume !== null ? { volume: r.volume } : {}),
      title: r.title.slice(0, 200),
      assets: r.assets ? (JSON.parse(r.assets) as Asset[]) : [assetFor(r)],
    }));
    return {
      v: 1,
      planVersion: this.registry.nextPlanVersion(deviceId),
      generatedAt: now,
      horizonEnd: now + PLAN_HORIZON_MS,
      zones: this.registry.zonesOf(deviceId),
      items,
    };
  }

  async publishPlan(deviceId: string): Promise<void> {
    const plan = this.planForDevice(deviceId);
    await this.bus.publish(topics.devicePlan(deviceId), encode(plan), { retain: true, qos: 1 });
    this.logger.debug({ deviceId, planVersion: plan.planVersion, items: plan.items.length }, 'plan published');
  }

  async publishPlans(deviceIds: Iterable<string>): Promise<void> {
    await Promise.all([...deviceIds].map((id) => this.publishPlan(id)));
  }
}
