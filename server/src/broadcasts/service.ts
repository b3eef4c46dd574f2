/**
 * Broadcasts: a notice for chosen zones, now or at a set time. "Now" goes out
 * as a play-now command on the zones' command topics (one publish per zone);
 * "at" goes into each target device's plan, played from the device's own clock.
 */
import type { RuleBreak } from '../rules/broadcast-rules';
import type { RuleOverride, RulesGuard } from '../rules/guard';
import crypto from 'node:crypto';
import {
  encodeAscii,
  MAX_INLINE_BYTES,
  topics,
  type CommandPayload,
  type LiveAsset,
  type PlayNowCommand,
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
import { communeScope, inScope, type Scope } from '../tenancy/scope';
import type { BulletinAiringInput } from '../bulletins/bulletins';
import { DEFAULT_LANGUAGE, publicItem, type PublicItem } from '../public/items';
import { languageName } from '../public/languages';
import { planVersions, VERSION_GAP_MS, type NoticeVersionInput, type VersionPlan } from './versions';

export class BroadcastInputError extends Error {
  /** A bad input: the HTTP error handler answers 400 naming `field`, whoever called. */
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'BroadcastInputError';
  }
}

export interface BroadcastRequest {
  /** The commune it is broadcast in: its zones, and 'all' = every loudspeaker of this commune. */
  communeId: string;
  text: string;
  zones: string[] | 'all';
  priority?: Priority;
  /** Start instant; absent = now. */
  at?: Date;
  voice?: string;
  speed?: number;
  /** Shown on the commune's public page and podcast once it has aired (default: yes). */
  public?: boolean;
  /** Versions in other languages, played after the Vietnamese where a zone lists their language. */
  versions?: NoticeVersionInput[];
  /** A leader lets this one play through the commune's broadcast rules, with a reason (rules/guard.ts). */
  overrideRules?: RuleOverride;
  /** Whether the sender may override the rules (a leader). */
  mayOverride?: boolean;
  createdBy?: string;
}

export interface OccurrenceView {
  id: string;
  communeId: string;
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
      /** The communes' broadcast rules (absent: nothing is checked). */
      guard?: RulesGuard;
    },
  ) {}

  async create(request: BroadcastRequest): Promise<{
    occurrenceId: string;
    deviceIds: string[];
    versions: { language: string; occurrenceId: string; deviceIds: string[] }[];
    /** The rule breaks a leader's override let through (for the audit log). */
    overridden: RuleBreak[];
  }> {
    const { renderer, logger } = this.deps;
    const text = request.text.trim();
    if (!text) throw new BroadcastInputError('text', 'text: the notice is empty');
    const now = Date.now();
    if (request.at && request.at.getTime() < now - AT_TOLERANCE_MS) {
      throw new BroadcastInputError('at', `at: ${request.at.toISOString()} is in the past`);
    }
    const { communeId } = request;
    if (request.zones !== 'all') {
      if (request.zones.length === 0) throw new BroadcastInputError('zones', 'zones: choose at least one zone');
      // Another commune's zone is answered like one that does not exist: ids do not leak.
      const unknown = this.unknownZones(request.zones, communeId);
      if (unknown.length) throw new BroadcastInputError('zones', `zones: unknown zone(s) ${unknown.join(', ')}`);
    }
    const deviceIds = this.devicesIn(request.zones, communeId);
    if (deviceIds.length === 0) {
      throw new BroadcastInputError('zones', 'zones: there are no loudspeakers in the chosen zones');
    }

    const title = titleOf(text);
    const versionInputs = this.checkVersions(request.versions ?? [], title);
    const priority = request.priority ?? 'normal';
    const renderStarted = performance.now();
    // The commune's settings (dictionary, loudness, engines) shape its notices.
    const audio = await renderer.render({ text, voice: request.voice, speed: request.speed }, communeId);
    this.deps.metrics?.renderSeconds.observe(
      { engine: audio.engine, cached: String(audio.cached) },
      (performance.now() - renderStarted) / 1000,
    );
    // The whole notice is one session: the Vietnamese and every version after it.
    const sessionMs = audio.durationMs + versionInputs.reduce((sum, v) => sum + VERSION_GAP_MS + v.asset.durationMs, 0);
    const overridden =
      this.deps.guard?.check(communeId, [{ startAt: request.at?.getTime() ?? now, durationMs: sessionMs }], priority, {
        override: request.overrideRules,
        mayOverride: request.mayOverride ?? false,
      }) ?? [];
    const isPublic = request.public !== false;
    const versions = versionInputs.length
      ? planVersions(versionInputs, this.deps.registry.zoneLanguages(this.zonesOf(request.zones, communeId)), (z) =>
          this.devicesIn([z], communeId),
        )
      : null;
    const { occurrenceId, versionIds } = await this.launch({
      communeId,
      title,
      text,
      priority,
      audio,
      zones: request.zones,
      deviceIds,
      ...(request.at ? { at: request.at } : {}),
      createdBy: request.createdBy,
      publicItems: isPublic ? [publicItem({ title, text }, audio)] : null,
      ...(versions ? { versions, versionsPublic: isPublic } : {}),
    });
    logger.info(
      {
        occurrenceId,
        communeId,
        devices: deviceIds.length,
        priority,
        playNow: !request.at,
        sha256: audio.sha256,
        cached: audio.cached,
        versions: versions?.versions.map((v) => `${v.language}:${v.deviceIds.length}`),
      },
      'broadcast created',
    );
    return {
      occurrenceId,
      deviceIds,
      overridden,
      versions: (versions?.versions ?? []).map((v, i) => ({
        language: v.language,
        occurrenceId: versionIds[i]!,
        deviceIds: v.deviceIds,
      })),
    };
  }

  /** The versions' files must be stored already (uploaded or recorded), one per language, not Vietnamese. */
  private checkVersions(versions: readonly NoticeVersionInput[], title: string) {
    const seen = new Set<string>();
    return versions.map((v, i) => {
      const field = `versions[${i}]`;
      if (v.language === DEFAULT_LANGUAGE) {
        throw new BroadcastInputError(
          `${field}.language`,
          `${field}.language: the notice's text is the Vietnamese version`,
        );
      }
      if (seen.has(v.language)) {
        throw new BroadcastInputError(`${field}.language`, `${field}.language: ${v.language} is given twice`);
      }
      seen.add(v.language);
      const asset = this.deps.media.get(v.audio);
      if (!asset) throw new BroadcastInputError(`${field}.audio`, `${field}.audio: no uploaded audio ${v.audio}`);
      return { ...v, asset, title: v.title?.trim() || `${title} (${languageName(v.language)})` };
    });
  }

  /** The zones a broadcast reaches: those chosen, or every zone of the commune. */
  private zonesOf(zones: string[] | 'all', communeId: string): string[] {
    if (zones !== 'all') return zones;
    return (
      this.deps.db.prepare('SELECT id FROM zones WHERE commune_id = ? ORDER BY id').all(communeId) as { id: string }[]
    ).map((z) => z.id);
  }

  /**
   * Plays a stored file now on the given devices (the loudspeaker test tone),
   * as an occurrence with deliveries, in the commune of those devices.
   */
  async playFile(input: {
    title: string;
    audio: MediaAsset;
    deviceIds: string[];
    createdBy?: string;
  }): Promise<string> {
    const { occurrenceId } = await this.launch({
      ...input,
      communeId: this.communeOfDevices(input.deviceIds),
      text: null,
      priority: 'normal',
      zones: [],
    });
    return occurrenceId;
  }

  /**
   * A disaster alert on the loudspeakers inside its area (alerts/service.ts): an emergency,
   * now, on those of `deviceIds` still active; public like every alert. Null when none is.
   */
  async airAlert(input: {
    communeId: string;
    alertId: string;
    deviceIds: string[];
    title: string;
    text: string;
    audio: MediaAsset & { engine: string | null };
  }): Promise<string | null> {
    const active = (
      this.deps.db
        .prepare(
          `SELECT id FROM devices WHERE revoked_at IS NULL AND commune_id = ?
             AND id IN (SELECT value FROM json_each(?)) ORDER BY id`,
        )
        .all(input.communeId, JSON.stringify(input.deviceIds)) as { id: string }[]
    ).map((d) => d.id);
    if (active.length === 0) return null;
    const { occurrenceId } = await this.launch({
      communeId: input.communeId,
      title: input.title.length > 200 ? `${input.title.slice(0, 199)}…` : input.title,
      text: input.text,
      priority: 'emergency',
      audio: input.audio,
      zones: [],
      deviceIds: active,
      createdBy: 'cap',
      alertId: input.alertId,
      publicItems: [publicItem({ title: input.title, text: input.text }, input.audio)],
    });
    return occurrenceId;
  }

  /**
   * A live session (live/service.ts) as an occurrence: a delivery per active loudspeaker of
   * its zones, and a play-now command per zone whose asset names that zone's live topic.
   * The occurrence holds `placeholder` as its audio until the recording replaces it.
   */
  async airLive(input: {
    communeId: string;
    liveSessionId: string;
    title: string;
    priority: Priority;
    zones: string[];
    createdBy: string;
    placeholder: MediaAsset;
    asset: (zoneId: string) => LiveAsset;
  }): Promise<{ occurrenceId: string; deviceIds: string[] }> {
    const { db, bus } = this.deps;
    const deviceIds = this.devicesIn(input.zones, input.communeId);
    const occurrenceId = newRefId('occ');
    const header = commandHeader();
    db.transaction(() => {
      db.prepare(
        `INSERT INTO occurrences (id, commune_id, title, text, priority, start_at, duration_ms, sha256, command_id,
           created_by, created_at, live_session_id)
         VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        occurrenceId,
        input.communeId,
        input.title,
        input.priority,
        Date.now(),
        input.placeholder.durationMs,
        input.placeholder.sha256,
        header.commandId,
        input.createdBy,
        Date.now(),
        input.liveSessionId,
      );
      const add = db.prepare('INSERT INTO deliveries (occurrence_id, device_id) VALUES (?, ?)');
      for (const d of deviceIds) add.run(occurrenceId, d);
    })();
    await Promise.all(
      input.zones.map((zoneId) => {
        const command: PlayNowCommand = {
          ...header,
          // A loudspeaker that was offline when the session began joins it when it returns, until it ends.
          expiresAt: header.issuedAt + input.asset(zoneId).durationMs,
          action: 'play-now',
          occurrenceId,
          priority: input.priority,
          title: input.title,
          assets: [input.asset(zoneId)],
        };
        return bus.publish(topics.zoneCmd(zoneId), encodeAscii(command), { qos: 1 });
      }),
    );
    return { occurrenceId, deviceIds };
  }

  /**
   * Ends a live occurrence: it lasted from `startedAt` until now and, once the loudspeakers have
   * played out what they hold (`stopAfterMs`), it is stopped on its zones — for a loudspeaker that
   * missed the end frame, or gets the play-now late from its persistent session.
   */
  endLive(occurrenceId: string, zones: string[], startedAt: number, stopAfterMs: number): void {
    const stop: CommandPayload = { ...commandHeader(), action: 'stop', occurrenceId };
    setTimeout(() => {
      for (const z of zones)
        void this.deps.bus.publish(topics.zoneCmd(z), encodeAscii(stop), { qos: 1 }).catch(() => {});
    }, stopAfterMs).unref();
    this.deps.db
      .prepare('UPDATE occurrences SET duration_ms = ? WHERE id = ?')
      .run(Math.max(1000, Date.now() - startedAt), occurrenceId);
  }

  /** The live occurrences' audio is the session's recording now, to replay or schedule later. */
  liveRecorded(occurrenceIds: string[], recording: MediaAsset): void {
    const set = this.deps.db.prepare('UPDATE occurrences SET duration_ms = ?, sha256 = ? WHERE id = ?');
    this.deps.db.transaction(() => {
      for (const id of occurrenceIds) set.run(recording.durationMs, recording.sha256, id);
    })();
  }

  /** Zone ids in `zoneIds` that are not zones of the commune (another commune's count as unknown). */
  private unknownZones(zoneIds: string[], communeId: string): string[] {
    return this.deps.registry.unknownZones(zoneIds, communeScope(communeId));
  }

  /** The commune's active loudspeakers in any of its zones `zones`, or all of them. */
  private devicesIn(zones: string[] | 'all', communeId: string): string[] {
    return this.deps.registry.devicesIn(zones, communeScope(communeId));
  }

  /** The one commune all of `deviceIds` belong to (an occurrence lives in one commune). */
  private communeOfDevices(deviceIds: string[]): string {
    const communes = this.deps.db
      .prepare('SELECT DISTINCT commune_id FROM devices WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(deviceIds)) as { commune_id: string }[];
    if (communes.length !== 1) {
      throw new Error(`the devices ${deviceIds.join(', ')} are in ${communes.length} communes, not one`);
    }
    return communes[0]!.commune_id;
  }

  /**
   * One commune's play of a province bulletin (bulletins/bulletins.ts): its
   * loudspeakers in `zones` ('all': the whole commune), now or at `at`. A
   * play-now command stays playable until `expiresAt`. Null when the commune
   * has no active loudspeaker there.
   */
  async airBulletin(input: BulletinAiringInput): Promise<{ occurrenceId: string; deviceIds: string[] } | null> {
    if (input.zones !== 'all') {
      const unknown = this.unknownZones(input.zones, input.communeId);
      if (unknown.length) throw new BroadcastInputError('zones', `zones: unknown zone(s) ${unknown.join(', ')}`);
    }
    const deviceIds = this.devicesIn(input.zones, input.communeId);
    if (deviceIds.length === 0) return null;
    const { public: isPublic, checkRules, ...rest } = input;
    if (checkRules) {
      const play = { startAt: input.at?.getTime() ?? Date.now(), durationMs: input.audio.durationMs };
      this.deps.guard?.check(input.communeId, [play], input.priority, { mayOverride: false });
    }
    const { occurrenceId } = await this.launch({
      ...rest,
      deviceIds,
      publicItems: isPublic ? [publicItem(input, input.audio)] : null,
    });
    this.deps.logger.info(
      { occurrenceId, bulletinId: input.bulletinId, communeId: input.communeId, devices: deviceIds.length },
      'bulletin aired',
    );
    return { occurrenceId, deviceIds };
  }

  /**
   * Sends a play-now occurrence again to one device (it was offline when it
   * went out), under the same command id: a device that did get it drops the
   * duplicate.
   */
  async resendPlayNow(occurrenceId: string, deviceId: string, expiresAt: number): Promise<void> {
    const o = this.deps.db
      .prepare('SELECT title, priority, sha256, command_id FROM occurrences WHERE id = ? AND command_id IS NOT NULL')
      .get(occurrenceId) as { title: string; priority: Priority; sha256: string; command_id: string } | undefined;
    const audio = o ? this.deps.media.get(o.sha256) : null;
    if (!o || !audio) return;
    const command = await this.playNowCommand(o.command_id, occurrenceId, o.priority, o.title, audio, [deviceId]);
    await this.deps.bus.publish(topics.deviceCmd(deviceId), encodeAscii({ ...command, expiresAt }), { qos: 1 });
  }

  /** The play-now command of an occurrence; short audio rides inside it. */
  private async playNowCommand(
    commandId: string,
    occurrenceId: string,
    priority: Priority,
    title: string,
    audio: MediaAsset,
    deviceIds: string[],
  ): Promise<PlayNowCommand> {
    let asset = assetFor({ ...audio, duration_ms: audio.durationMs });
    // A short alert travels inside the command: no HTTP round trip (on 4G, a TLS handshake)
    // between hearing of it and playing it.
    const inline = await this.deps.media.readSmall(audio, MAX_INLINE_BYTES);
    if (inline) asset.data = inline.toString('base64');
    if (this.deps.renditions) asset = await this.deps.renditions.attach(asset, audio, deviceIds);
    return { ...commandHeader(commandId), action: 'play-now', occurrenceId, priority, title, assets: [asset] };
  }

  /**
   * Stores the occurrence with a delivery per device, then sends it: now as a
   * play-now command, or at `at` through the devices' plans.
   */
  private async launch(input: {
    communeId: string;
    title: string;
    text: string | null;
    priority: Priority;
    audio: MediaAsset & { engine?: string | null };
    zones: string[] | 'all';
    deviceIds: string[];
    at?: Date;
    createdBy?: string | undefined;
    /** The province bulletin this plays (bulletins/bulletins.ts). */
    bulletinId?: string;
    /** Until when a play-now command may still start (default: commandHeader's). */
    expiresAt?: number;
    /** What the public page may show of it once it has aired (null or absent: nothing). */
    publicItems?: PublicItem[] | null;
    /** The CAP alert it airs (alerts/service.ts). */
    alertId?: string;
    /** Its other language versions (versions.ts), each its own occurrence after it. */
    versions?: VersionPlan;
    versionsPublic?: boolean;
  }): Promise<{ occurrenceId: string; versionIds: string[] }> {
    const { db, planner } = this.deps;
    const { audio, priority, deviceIds } = input;
    const playNow = !input.at;
    const versions = input.versions?.versions ?? [];
    const insert = db.prepare(
      `INSERT INTO occurrences (id, commune_id, title, text, priority, start_at, duration_ms, sha256, engine,
         command_id, created_by, created_at, bulletin_id, public_items, alert_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const addDelivery = db.prepare('INSERT INTO deliveries (occurrence_id, device_id) VALUES (?, ?)');
    /** Stores one occurrence with a delivery per device; a planned version starts `after` the one before ends. */
    const store = (o: {
      title: string;
      text: string | null;
      audio: MediaAsset & { engine?: string | null };
      startAt: number;
      deviceIds: readonly string[];
      publicItems: PublicItem[] | null | undefined;
    }) => {
      const id = newRefId('occ');
      const commandId = playNow ? newRefId('cmd') : null;
      insert.run(
        id,
        input.communeId,
        o.title,
        o.text,
        priority,
        o.startAt,
        o.audio.durationMs,
        o.audio.sha256,
        o.audio.engine ?? null,
        commandId,
        input.createdBy ?? null,
        Date.now(),
        input.bulletinId ?? null,
        o.publicItems?.length ? JSON.stringify(o.publicItems) : null,
        input.alertId ?? null,
      );
      for (const d of o.deviceIds) addDelivery.run(id, d);
      return { id, commandId, startAt: o.startAt, durationMs: o.audio.durationMs };
    };

    const stored = db.transaction(() => {
      const main = store({
        ...input,
        publicItems: input.publicItems,
        startAt: playNow ? Date.now() : input.at!.getTime(),
      });
      let previous = main;
      const rest = versions.map((v) => {
        const startAt = playNow ? Date.now() : previous.startAt + previous.durationMs + VERSION_GAP_MS;
        previous = store({
          title: v.title,
          text: v.text,
          audio: v.audio,
          startAt,
          deviceIds: v.deviceIds,
          publicItems: input.versionsPublic ? [publicItem(v, v.audio, v.language)] : null,
        });
        return previous;
      });
      return { main, rest };
    })();
    const { main, rest } = stored;

    if (playNow) {
      const command = await this.playNowCommand(main.commandId!, main.id, priority, input.title, audio, deviceIds);
      if (input.expiresAt !== undefined) command.expiresAt = input.expiresAt;
      await this.sendCommand(command, input.communeId, input.zones, deviceIds);
      if (input.versions && rest.length) await this.sendVersions(input.versions, main.id, rest, input);
    } else {
      const everyone = [...new Set([...deviceIds, ...versions.flatMap((v) => v.deviceIds)])];
      await this.deps.renditions?.prepare([audio, ...versions.map((v) => v.audio)], everyone);
      await planner.publishPlans(everyone);
    }
    return { occurrenceId: main.id, versionIds: rest.map((r) => r.id) };
  }

  /**
   * The play-now commands of a notice's other language versions, on each zone's
   * topic in the zone's order: each names the version before it (`after`), so a
   * loudspeaker plays them one after the other, never one over another.
   */
  private async sendVersions(
    plan: VersionPlan,
    mainId: string,
    stored: readonly { id: string; commandId: string | null }[],
    input: { priority: Priority; expiresAt?: number },
  ): Promise<void> {
    const index = new Map(plan.versions.map((v, i) => [v.language, i]));
    // One payload per (version, the version before it), shared by the zones that chain them alike.
    const payloads = new Map<string, Promise<string>>();
    const payload = (language: string, after: string): Promise<string> => {
      const key = `${language} ${after}`;
      let made = payloads.get(key);
      if (!made) {
        const i = index.get(language)!;
        const v = plan.versions[i]!;
        made = this.playNowCommand(
          stored[i]!.commandId!,
          stored[i]!.id,
          input.priority,
          v.title,
          v.audio,
          v.deviceIds,
        ).then((command) => {
          if (input.expiresAt !== undefined) command.expiresAt = input.expiresAt;
          return encodeAscii({ ...command, after });
        });
        payloads.set(key, made);
      }
      return made;
    };
    const chains = [...plan.chains].map(([zoneId, chain]) => ({
      zoneId,
      chain: chain.filter((l) => index.has(l)),
    }));
    const longest = Math.max(0, ...chains.map((c) => c.chain.length));
    // Position by position: on each zone's topic a version is published after the one it follows.
    for (let k = 0; k < longest; k++) {
      await Promise.all(
        chains
          .filter((c) => k < c.chain.length)
          .map(async ({ zoneId, chain }) => {
            const after = k === 0 ? mainId : stored[index.get(chain[k - 1]!)!]!.id;
            await this.deps.bus.publish(topics.zoneCmd(zoneId), await payload(chain[k]!, after), { qos: 1 });
          }),
      );
    }
  }

  /**
   * One publish per zone reaches all its devices; devices in no chosen zone
   * (possible with "all") get the command on their own topic. Devices in two
   * zones get it twice and drop the duplicate by command id. "All" is every
   * zone of the commune only: another commune's loudspeakers listen on theirs.
   */
  private async sendCommand(
    command: CommandPayload,
    communeId: string,
    zones: string[] | 'all',
    deviceIds: string[],
  ): Promise<void> {
    const { bus } = this.deps;
    const zoneIds =
      zones === 'all'
        ? (
            this.deps.db.prepare('SELECT id FROM zones WHERE commune_id = ? ORDER BY id').all(communeId) as {
              id: string;
            }[]
          ).map((z) => z.id)
        : zones;
    const covered = new Set(this.devicesIn(zoneIds, communeId));
    const payload = encodeAscii(command);
    await Promise.all([
      ...zoneIds.map((z) => bus.publish(topics.zoneCmd(z), payload, { qos: 1 })),
      ...deviceIds.filter((d) => !covered.has(d)).map((d) => bus.publish(topics.deviceCmd(d), payload, { qos: 1 })),
    ]);
  }

  /** One occurrence with its deliveries; null when there is none with that id in `scope`. */
  getOccurrence(scope: Scope, id: string): OccurrenceView | null {
    const { db } = this.deps;
    const o = db
      .prepare(
        `SELECT id, commune_id, title, priority, start_at, duration_ms, sha256, engine, stopped_at, stopped_by
         FROM occurrences WHERE id = ? AND (? IS NULL OR commune_id = ?)`,
      )
      .get(id, ...inScope(scope)) as
      | {
          id: string;
          commune_id: string;
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
      communeId: o.commune_id,
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
