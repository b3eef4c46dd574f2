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
import type { Kysely } from 'kysely';
import type { SqlDb, SqlTx, Tables } from '../db/sql';
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

/** Zones and devices a schedule targets (`db`: a transaction, or the shared handle). */
export async function targetsOf(
  db: Kysely<Tables>,
  scheduleId: string,
): Promise<{ zones: string[]; devices: string[] }> {
  const rows: { kind: 'zone' | 'device'; target_id: string }[] = await db
    .selectFrom('schedule_targets')
    .select(['kind', 'target_id'])
    .where('schedule_id', '=', scheduleId)
    .execute();
  // Sorted here rather than by ORDER BY: the same (code unit) order on both engines, whatever the collation.
  const of = (kind: 'zone' | 'device') =>
    rows
      .filter((r) => r.kind === kind)
      .map((r) => r.target_id)
      .sort();
  return { zones: of('zone'), devices: of('device') };
}

/**
 * Active devices a schedule reaches today (zone membership is read now, not
 * when it was written). Only devices of the schedule's commune: a loudspeaker
 * moved to another commune since stops getting this commune's broadcasts.
 */
export async function resolveDevices(
  db: Kysely<Tables>,
  registry: DeviceRegistry,
  schedule: Pick<ScheduleRow, 'id' | 'commune_id'>,
): Promise<string[]> {
  const { zones, devices } = await targetsOf(db, schedule.id);
  return activeDevices(db, registry, schedule.commune_id, zones, devices);
}

/** Active devices of `communeId` in `zones` or named in `devices`, sorted. */
export async function activeDevices(
  db: Kysely<Tables>,
  registry: DeviceRegistry,
  communeId: string,
  zones: string[],
  devices: string[],
): Promise<string[]> {
  const set = new Set(await registry.devicesIn(zones, communeScope(communeId)));
  if (devices.length) {
    const active: { id: string }[] = await db
      .selectFrom('devices')
      .select('id')
      .where('revoked_at', 'is', null)
      .where('commune_id', '=', communeId)
      .where('id', 'in', devices)
      .execute();
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

/** What a schedule airs over the horizon, worked out before its transaction. */
interface Plan {
  /** Approved, with its programme frozen: anything else has no occurrences ahead. */
  onAir: boolean;
  starts: number[];
  /** The occurrences one start makes: the programme, then its language versions. */
  slotsAt: (start: number) => Slot[];
}

/** Attempts at one schedule's materialisation when its row keeps changing underneath (see materialiseSchedule). */
const MAX_ATTEMPTS = 3;

export class OccurrenceMaterialiser {
  constructor(
    private readonly sqlDb: SqlDb,
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
   *
   * What should air is worked out first (the registry is asked outside any
   * transaction), then written in one transaction that holds the schedule's
   * row (PostgreSQL: FOR UPDATE, so two materialisations of one schedule take
   * turns; SQLite has one writer) and starts over if the schedule changed
   * meanwhile. After a few changes in a row it stops: whoever changes a
   * schedule materialises it again after their commit.
   */
  async materialiseSchedule(scheduleId: string): Promise<Set<string>> {
    const affected = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const schedule = (await this.sqlDb.db
        .selectFrom('schedules')
        .selectAll()
        .where('id', '=', scheduleId)
        .executeTakeFirst()) as ScheduleRow | undefined;
      if (!schedule) return affected;
      const now = this.now();
      const plan = await this.planOf(schedule, now);
      const written = await this.sqlDb.db.transaction().execute(async (tx) => {
        const held: { revision: number } | undefined = await tx
          .selectFrom('schedules')
          .select('revision')
          .where('id', '=', scheduleId)
          .$if(this.sqlDb.engine === 'postgres', (q) => q.forUpdate())
          .executeTakeFirst();
        if (held?.revision !== schedule.revision) return false;
        await this.write(tx, schedule, plan, now, affected);
        return true;
      });
      if (written) return affected;
    }
    return affected;
  }

  /** What `schedule` airs from `now` to the horizon: each start's slots (nothing when it is off air). */
  private async planOf(schedule: ScheduleRow, now: number): Promise<Plan> {
    const onAir = schedule.status === 'approved' && schedule.approved_assets !== null;
    const starts = onAir
      ? expandRule(JSON.parse(schedule.rule) as ScheduleRule, schedule.timezone, now, now + this.horizonMs)
      : [];
    const devices = onAir ? await resolveDevices(this.sqlDb.db, this.registry, schedule) : [];
    const main = slotShape(onAir ? (JSON.parse(schedule.approved_assets!) as Asset[]) : [], {
      title: schedule.title,
      devices,
      publicItems: onAir ? schedule.approved_public : null,
    });
    const versions = onAir ? await this.versionShapes(schedule) : [];
    const volumeAt = (start: number): number | null => {
      const ceiling = this.options.volumeCeiling?.(schedule.commune_id, start) ?? null;
      return ceiling === null ? schedule.volume : Math.min(schedule.volume ?? ceiling, ceiling);
    };
    /** What plays at `start`: the programme, then each language version after the one before it. */
    const slotsAt = (start: number): Slot[] => {
      const slots: Slot[] = [{ ...main, id: occurrenceIdFor(schedule.id, start), start, volume: volumeAt(start) }];
      for (const v of versions) {
        const before = slots.at(-1)!;
        const { language, ...shape } = v;
        const at = before.start + before.durationMs + VERSION_GAP_MS;
        slots.push({ ...shape, id: `${slots[0]!.id}:${language}`, start: at, volume: volumeAt(at) });
      }
      return slots;
    };
    return { onAir, starts, slotsAt };
  }

  /** The occurrences and deliveries `plan` asks for, in `tx`; the devices whose plans change go to `affected`. */
  private async write(
    tx: SqlTx,
    schedule: ScheduleRow,
    { onAir, starts, slotsAt }: Plan,
    now: number,
    affected: Set<string>,
  ): Promise<void> {
    const scheduleId = schedule.id;
    const existing: ExistingOccurrence[] = await tx
      .selectFrom('occurrences')
      .select(['id', 'start_at', 'cancelled_at', 'stopped_at', 'assets', 'priority', 'volume', 'title', 'public_items'])
      .where('schedule_id', '=', scheduleId)
      .where('start_at', '>=', now)
      .execute();
    const byId = new Map(existing.map((o) => [o.id, o]));
    const off = (o: ExistingOccurrence | undefined) => o?.cancelled_at != null || o?.stopped_at != null;
    // A programme cancelled or stopped at one start takes its language versions with it.
    const planned = starts.flatMap((start) => {
      const slots = slotsAt(start);
      return off(byId.get(slots[0]!.id)) ? slots.slice(0, 1) : slots;
    });
    const wanted = new Set(planned.map((slot) => slot.id));
    const deliveriesOf = async (occurrenceId: string): Promise<{ device_id: string }[]> =>
      tx.selectFrom('deliveries').select('device_id').where('occurrence_id', '=', occurrenceId).execute();
    const addDelivery = (occurrenceId: string, deviceId: string) =>
      tx
        .insertInto('deliveries')
        .values({ occurrence_id: occurrenceId, device_id: deviceId })
        .onConflict((oc) => oc.doNothing())
        .execute();

    // Withdrawn: the rule no longer has it, or the schedule is off air. Not started, so safe to remove.
    for (const o of existing) {
      if (wanted.has(o.id) || off(o)) continue;
      for (const d of await deliveriesOf(o.id)) affected.add(d.device_id);
      await tx.deleteFrom('occurrences').where('id', '=', o.id).execute();
    }
    if (!onAir) return;

    for (const slot of planned) {
      const { id } = slot;
      const old = byId.get(id);
      // A one-off cancellation or a stop is never undone, and a device added later never gets it.
      if (off(old)) continue;
      if (!old) {
        await tx
          .insertInto('occurrences')
          .values({
            id,
            commune_id: schedule.commune_id,
            title: slot.title,
            text: null,
            priority: schedule.priority,
            start_at: slot.start,
            duration_ms: slot.durationMs,
            sha256: slot.firstFile!,
            engine: null,
            command_id: null,
            created_by: schedule.created_by,
            created_at: now,
            schedule_id: scheduleId,
            assets: slot.assetsJson,
            volume: slot.volume ?? null,
            public_items: slot.publicItems,
          })
          .execute();
        for (const d of slot.devices) {
          await addDelivery(id, d);
          affected.add(d);
        }
        continue;
      }
      const current = await deliveriesOf(id);
      const changed =
        old.assets !== slot.assetsJson ||
        old.start_at !== slot.start ||
        old.priority !== schedule.priority ||
        old.volume !== (slot.volume ?? null) ||
        old.title !== slot.title ||
        old.public_items !== slot.publicItems;
      if (changed) {
        await tx
          .updateTable('occurrences')
          .set({
            title: slot.title,
            priority: schedule.priority,
            start_at: slot.start,
            duration_ms: slot.durationMs,
            sha256: slot.firstFile!,
            assets: slot.assetsJson,
            volume: slot.volume ?? null,
            public_items: slot.publicItems,
          })
          .where('id', '=', id)
          .execute();
        for (const d of current) affected.add(d.device_id);
      }
      const wantedDevices = new Set(slot.devices);
      for (const d of current) {
        if (!wantedDevices.has(d.device_id)) {
          await tx
            .deleteFrom('deliveries')
            .where('occurrence_id', '=', id)
            .where('device_id', '=', d.device_id)
            .execute();
          affected.add(d.device_id);
        }
      }
      const have = new Set(current.map((d) => d.device_id));
      for (const d of slot.devices) {
        if (!have.has(d)) {
          await addDelivery(id, d);
          affected.add(d);
        }
      }
    }
  }

  /**
   * The schedule's language versions that play somewhere, in the order their languages first
   * appear in its target zones' lists, each for the active loudspeakers of the zones that list it.
   */
  private async versionShapes(schedule: ScheduleRow): Promise<(Omit<Slot, 'id' | 'start'> & { language: string })[]> {
    if (!schedule.approved_versions) return [];
    const versions = JSON.parse(schedule.approved_versions) as FrozenVersion[];
    if (versions.length === 0) return [];
    const { zones } = await targetsOf(this.sqlDb.db, schedule.id);
    const order = languageOrder(await this.registry.zoneLanguages(zones), new Set(versions.map((v) => v.language)));
    const shapes: (Omit<Slot, 'id' | 'start'> & { language: string })[] = [];
    for (const { language, zoneIds } of order) {
      const version = versions.find((v) => v.language === language)!;
      const devices = await activeDevices(this.sqlDb.db, this.registry, schedule.commune_id, zoneIds, []);
      if (devices.length === 0) continue;
      const shape = slotShape(version.assets, {
        title: `${schedule.title} (${languageName(language)})`,
        devices,
        publicItems: version.publicItems.length ? JSON.stringify(version.publicItems) : null,
      });
      shapes.push({ ...shape, language });
    }
    return shapes;
  }

  /** Every schedule that may have occurrences ahead: the timer's roll-forward and the start-up pass. */
  async materialiseAll(): Promise<Set<string>> {
    const rows: { id: string }[] = await this.sqlDb.db
      .selectFrom('schedules')
      .select('id')
      .where('status', '=', 'approved')
      .union((eb) =>
        eb
          .selectFrom('occurrences')
          .select('schedule_id as id')
          .where('schedule_id', 'is not', null)
          .where('start_at', '>=', this.now()),
      )
      .execute();
    return this.materialiseEach(rows);
  }

  /**
   * The devices' zones or status changed: only schedules that reach them now
   * (by zone or by name) or held future occurrences for them need a new look.
   */
  async materialiseForDevices(deviceIds: string[]): Promise<Set<string>> {
    if (deviceIds.length === 0) return new Set();
    const rows: { id: string }[] = await this.sqlDb.db
      .selectFrom('schedule_targets as t')
      .select('t.schedule_id as id')
      .where((eb) =>
        eb.or([
          eb.and([eb('t.kind', '=', 'device'), eb('t.target_id', 'in', deviceIds)]),
          eb.and([
            eb('t.kind', '=', 'zone'),
            eb(
              't.target_id',
              'in',
              eb.selectFrom('device_zones').select('zone_id').where('device_id', 'in', deviceIds),
            ),
          ]),
        ]),
      )
      .union((eb) =>
        eb
          .selectFrom('deliveries as d')
          .innerJoin('occurrences as o', 'o.id', 'd.occurrence_id')
          .select('o.schedule_id as id')
          .where('d.device_id', 'in', deviceIds)
          .where('o.schedule_id', 'is not', null)
          .where('o.start_at', '>=', this.now()),
      )
      .execute();
    return this.materialiseEach(rows);
  }

  private async materialiseEach(schedules: { id: string }[]): Promise<Set<string>> {
    const affected = new Set<string>();
    // One after the other: each is its own transaction, and on SQLite they share one connection.
    for (const { id } of schedules) for (const d of await this.materialiseSchedule(id)) affected.add(d);
    return affected;
  }
}
