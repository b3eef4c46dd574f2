/**
 * Builds each device's plan (what it must play, when) from stored occurrences
 * and publishes it retained, so a device that reconnects always finds its
 * latest plan waiting.
 */
import {
  encode,
  fileAssets,
  isFile,
  MAX_PLAN_ITEMS,
  topics,
  type Asset,
  type FileAsset,
  type PlanItem,
  type PlanPayload,
  type Priority,
} from '@loaxa/protocol';
import type { Logger } from 'pino';
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry } from '../devices/registry';
import type { MediaAsset, MediaStore } from '../media/store';

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

/** Finds the MP3 rendition of a stored file, if one was made (looked up beforehand: MediaStore.mp3RenditionsOf). */
export type Mp3Lookup = (sourceSha256: string) => MediaAsset | null;

/** The file as an asset; with `mp3Of`, an Ogg file whose MP3 rendition exists carries it as `mp3`. */
export function assetFor(
  row: { sha256: string; format: 'ogg' | 'mp3'; bytes: number; duration_ms: number },
  mp3Of?: Mp3Lookup,
): FileAsset {
  const asset: FileAsset = {
    sha256: row.sha256,
    url: `/media/${row.sha256}.${row.format}`,
    bytes: row.bytes,
    durationMs: row.duration_ms,
    format: row.format,
  };
  return mp3Of ? withMp3(asset, mp3Of) : asset;
}

/** `asset` with its MP3 rendition attached when it is an Ogg file that has one. */
export function withMp3<A extends Asset>(asset: A, mp3Of: Mp3Lookup): A {
  if (!isFile(asset) || asset.format !== 'ogg') return asset;
  const mp3 = mp3Of(asset.sha256);
  return mp3 ? { ...asset, mp3: { sha256: mp3.sha256, url: `/media/${mp3.sha256}.mp3`, bytes: mp3.bytes } } : asset;
}

/** The database's generation (migration 12's meta row): the plans' epoch. */
export async function databaseGeneration(db: Kysely<Tables>): Promise<string> {
  const row: { value: string } | undefined = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'generation')
    .executeTakeFirst();
  if (!row) throw new Error('the database has no generation (meta table); was it migrated?');
  return row.value;
}

/**
 * A device's plannable deliveries: scheduled (not play-now) occurrences that have not ended, been
 * cancelled or stopped, starting before `horizonEnd` — of its own commune only. Shared by the plan
 * and its overflow count, and by the MP3 back-fill (media/renditions.ts).
 */
export function plannedFor(db: Kysely<Tables>, deviceIds: readonly string[], now: number, horizonEnd: number) {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('occurrences as o', 'o.id', 'd.occurrence_id')
    .innerJoin('devices as v', (join) =>
      join.onRef('v.id', '=', 'd.device_id').onRef('v.commune_id', '=', 'o.commune_id'),
    )
    .where('d.device_id', 'in', deviceIds)
    .where('o.command_id', 'is', null)
    .where('o.cancelled_at', 'is', null)
    .where('o.stopped_at', 'is', null)
    .where(sql<SqlBool>`o.start_at + o.duration_ms > ${now}`)
    .where('o.start_at', '<', horizonEnd);
}

export interface PlannerOptions {
  /** How far ahead a plan reaches: the same horizon occurrences are materialised over (config.horizonDays). */
  horizonMs: number;
  /** Where MP3 renditions are looked up, for the plans of devices that ask for MP3. */
  media?: Pick<MediaStore, 'mp3RenditionsOf'>;
  /** Told when a device has more items ahead than one plan carries (they reach it as earlier ones end). */
  onOverflow?: (deviceId: string, left: number) => void;
  /** The server's clock (tests move it). */
  now?: () => number;
}

export class Planner {
  private epoch: string | null = null;

  constructor(
    private readonly sqlDb: SqlDb,
    private readonly registry: DeviceRegistry,
    private readonly bus: MessageBus,
    private readonly logger: Logger,
    private readonly options: PlannerOptions,
  ) {}

  get horizonMs(): number {
    return this.options.horizonMs;
  }

  /**
   * Scheduled (not play-now) occurrences for the device that have not ended,
   * been cancelled or stopped — of its own commune only: a loudspeaker moved to
   * another commune no longer plays what its former commune planned.
   *
   * Runs on every (re)connect: the items, the device's format, zones and next
   * plan version, and for an MP3 device its copies in one more query (the
   * count only when the plan overflows).
   */
  async planForDevice(deviceId: string, now = (this.options.now ?? Date.now)()): Promise<PlanPayload> {
    const horizonEnd = now + this.options.horizonMs;
    const { db } = this.sqlDb;
    const [rows, format, zones]: [PlannedRow[], 'ogg' | 'mp3', string[]] = await Promise.all([
      plannedFor(db, [deviceId], now, horizonEnd)
        .innerJoin('media as m', 'm.sha256', 'o.sha256')
        .select([
          'o.id',
          'o.title',
          'o.priority',
          'o.start_at',
          'o.duration_ms',
          'o.sha256',
          'm.format',
          'm.bytes',
          'o.assets',
          'o.volume',
        ])
        .orderBy('o.start_at')
        .limit(MAX_PLAN_ITEMS + 1)
        .execute(),
      this.options.media ? this.registry.audioFormatOf(deviceId) : 'ogg',
      this.registry.zonesOf(deviceId),
    ]);
    if (rows.length > MAX_PLAN_ITEMS) {
      // Never silent: the earliest items go out, the rest follow as those end (the roll-forward re-plans).
      const counted: { n: number } = await plannedFor(db, [deviceId], now, horizonEnd)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const left = counted.n - MAX_PLAN_ITEMS;
      rows.length = MAX_PLAN_ITEMS;
      this.logger.error(
        { deviceId, carried: MAX_PLAN_ITEMS, left, until: new Date(rows.at(-1)!.start_at).toISOString() },
        'the device has more plan items ahead than one plan carries; the rest follow as these end',
      );
      this.options.onOverflow?.(deviceId, left);
    }
    const planned = rows.map((r) => ({ row: r, assets: r.assets ? (JSON.parse(r.assets) as Asset[]) : [assetFor(r)] }));
    // Only a device that asked for MP3 gets the copies: an Ogg device's plan stays as it was.
    const media = this.options.media;
    const copies =
      media && format === 'mp3'
        ? await media.mp3RenditionsOf(
            planned.flatMap((p) => fileAssets(p.assets).flatMap((a) => (a.format === 'ogg' ? [a.sha256] : []))),
          )
        : null;
    const mp3Of: Mp3Lookup | null = copies && ((sha256) => copies.get(sha256) ?? null);
    const items: PlanItem[] = planned.map(({ row: r, assets }) => ({
      occurrenceId: r.id,
      startAt: r.start_at,
      priority: r.priority,
      ...(r.volume !== null ? { volume: r.volume } : {}),
      title: r.title.slice(0, 200),
      assets: mp3Of ? assets.map((a) => withMp3(a, mp3Of)) : assets,
    }));
    this.epoch ??= await databaseGeneration(db);
    return {
      v: 1,
      planVersion: await this.registry.nextPlanVersion(deviceId),
      epoch: this.epoch,
      generatedAt: now,
      horizonEnd,
      zones,
      items,
    };
  }

  async publishPlan(deviceId: string): Promise<void> {
    const plan = await this.planForDevice(deviceId);
    await this.bus.publish(topics.devicePlan(deviceId), encode(plan), { retain: true, qos: 1 });
    this.logger.debug({ deviceId, planVersion: plan.planVersion, items: plan.items.length }, 'plan published');
  }

  async publishPlans(deviceIds: Iterable<string>): Promise<void> {
    await Promise.all([...deviceIds].map((id) => this.publishPlan(id)));
  }
}
