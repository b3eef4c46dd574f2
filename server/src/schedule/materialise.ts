/**
 * Approved schedules → stored occurrences over a horizon, with one delivery
 * row per target device. Idempotent: ids are derived from the schedule and
 * the start instant, so running it again (after a crash, on a timer, after a
 * change) converges on the same rows. Occurrences that have started are never
 * touched; a one-off cancellation is never undone.
 */
import type { PublicItem } from '../public/items';
import { languageName } from '../public/languages';
import { languageOrder, VERSION_GAP_MS } from '../broadcasts/versions';
import { fileAssets, type Asset, type Priority } from '@loaxa/protocol';
import type { Db } from '../db/database';
import type { DeviceRegistry } from '../devices/registry';
import { expandRule, occurrenceIdFor, type ScheduleRule } from './recurrence';
import { assetsDurationMs } from './programmes';
import { communeScope } from '../tenancy/scope';

export interface ScheduleRow {
  id: string;
  commune_id: string;
  title: string;
  programme_id: string;
  rule: string;
  timezone: string;
  priority: Priority;
  volume: number | null;
  repeat: number;
  repeat_gap_ms: number;
  status: 'draft' | 'submitted' | 'approved' | 'rejected' | 'cancelled';
  approved_assets: string | null;
  /** What the public page may show once it airs (public/items.ts), frozen with the assets. */
  approved_public: string | null;
  /** Its programme in other languages (FrozenVersion[]), frozen with the assets. */
  approved_versions: string | null;
  programme_changed: number;
  review_reason: string | null;
  reviewed_by: string | null;
  reviewed_at: number | null;
  revision: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** Zones and devices a schedule targets. */
export function targetsOf(db: Db, scheduleId: string): { zones: string[]; devices: string[] } {
  const rows = db
    .prepare('SELECT kind, target_id FROM schedule_targets WHERE schedule_id = ? ORDER BY target_id')
    .all(scheduleId) as { kind: 'zone' | 'device'; target_id: string }[];
  return {
    zones: rows.filter((r) => r.kind === 'zone').map((r) => r.target_id),
    devices: rows.filter((r) => r.kind === 'device').map((r) => r.target_id),
  };
}

/**
 * Active devices a schedule reaches today (zone membership is read now, not
 * when it was written). Only devices of the schedule's commune: a loudspeaker
 * moved to another commune since stops getting this commune's broadcasts.
 */
export function resolveDevices(
  db: Db,
  registry: DeviceRegistry,
  schedule: Pick<ScheduleRow, 'id' | 'commune_id'>,
): string[] {
  const { zones, devices } = targetsOf(db, schedule.id);
  return activeDevices(db, registry, schedule.commune_id, zones, devices);
}

/** Active devices of `communeId` in `zones` or named in `devices`, sorted. */
export function activeDevices(
  db: Db,
  registry: DeviceRegistry,
  communeId: string,
  zones: string[],
  devices: string[],
): string[] {
  const set = new Set(registry.devicesIn(zones, communeScope(communeId)));
  if (devices.length) {
    const active = db
      .prepare(
        `SELECT id FROM devices WHERE revoked_at IS NULL AND commune_id = ?
           AND id IN (SELECT value FROM json_each(?))`,
      )
      .all(communeId, JSON.stringify(devices)) as { id: string }[];
    for (const d of active) set.add(d.id);
  }
  return [...set].sort();
}

/** One occurrence a start instant makes: the programme, or one of its language versions after it. */
interface Slot {
  id: string;
  start: number;
  title: string;
  assetsJson: string;
  /** The occurrence's `sha256` column names its first stored file (streams have none). */
  firstFile: string | undefined;
  durationMs: number;
  devices: string[];
  publicItems: string | null;
  /** The schedule's volume, lowered to the rules' ceiling at this start. */
  volume?: number | null;
}

/** A schedule's programme in one other language, frozen at approval (ProgrammeLibrary.versionsOf). */
export interface FrozenVersion {
  language: string;
  assets: Asset[];
  publicItems: PublicItem[];
}

function slotShape(
  assets: Asset[],
  rest: { title: string; devices: string[]; publicItems: string | null },
): Omit<Slot, 'id' | 'start'> {
  return {
    ...rest,
    assetsJson: JSON.stringify(assets),
    firstFile: fileAssets(assets)[0]?.sha256,
    durationMs: assetsDurationMs(assets),
  };
}

interface ExistingOccurrence {
  id: string;
  start_at: number;
  cancelled_at: number | null;
  stopped_at: number | null;
  assets: string | null;
  priority: Priority;
  volume: number | null;
  title: string;
  public_items: string | null;
}

export class OccurrenceMaterialiser {
  constructor(
    private readonly db: Db,
    private readonly registry: DeviceRegistry,
    /**
     * horizonMs: the same horizon the planner sends plans over (config.horizonDays);
     * volumeCeiling: the commune's broadcast rules' ceiling at an instant (rules/broadcast-rules.ts).
     */
    private readonly options: {
      horizonMs: number;
      now?: () => number;
      volumeCeiling?: (communeId: string, startAt: number) => number | null;
    },
  ) {}

  get horizonMs(): number {
    return this.options.horizonMs;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Brings one schedule's future occurrences in line with its rule, status,
   * frozen programme and targets. Returns the devices whose plans changed.
   */
  materialiseSchedule(scheduleId: string): Set<string> {
    const db = this.db;
    const now = this.now();
    const affected = new Set<string>();
    const schedule = db.prepare('SELECT * FROM schedules WHERE id = ?').get(scheduleId) as ScheduleRow | undefined;
    if (!schedule) return affected;

    const onAir = schedule.status === 'approved' && schedule.approved_assets !== null;
    const starts = onAir
      ? expandRule(JSON.parse(schedule.rule) as ScheduleRule, schedule.timezone, now, now + this.horizonMs)
      : [];
    const devices = onAir ? resolveDevices(db, this.registry, schedule) : [];
    const main = slotShape(onAir ? (JSON.parse(schedule.approved_assets!) as Asset[]) : [], {
      title: schedule.title,
      devices,
      publicItems: onAir ? schedule.approved_public : null,
    });
    const versions = onAir ? this.versionShapes(schedule) : [];
    /** What plays at `start`: the programme, then each language version after the one before it. */
    const volumeAt = (start: number): number | null => {
      const ceiling = this.options.volumeCeiling?.(schedule.commune_id, start) ?? null;
      return ceiling === null ? schedule.volume : Math.min(schedule.volume ?? ceiling, ceiling);
    };
    const slotsAt = (start: number): Slot[] => {
      const slots: Slot[] = [{ ...main, id: occurrenceIdFor(scheduleId, start), start, volume: volumeAt(start) }];
      for (const v of versions) {
        const before = slots.at(-1)!;
        const { language, ...shape } = v;
        const at = before.start + before.durationMs + VERSION_GAP_MS;
        slots.push({ ...shape, id: `${slots[0]!.id}:${language}`, start: at, volume: volumeAt(at) });
      }
      return slots;
    };

    db.transaction(() => {
      const existing = db
        .prepare(
          `SELECT id, start_at, cancelled_at, stopped_at, assets, priority, volume, title, public_items FROM occurrences
           WHERE schedule_id = ? AND start_at >= ?`,
        )
        .all(scheduleId, now) as ExistingOccurrence[];
      const byId = new Map(existing.map((o) => [o.id, o]));
      const off = (o: ExistingOccurrence | undefined) => o?.cancelled_at != null || o?.stopped_at != null;
      // A programme cancelled or stopped at one start takes its language versions with it.
      const planned = starts.flatMap((start) => {
        const slots = slotsAt(start);
        return off(byId.get(slots[0]!.id)) ? slots.slice(0, 1) : slots;
      });
      const wanted = new Set(planned.map((slot) => slot.id));
      const deliveriesOf = db.prepare('SELECT device_id, stage FROM deliveries WHERE occurrence_id = ?');

      // Withdrawn: the rule no longer has it, or the schedule is off air. Not started, so safe to remove.
      for (const o of existing) {
        if (wanted.has(o.id) || off(o)) continue;
        for (const d of deliveriesOf.all(o.id) as { device_id: string }[]) affected.add(d.device_id);
        db.prepare('DELETE FROM occurrences WHERE id = ?').run(o.id);
      }
      if (!onAir) return;

      const insert = db.prepare(
        `INSERT INTO occurrences (id, commune_id, title, text, priority, start_at, duration_ms, sha256, engine,
           command_id, created_by, created_at, schedule_id, assets, volume, public_items)
         VALUES (?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)`,
      );
      const update = db.prepare(
        `UPDATE occurrences SET title = ?, priority = ?, start_at = ?, duration_ms = ?, sha256 = ?, assets = ?,
           volume = ?, public_items = ? WHERE id = ?`,
      );
      const addDelivery = db.prepare(
        'INSERT INTO deliveries (occurrence_id, device_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
      );
      const dropDelivery = db.prepare('DELETE FROM deliveries WHERE occurrence_id = ? AND device_id = ?');
      for (const slot of planned) {
        const { id } = slot;
        const old = byId.get(id);
        // A one-off cancellation or a stop is never undone, and a device added later never gets it.
        if (off(old)) continue;
        if (!old) {
          insert.run(
            id,
            schedule.commune_id,
            slot.title,
            schedule.priority,
            slot.start,
            slot.durationMs,
            slot.firstFile!,
            schedule.created_by,
            now,
            scheduleId,
            slot.assetsJson,
            slot.volume ?? null,
            slot.publicItems,
          );
          for (const d of slot.devices) {
            addDelivery.run(id, d);
            affected.add(d);
          }
          continue;
        }
        const current = deliveriesOf.all(id) as { device_id: string; stage: string }[];
        const changed =
          old.assets !== slot.assetsJson ||
          old.start_at !== slot.start ||
          old.priority !== schedule.priority ||
          old.volume !== (slot.volume ?? null) ||
          old.title !== slot.title ||
          old.public_items !== slot.publicItems;
        if (changed) {
          update.run(
            slot.title,
            schedule.priority,
            slot.start,
            slot.durationMs,
            slot.firstFile!,
            slot.assetsJson,
            slot.volume ?? null,
            slot.publicItems,
            id,
          );
          for (const d of current) affected.add(d.device_id);
        }
        const wantedDevices = new Set(slot.devices);
        for (const d of current) {
          if (!wantedDevices.has(d.device_id)) {
            dropDelivery.run(id, d.device_id);
            affected.add(d.device_id);
          }
        }
        const have = new Set(current.map((d) => d.device_id));
        for (const d of slot.devices) {
          if (!have.has(d)) {
            addDelivery.run(id, d);
            affected.add(d);
          }
        }
      }
    })();
    return affected;
  }

  /**
   * The schedule's language versions that play somewhere, in the order their languages first
   * appear in its target zones' lists, each for the active loudspeakers of the zones that list it.
   */
  private versionShapes(schedule: ScheduleRow): (Omit<Slot, 'id' | 'start'> & { language: string })[] {
    if (!schedule.approved_versions) return [];
    const versions = JSON.parse(schedule.approved_versions) as FrozenVersion[];
    if (versions.length === 0) return [];
    const { zones } = targetsOf(this.db, schedule.id);
    const order = languageOrder(this.registry.zoneLanguages(zones), new Set(versions.map((v) => v.language)));
    return order.flatMap(({ language, zoneIds }) => {
      const version = versions.find((v) => v.language === language)!;
      const devices = activeDevices(this.db, this.registry, schedule.commune_id, zoneIds, []);
      if (devices.length === 0) return [];
      const shape = slotShape(version.assets, {
        title: `${schedule.title} (${languageName(language)})`,
        devices,
        publicItems: version.publicItems.length ? JSON.stringify(version.publicItems) : null,
      });
      return [{ ...shape, language }];
    });
  }

  /** Every schedule that may have occurrences ahead: the timer's roll-forward and the start-up pass. */
  materialiseAll(): Set<string> {
    return this.materialiseEach(
      this.db
        .prepare(
          `SELECT id FROM schedules WHERE status = 'approved'
           UNION SELECT DISTINCT schedule_id FROM occurrences WHERE schedule_id IS NOT NULL AND start_at >= ?`,
        )
        .all(this.now()) as { id: string }[],
    );
  }

  /**
   * The devices' zones or status changed: only schedules that reach them now
   * (by zone or by name) or held future occurrences for them need a new look.
   */
  materialiseForDevices(deviceIds: string[]): Set<string> {
    const ids = JSON.stringify(deviceIds);
    return this.materialiseEach(
      this.db
        .prepare(
          `SELECT t.schedule_id AS id FROM schedule_targets t
           WHERE (t.kind = 'device' AND t.target_id IN (SELECT value FROM json_each(@ids)))
              OR (t.kind = 'zone' AND t.target_id IN
                   (SELECT zone_id FROM device_zones WHERE device_id IN (SELECT value FROM json_each(@ids))))
           UNION SELECT o.schedule_id FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id
           WHERE d.device_id IN (SELECT value FROM json_each(@ids)) AND o.schedule_id IS NOT NULL AND o.start_at >= @now`,
        )
        .all({ ids, now: this.now() }) as { id: string }[],
    );
  }

  private materialiseEach(schedules: { id: string }[]): Set<string> {
    const affected = new Set<string>();
    for (const { id } of schedules) for (const d of this.materialiseSchedule(id)) affected.add(d);
    return affected;
  }
}
