/**
 * MP3 copies of the stored Ogg audio, made only while a device asks for MP3
 * (its "online" status says `audioFormat: "mp3"`): for a broadcast's audio
 * when the broadcast is created, for what is newly scheduled, and in the
 * background for everything ahead of a device when it announces MP3. The
 * planner then attaches the copies that exist, without waiting on ffmpeg.
 */
import { fileAssets, type Asset, type FileAsset } from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { DeviceRegistry } from '../devices/registry';
import { withMp3, type Planner } from '../broadcasts/planner';
import type { MediaAsset, MediaStore } from './store';

export class Mp3Renditions {
  /** Background back-fills run one at a time: a fleet announcing MP3 together must not start an ffmpeg each. */
  private background: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      db: Db;
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
    if (this.deps.registry.devicesAsking('mp3', deviceIds).length === 0) return made;
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
   * the devices whose plans gained a copy.
   */
  async prepareDevices(deviceIds: Iterable<string>, now = Date.now()): Promise<Set<string>> {
    const { db, media, registry } = this.deps;
    const gained = new Set<string>();
    const madeNow = new Set<string>();
    for (const deviceId of registry.devicesAsking('mp3', deviceIds)) {
      const rows = db
        .prepare(
          `SELECT DISTINCT o.sha256, o.assets FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id
             JOIN devices v ON v.id = d.device_id AND v.commune_id = o.commune_id
           WHERE d.device_id = ? AND o.command_id IS NULL AND o.cancelled_at IS NULL AND o.stopped_at IS NULL
             AND o.start_at + o.duration_ms > ? AND o.start_at < ?`,
        )
        .all(deviceId, now, now + this.deps.planner.horizonMs) as { sha256: string; assets: string | null }[];
      const shas = new Set<string>();
      for (const row of rows) {
        if (row.assets === null) shas.add(row.sha256);
        else for (const a of fileAssets(JSON.parse(row.assets) as Asset[])) shas.add(a.sha256);
      }
      for (const sha256 of shas) {
        if (madeNow.has(sha256)) {
          gained.add(deviceId);
          continue;
        }
        const source = media.get(sha256);
        if (!source || source.format !== 'ogg' || media.mp3RenditionOf(sha256)) continue;
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
