/**
 * Broadcasts: a notice for chosen zones, now or at a set time. "Now" goes out
 * as a play-now command on the zones' command topics (one publish per zone);
 * "at" goes into each target device's plan, played from the device's own clock.
 */
import crypto from 'node:crypto';
import {
  encodeAscii,
  MAX_INLINE_BYTES,
  topics,
  type CommandPayload,
  type DeliveryStage,
  type Priority,
} from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry } from '../devices/registry';
import type { NoticeRenderer } from '../tts/render';
import { assetFor, type Planner } from './planner';
import type { ServerMetrics } from '../metrics/metrics';
import type { MediaAsset, MediaStore } from '../media/store';
import type { Mp3Renditions } from '../media/renditions';

export class BroadcastInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'BroadcastInputError';
  }
}

export interface BroadcastRequest {
  text: string;
  zones: string[] | 'all';
  priority?: Priority;
  /** Start instant; absent = now. */
  at?: Date;
  voice?: string;
  speed?: number;
  createdBy?: string;
}

export interface OccurrenceView {
  id: string;
  title: string;
  priority: Priority;
  startAt: string;
  durationMs: number;
  sha256: string;
  engine: string | null;
  /** Set when someone stopped it: it left every plan then, and what had not played never will. */
  stoppedAt: string | null;
  stoppedBy: string | null;
  deliveries: { deviceId: string; stage: DeliveryStage; at: string | null; detail: string | null }[];
}

/** Play-now commands stay valid this long; a device that gets one later skips it. */
const COMMAND_TTL_MS = 5 * 60_000;
/** How far in the past an explicit `at` may be (clock differences between browser and server). */
const AT_TOLERANCE_MS = 5_000;

export function newRefId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(5).toString('hex')}`;
}

/** What every command to a device starts with: its id, when it was issued and until when it may run. */
export function commandHeader(commandId = newRefId('cmd')) {
  const issuedAt = Date.now();
  return { v: 1 as const, commandId, issuedAt, expiresAt: issuedAt + COMMAND_TTL_MS };
}

function titleOf(text: string): string {
  const line = text.trim().split(/\n/)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export class BroadcastService {
  constructor(
    private readonly deps: {
      db: Db;
      bus: MessageBus;
      registry: DeviceRegistry;
      renderer: NoticeRenderer;
      media: MediaStore;
      /** MP3 copies for the devices that ask for MP3; without it every device gets Ogg. */
      renditions?: Mp3Renditions;
      planner: Planner;
      logger: Logger;
      metrics?: Pick<ServerMetrics, 'renderSeconds'>;
    },
  ) {}

  async create(request: BroadcastRequest): Promise<{ occurrenceId: string; deviceIds: string[] }> {
    const { registry, renderer, logger } = this.deps;
    const text = request.text.trim();
    if (!text) throw new BroadcastInputError('text', 'text: the notice is empty');
    const now = Date.now();
    if (request.at && request.at.getTime() < now - AT_TOLERANCE_MS) {
      throw new BroadcastInputError('at', `at: ${request.at.toISOString()} is in the past`);
    }
    if (request.zones !== 'all') {
      if (request.zones.length === 0) throw new BroadcastInputError('zones', 'zones: choose at least one zone');
      const unknown = registry.unknownZones(request.zones);
      if (unknown.length) throw new BroadcastInputError('zones', `zones: unknown zone(s) ${unknown.join(', ')}`);
    }
    const deviceIds = registry.devicesIn(request.zones);
    if (deviceIds.length === 0) {
      throw new BroadcastInputError('zones', 'zones: there are no loudspeakers in the chosen zones');
    }

    const priority = request.priority ?? 'normal';
    const renderStarted = performance.now();
    const audio = await renderer.render({ text, voice: request.voice, speed: request.speed });
    this.deps.metrics?.renderSeconds.observe(
      { engine: audio.engine, cached: String(audio.cached) },
      (performance.now() - renderStarted) / 1000,
    );
    const occurrenceId = await this.launch({
      title: titleOf(text),
      text,
      priority,
      audio,
      zones: request.zones,
      deviceIds,
      ...(request.at ? { at: request.at } : {}),
      createdBy: request.createdBy,
    });
    logger.info(
      {
        occurrenceId,
        devices: deviceIds.length,
        priority,
        playNow: !request.at,
        sha256: audio.sha256,
        cached: audio.cached,
      },
      'broadcast created',
    );
    return { occurrenceId, deviceIds };
  }

  /** Plays a stored file now on the given devices (the loudspeaker test tone), as an occurrence with deliveries. */
  async playFile(input: {
    title: string;
    audio: MediaAsset;
    deviceIds: string[];
    createdBy?: string;
  }): Promise<string> {
    return this.launch({ ...input, text: null, priority: 'normal', zones: [] });
  }

  /**
   * Stores the occurrence with a delivery per device, then sends it: now as a
   * play-now command, or at `at` through the devices' plans.
   */
  private async launch(input: {
    title: string;
    text: string | null;
    priority: Priority;
    audio: MediaAsset & { engine?: string | null };
    zones: string[] | 'all';
    deviceIds: string[];
    at?: Date;
    createdBy?: string | undefined;
  }): Promise<string> {
    const { db, planner } = this.deps;
    const { audio, priority, text, deviceIds } = input;
    const occurrenceId = newRefId('occ');
    const playNow = !input.at;
    const commandId = playNow ? newRefId('cmd') : null;
    const startAt = playNow ? Date.now() : input.at!.getTime();

    db.transaction(() => {
      db.prepare(
        `INSERT INTO occurrences (id, title, text, priority, start_at, duration_ms, sha256, engine, command_id, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        occurrenceId,
        input.title,
        text,
        priority,
        startAt,
        audio.durationMs,
        audio.sha256,
        audio.engine ?? null,
        commandId,
        input.createdBy ?? null,
        Date.now(),
      );
      const add = db.prepare('INSERT INTO deliveries (occurrence_id, device_id) VALUES (?, ?)');
      for (const d of deviceIds) add.run(occurrenceId, d);
    })();

    if (playNow) {
      let asset = assetFor({ ...audio, duration_ms: audio.durationMs });
      // A short alert travels inside the command: no HTTP round trip (on 4G, a TLS handshake)
      // between hearing of it and playing it.
      const inline = await this.deps.media.readSmall(audio, MAX_INLINE_BYTES);
      if (inline) asset.data = inline.toString('base64');
      if (this.deps.renditions) asset = await this.deps.renditions.attach(asset, audio, deviceIds);
      const command: CommandPayload = {
        ...commandHeader(commandId!),
        action: 'play-now',
        occurrenceId,
        priority,
        title: input.title,
        assets: [asset],
      };
      await this.sendCommand(command, input.zones, deviceIds);
    } else {
      await this.deps.renditions?.prepare([audio], deviceIds);
      await planner.publishPlans(deviceIds);
    }
    return occurrenceId;
  }

  /**
   * One publish per zone reaches all its devices; devices in no chosen zone
   * (possible with "all") get the command on their own topic. Devices in two
   * zones get it twice and drop the duplicate by command id.
   */
  private async sendCommand(command: CommandPayload, zones: string[] | 'all', deviceIds: string[]): Promise<void> {
    const { bus, registry } = this.deps;
    const zoneIds = zones === 'all' ? registry.listZones().map((z) => z.id) : zones;
    const covered = new Set(registry.devicesIn(zoneIds));
    const payload = encodeAscii(command);
    await Promise.all([
      ...zoneIds.map((z) => bus.publish(topics.zoneCmd(z), payload, { qos: 1 })),
      ...deviceIds.filter((d) => !covered.has(d)).map((d) => bus.publish(topics.deviceCmd(d), payload, { qos: 1 })),
    ]);
  }

  getOccurrence(id: string): OccurrenceView | null {
    const { db } = this.deps;
    const o = db
      .prepare(
        `SELECT id, title, priority, start_at, duration_ms, sha256, engine, stopped_at, stopped_by
         FROM occurrences WHERE id = ?`,
      )
      .get(id) as
      | {
          id: string;
          title: string;
          priority: Priority;
          start_at: number;
          duration_ms: number;
          sha256: string;
          engine: string | null;
          stopped_at: number | null;
          stopped_by: string | null;
        }
      | undefined;
    if (!o) return null;
    const deliveries = db
      .prepare('SELECT device_id, stage, at, detail FROM deliveries WHERE occurrence_id = ? ORDER BY device_id')
      .all(id) as { device_id: string; stage: DeliveryStage; at: number | null; detail: string | null }[];
    return {
      id: o.id,
      title: o.title,
      priority: o.priority,
      startAt: new Date(o.start_at).toISOString(),
      durationMs: o.duration_ms,
      sha256: o.sha256,
      engine: o.engine,
      stoppedAt: o.stopped_at === null ? null : new Date(o.stopped_at).toISOString(),
      stoppedBy: o.stopped_by,
      deliveries: deliveries.map((d) => ({
        deviceId: d.device_id,
        stage: d.stage,
        at: d.at === null ? null : new Date(d.at).toISOString(),
        detail: d.detail,
      })),
    };
  }
}
