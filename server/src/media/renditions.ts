/**
 * MP3 copies of the stored Ogg audio, made only while a device asks for MP3
 * (its "online" status says `audioFormat: "mp3"`): for a broadcast's audio
 * when the broadcast is created, for what is newly scheduled, and in the
 * background for everything ahead of a device when it announces MP3. The
 * planner then attaches the copies that exist, without waiting on ffmpeg.
 */
import { fileAssets, type Asset, type FileAsset } from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { SqlDb } from '../db/sql';
import type { DeviceRegistry } from '../devices/registry';
import { plannedFor, withMp3, type Planner } from '../broadcasts/planner';
import type { MediaAsset, MediaStore } from './store';

/** Devices per `IN (…)` list: well under either engine's limit on parameters. */
const DEVICES_PER_QUERY = 500;

export class Mp3Renditions {
  /** Background back-fills run one at a time: a fleet announcing MP3 together must not start an ffmpeg each. */
  private background: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      media: MediaStore;
      registry: Pick<DeviceRegistry, 'devicesAsking'>;
      planner: Pick<Planner, 'publishPlan' | 'horizonMs'>;
      logger: Logger;
    },
  ) {}

  /**
   * Makes the MP3 copies of `sources` when one of `deviceIds` asks for MP3;
   * returns them by source sha256. A failure is logged, not thrown: those
   * devices then play the Ogg file.
   */
  async prepare(sources: readonly MediaAsset[], deviceIds: Iterable<string>): Promise<Map<string, MediaAsset>> {
    const made = new Map<string, MediaAsset>();
    if ((await this.deps.registry.devicesAsking('mp3', deviceIds)).length === 0) return made;
    for (const source of sources) {
      const mp3 = await this.make(source);
      if (mp3) made.set(source.sha256, mp3);
    }
    return made;
  }

  /** A play-now's asset with the MP3 copy of `source` attached, when one of `deviceIds` asks for MP3. */
  async attach(asset: FileAsset, source: MediaAsset, deviceIds: Iterable<string>): Promise<FileAsset> {
    const made = await this.prepare([source], deviceIds);
    return withMp3(asset, (sha256) => made.get(sha256) ?? null);
  }

  /**
   * Makes the missing copies of every file in the plans of the MP3 devices
   * among `deviceIds` (what the planner plans: their own commune's); returns
   * the devices whose plans gained a copy. One query for the devices' files,
   * one for the copies already made, then a lookup per file still to make.
   */
  async prepareDevices(deviceIds: Iterable<string>, now = Date.now()): Promise<Set<string>> {
    const { sqlDb, media, registry } = this.deps;
    const asking = await registry.devicesAsking('mp3', deviceIds);
    const shasOf = new Map<string, Set<string>>(asking.map((id) => [id, new Set()]));
    for (let i = 0; i < asking.length; i += DEVICES_PER_QUERY) {
      const rows: { device_id: string; sha256: string; assets: string | null }[] = await plannedFor(
        sqlDb.db,
        asking.slice(i, i + DEVICES_PER_QUERY),
        now,
        now + this.deps.planner.horizonMs,
      )
        .select(['d.device_id', 'o.sha256', 'o.assets'])
        .distinct()
        .execute();
      for (const row of rows) {
        const shas = shasOf.get(row.device_id)!;
        if (row.assets === null) shas.add(row.sha256);
        else for (const a of fileAssets(JSON.parse(row.assets) as Asset[])) shas.add(a.sha256);
      }
    }
    const made = await media.mp3RenditionsOf([...shasOf.values()].flatMap((shas) => [...shas]));
    const gained = new Set<string>();
    const madeNow = new Set<string>();
    for (const [deviceId, shas] of shasOf) {
      for (const sha256 of shas) {
        if (madeNow.has(sha256)) {
          gained.add(deviceId);
          continue;
        }
        if (made.has(sha256)) continue;
        const source = await media.get(sha256);
        if (!source || source.format !== 'ogg') continue;
        if (await this.make(source)) {
          madeNow.add(sha256);
          gained.add(deviceId);
        }
      }
    }
    return gained;
  }

  /**
   * Told the format of each "online" status: a device asking for MP3 gets the
   * copies of everything ahead of it in the background, then a new plan if
   * that plan changes (always the first time it asks: its last plan had none).
   */
  announced(deviceId: string, format: 'ogg' | 'mp3', previous: 'ogg' | 'mp3'): void {
    if (format !== 'mp3') return;
    const { planner, logger } = this.deps;
    this.background = this.background
      .then(async () => {
        const gained = await this.prepareDevices([deviceId]);
        if (gained.size > 0 || previous !== 'mp3') await planner.publishPlan(deviceId);
      })
      .catch((err: unknown) => logger.error({ err, deviceId }, 'MP3 back-fill failed'));
  }

  /** Resolves when the background back-fills asked for so far are done (tests, shutdown). */
  idle(): Promise<void> {
    return this.background;
  }

  private async make(source: MediaAsset): Promise<MediaAsset | null> {
    try {
      return await this.deps.media.mp3Rendition(source);
    } catch (err) {
      this.deps.logger.error({ err, sha256: source.sha256 }, 'MP3 rendition failed; MP3 devices get the Ogg file');
      return null;
    }
  }
}
