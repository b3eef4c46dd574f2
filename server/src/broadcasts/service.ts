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
  encodeFramed,
  isFile,
  MAX_INLINE_BYTES,
  topics,
  type CommandPayload,
  type LiveAsset,
  type PlayNowCommand,
  type DeliveryStage,
  type Priority,
} from '@loaxa/protocol';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry } from '../devices/registry';
import type { NoticeRenderer } from '../tts/render';
import { assetFor, type Planner } from './planner';
import type { ServerMetrics } from '../metrics/metrics';
import type { MediaAsset, MediaStore } from '../media/store';
import type { Mp3Renditions } from '../media/renditions';
import { communeScope, type Scope } from '../tenancy/scope';
import type { BulletinAiringInput } from '../bulletins/bulletins';
import { DEFAULT_LANGUAGE, publicItem, type PublicItem } from '../public/items';
import { languageName } from '../public/languages';
import { byBytes } from './recent';
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

/**
 * A play-now as it goes on the wire: framed (its inline audio as raw bytes after the JSON) to
 * agents that read it, plain JSON to the others; the same text when nothing rides inline.
 */
class PlayNowWire {
  readonly json: string;
  private framedForm: Buffer | undefined;
  constructor(private readonly command: PlayNowCommand) {
    this.json = encodeAscii(command);
  }

  /** True when some of its audio rides inside it: the form then depends on who reads it. */
  get carriesAudio(): boolean {
    return this.command.assets.some((a) => isFile(a) && a.data !== undefined);
  }

  /** The form for readers that do (or do not) read framed commands. */
  for(framedReaders: boolean): string | Buffer {
    if (!framedReaders || !this.carriesAudio) return this.json;
    this.framedForm ??= encodeFramed(this.command);
    return this.framedForm;
  }
}

function titleOf(text: string): string {
  const line = text.trim().split(/\n/)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** Rows per multi-row INSERT (2 parameters each): well under either engine's limit on parameters. */
const DELIVERIES_PER_INSERT = 1000;
/** Ids per `IN (…)` list. */
const IDS_PER_QUERY = 500;

/** One `deliveries` row (stage pending) per device, a few multi-row INSERTs whatever the fleet's size. */
async function addDeliveries(db: Kysely<Tables>, occurrenceId: string, deviceIds: readonly string[]): Promise<void> {
  for (let i = 0; i < deviceIds.length; i += DELIVERIES_PER_INSERT) {
    await db
      .insertInto('deliveries')
      .values(deviceIds.slice(i, i + DELIVERIES_PER_INSERT).map((d) => ({ occurrence_id: occurrenceId, device_id: d })))
      .execute();
  }
}

/** `ids` in lists short enough for one `IN (…)` each (none for no ids). */
function inLists<T>(ids: readonly T[]): T[][] {
  const lists: T[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) lists.push(ids.slice(i, i + IDS_PER_QUERY));
  return lists;
}

export class BroadcastService {
  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
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
      const unknown = await this.unknownZones(request.zones, communeId);
      if (unknown.length) throw new BroadcastInputError('zones', `zones: unknown zone(s) ${unknown.join(', ')}`);
    }
    const deviceIds = await this.devicesIn(request.zones, communeId);
    if (deviceIds.length === 0) {
      throw new BroadcastInputError('zones', 'zones: there are no loudspeakers in the chosen zones');
    }

    const title = titleOf(text);
    const versionInputs = await this.checkVersions(request.versions ?? [], title);
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
      (await this.deps.guard?.check(
        communeId,
        [{ startAt: request.at?.getTime() ?? now, durationMs: sessionMs }],
        priority,
        {
          override: request.overrideRules,
          mayOverride: request.mayOverride ?? false,
        },
      )) ?? [];
    const isPublic = request.public !== false;
    const versions = versionInputs.length ? await this.planVersionsIn(versionInputs, request.zones, communeId) : null;
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

  /** Which loudspeakers of the chosen zones play which version (versions.ts), each zone's members asked once. */
  private async planVersionsIn(
    inputs: Parameters<typeof planVersions>[0],
    zones: string[] | 'all',
    communeId: string,
  ): Promise<VersionPlan> {
    const zoneLanguages = await this.deps.registry.zoneLanguages(await this.zonesOf(zones, communeId));
    const members = new Map<string, string[]>();
    for (const zoneId of zoneLanguages.keys()) members.set(zoneId, await this.devicesIn([zoneId], communeId));
    return planVersions(inputs, zoneLanguages, (z) => members.get(z) ?? []);
  }

  /** The versions' files must be stored already (uploaded or recorded), one per language, not Vietnamese. */
  private async checkVersions(versions: readonly NoticeVersionInput[], title: string) {
    const seen = new Set<string>();
    const checked = [];
    for (const [i, v] of versions.entries()) {
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
      const asset = await this.deps.media.get(v.audio);
      if (!asset) throw new BroadcastInputError(`${field}.audio`, `${field}.audio: no uploaded audio ${v.audio}`);
      checked.push({ ...v, asset, title: v.title?.trim() || `${title} (${languageName(v.language)})` });
    }
    return checked;
  }

  /** The zones a broadcast reaches: those chosen, or every zone of the commune. */
  private async zonesOf(zones: string[] | 'all', communeId: string): Promise<string[]> {
    if (zones !== 'all') return zones;
    const rows: { id: string }[] = await this.deps.sqlDb.db
      .selectFrom('zones')
      .select('id')
      .where('commune_id', '=', communeId)
      .orderBy('id')
      .execute();
    return rows.map((z) => z.id);
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
      communeId: await this.communeOfDevices(input.deviceIds),
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
    // One query per few hundred devices, never one per device: this is an emergency's path.
    const active: string[] = [];
    for (const ids of inLists(input.deviceIds)) {
      const rows: { id: string }[] = await this.deps.sqlDb.db
        .selectFrom('devices')
        .select('id')
        .where('revoked_at', 'is', null)
        .where('commune_id', '=', input.communeId)
        .where('id', 'in', ids)
        .execute();
      active.push(...rows.map((d) => d.id));
    }
    if (active.length === 0) return null;
    active.sort(); // by id, as one query's ORDER BY id gave them (ids are ASCII)
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
    const { sqlDb, bus } = this.deps;
    const deviceIds = await this.devicesIn(input.zones, input.communeId);
    const occurrenceId = newRefId('occ');
    const header = commandHeader();
    await sqlDb.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('occurrences')
        .values({
          id: occurrenceId,
          commune_id: input.communeId,
          title: input.title,
          text: null,
          priority: input.priority,
          start_at: Date.now(),
          duration_ms: input.placeholder.durationMs,
          sha256: input.placeholder.sha256,
          command_id: header.commandId,
          created_by: input.createdBy,
          created_at: Date.now(),
          live_session_id: input.liveSessionId,
        })
        .execute();
      await addDeliveries(tx, occurrenceId, deviceIds);
    });
    // After the commit: a loudspeaker's ack finds its delivery.
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
  async endLive(occurrenceId: string, zones: string[], startedAt: number, stopAfterMs: number): Promise<void> {
    const stop: CommandPayload = { ...commandHeader(), action: 'stop', occurrenceId };
    setTimeout(() => {
      for (const z of zones)
        void this.deps.bus.publish(topics.zoneCmd(z), encodeAscii(stop), { qos: 1 }).catch(() => {});
    }, stopAfterMs).unref();
    await this.deps.sqlDb.db
      .updateTable('occurrences')
      .set({ duration_ms: Math.max(1000, Date.now() - startedAt) })
      .where('id', '=', occurrenceId)
      .execute();
  }

  /** The live occurrences' audio is the session's recording now, to replay or schedule later. */
  async liveRecorded(occurrenceIds: string[], recording: MediaAsset): Promise<void> {
    if (occurrenceIds.length === 0) return;
    await this.deps.sqlDb.db.transaction().execute(async (tx) => {
      for (const ids of inLists(occurrenceIds)) {
        await tx
          .updateTable('occurrences')
          .set({ duration_ms: recording.durationMs, sha256: recording.sha256 })
          .where('id', 'in', ids)
          .execute();
      }
    });
  }

  /** Zone ids in `zoneIds` that are not zones of the commune (another commune's count as unknown). */
  private async unknownZones(zoneIds: string[], communeId: string): Promise<string[]> {
    return await this.deps.registry.unknownZones(zoneIds, communeScope(communeId));
  }

  /** The commune's active loudspeakers in any of its zones `zones`, or all of them. */
  private async devicesIn(zones: string[] | 'all', communeId: string): Promise<string[]> {
    return await this.deps.registry.devicesIn(zones, communeScope(communeId));
  }

  /** The one commune all of `deviceIds` belong to (an occurrence lives in one commune). */
  private async communeOfDevices(deviceIds: string[]): Promise<string> {
    const found = new Set<string>();
    for (const ids of inLists(deviceIds)) {
      const rows: { commune_id: string }[] = await this.deps.sqlDb.db
        .selectFrom('devices')
        .select('commune_id')
        .distinct()
        .where('id', 'in', ids)
        .execute();
      for (const r of rows) found.add(r.commune_id);
    }
    if (found.size !== 1) {
      throw new Error(`the devices ${deviceIds.join(', ')} are in ${found.size} communes, not one`);
    }
    return [...found][0]!;
  }

  /**
   * One commune's play of a province bulletin (bulletins/bulletins.ts): its
   * loudspeakers in `zones` ('all': the whole commune), now or at `at`. A
   * play-now command stays playable until `expiresAt`. Null when the commune
   * has no active loudspeaker there.
   */
  async airBulletin(input: BulletinAiringInput): Promise<{ occurrenceId: string; deviceIds: string[] } | null> {
    if (input.zones !== 'all') {
      const unknown = await this.unknownZones(input.zones, input.communeId);
      if (unknown.length) throw new BroadcastInputError('zones', `zones: unknown zone(s) ${unknown.join(', ')}`);
    }
    const deviceIds = await this.devicesIn(input.zones, input.communeId);
    if (deviceIds.length === 0) return null;
    const { public: isPublic, checkRules, ...rest } = input;
    if (checkRules) {
      const play = { startAt: input.at?.getTime() ?? Date.now(), durationMs: input.audio.durationMs };
      await this.deps.guard?.check(input.communeId, [play], input.priority, { mayOverride: false });
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
    const o: { title: string; priority: Priority; sha256: string; command_id: string } | undefined =
      await this.deps.sqlDb.db
        .selectFrom('occurrences')
        .select(['title', 'priority', 'sha256', 'command_id'])
        .where('id', '=', occurrenceId)
        .where('command_id', 'is not', null)
        .executeTakeFirst();
    const audio = o ? await this.deps.media.get(o.sha256) : null;
    if (!o || !audio) return;
    const command = await this.playNowCommand(o.command_id, occurrenceId, o.priority, o.title, audio, [deviceId]);
    const wire = new PlayNowWire({ ...command, expiresAt });
    const framed = wire.carriesAudio && (await this.deps.registry.devicesReadingFramedCommands([deviceId])).size > 0;
    await this.deps.bus.publish(topics.deviceCmd(deviceId), wire.for(framed), { qos: 1 });
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
    const { sqlDb, planner } = this.deps;
    const { audio, priority, deviceIds } = input;
    const playNow = !input.at;
    const versions = input.versions?.versions ?? [];
    /** Stores one occurrence with a delivery per device; a planned version starts `after` the one before ends. */
    const store = async (
      tx: Kysely<Tables>,
      o: {
        title: string;
        text: string | null;
        audio: MediaAsset & { engine?: string | null };
        startAt: number;
        deviceIds: readonly string[];
        publicItems: PublicItem[] | null | undefined;
      },
    ) => {
      const id = newRefId('occ');
      const commandId = playNow ? newRefId('cmd') : null;
      await tx
        .insertInto('occurrences')
        .values({
          id,
          commune_id: input.communeId,
          title: o.title,
          text: o.text,
          priority,
          start_at: o.startAt,
          duration_ms: o.audio.durationMs,
          sha256: o.audio.sha256,
          engine: o.audio.engine ?? null,
          command_id: commandId,
          created_by: input.createdBy ?? null,
          created_at: Date.now(),
          bulletin_id: input.bulletinId ?? null,
          public_items: o.publicItems?.length ? JSON.stringify(o.publicItems) : null,
          alert_id: input.alertId ?? null,
        })
        .execute();
      await addDeliveries(tx, id, o.deviceIds);
      return { id, commandId, startAt: o.startAt, durationMs: o.audio.durationMs };
    };

    // Only inserts inside: the commands and plans go out after the commit.
    const { main, rest } = await sqlDb.db.transaction().execute(async (tx) => {
      const main = await store(tx, {
        ...input,
        publicItems: input.publicItems,
        startAt: playNow ? Date.now() : input.at!.getTime(),
      });
      let previous = main;
      const rest: (typeof main)[] = [];
      for (const v of versions) {
        const startAt = playNow ? Date.now() : previous.startAt + previous.durationMs + VERSION_GAP_MS;
        previous = await store(tx, {
          title: v.title,
          text: v.text,
          audio: v.audio,
          startAt,
          deviceIds: v.deviceIds,
          publicItems: input.versionsPublic ? [publicItem(v, v.audio, v.language)] : null,
        });
        rest.push(previous);
      }
      return { main, rest };
    });

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
    const payloads = new Map<string, Promise<PlayNowWire>>();
    const payload = (language: string, after: string): Promise<PlayNowWire> => {
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
          return new PlayNowWire({ ...command, after });
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
    const plainZones = await this.deps.registry.zonesWithoutFramedCommands(chains.map((c) => c.zoneId));
    // Position by position: on each zone's topic a version is published after the one it follows.
    for (let k = 0; k < longest; k++) {
      await Promise.all(
        chains
          .filter((c) => k < c.chain.length)
          .map(async ({ zoneId, chain }) => {
            const after = k === 0 ? mainId : stored[index.get(chain[k - 1]!)!]!.id;
            const wire = await payload(chain[k]!, after);
            await this.deps.bus.publish(topics.zoneCmd(zoneId), wire.for(!plainZones.has(zoneId)), { qos: 1 });
          }),
      );
    }
  }

  /**
   * One publish per zone reaches all its devices; devices in no chosen zone
   * (possible with "all") get the command on their own topic. Devices in two
   * zones get it twice and drop the duplicate by command id. "All" is every
   * zone of the commune only: another commune's loudspeakers listen on theirs. Inline audio
   * goes as raw bytes on the topics whose every reader says it reads framed commands.
   */
  private async sendCommand(
    command: PlayNowCommand,
    communeId: string,
    zones: string[] | 'all',
    deviceIds: string[],
  ): Promise<void> {
    const { bus, registry } = this.deps;
    const zoneIds = await this.zonesOf(zones, communeId);
    const covered = new Set(await this.devicesIn(zoneIds, communeId));
    const direct = deviceIds.filter((d) => !covered.has(d));
    const wire = new PlayNowWire(command);
    const plainZones = wire.carriesAudio ? await registry.zonesWithoutFramedCommands(zoneIds) : new Set<string>();
    const framedDevices = wire.carriesAudio ? await registry.devicesReadingFramedCommands(direct) : new Set<string>();
    await Promise.all([
      ...zoneIds.map((z) => bus.publish(topics.zoneCmd(z), wire.for(!plainZones.has(z)), { qos: 1 })),
      ...direct.map((d) => bus.publish(topics.deviceCmd(d), wire.for(framedDevices.has(d)), { qos: 1 })),
    ]);
  }

  /** One occurrence with its deliveries; null when there is none with that id in `scope`. */
  async getOccurrence(scope: Scope, id: string): Promise<OccurrenceView | null> {
    const { db } = this.deps.sqlDb;
    const o:
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
      | undefined = await db
      .selectFrom('occurrences')
      .select([
        'id',
        'commune_id',
        'title',
        'priority',
        'start_at',
        'duration_ms',
        'sha256',
        'engine',
        'stopped_at',
        'stopped_by',
      ])
      .where('id', '=', id)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst();
    if (!o) return null;
    const deliveries: { device_id: string; stage: DeliveryStage; at: number | null; detail: string | null }[] = await db
      .selectFrom('deliveries')
      .select(['device_id', 'stage', 'at', 'detail'])
      .where('occurrence_id', '=', id)
      .orderBy(byBytes(this.deps.sqlDb.engine, 'device_id'))
      .execute();
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
