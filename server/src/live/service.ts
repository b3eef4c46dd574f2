/**
 * Live broadcast ("phát trực tiếp"): the officer speaks, the villages hear it
 * a latency budget later, every loudspeaker in step.
 *
 * A session belongs to one commune and reaches its chosen zones; a province
 * officer going live to zones of several communes starts one session per
 * commune (a group: each commune sees, ends and keeps its own) fed by her one
 * voice, with one sequence, one key and one recording. It starts
 * through the ordinary command path (a play-now whose asset is a LiveAsset:
 * loudspeakers that miss it get it when they reconnect, the arbiter applies
 * priorities and preemption as for any broadcast, acks fill the deliveries).
 * Then each 20 ms Opus packet from the officer's browser is stamped with its
 * play-out time on the server's clock and published once per zone, QoS 0, one
 * frame per message with copies of the session's packets just before it
 * (protocol/src/live.ts), so a lost message costs the loudspeakers nothing. Floor control: one session per
 * zone; an emergency session preempts a normal one; a normal one never
 * preempts an emergency. A session ends when the officer stops it, after
 * `silenceEndMs` of silence, at its longest duration, or within 2 s of the
 * officer's connection dropping; the end frame and a stop command make the
 * loudspeakers go quiet. Everything said is recorded (Ogg Opus) into the media
 * store and becomes the occurrence's audio, so it can be replayed.
 */
import crypto from 'node:crypto';
import { Decoder } from '@evan/opus';
import type { Logger } from 'pino';
import {
  encodeLiveFrame,
  LIVE_FRAME_MS,
  LIVE_FRAME_SAMPLES,
  LIVE_SILENCE_END_MS,
  topics,
  type Priority,
} from '@loaxa/protocol';
import type { SqlDb } from '../db/sql';
import { sql } from 'kysely';
import type { MessageBus } from '../broker/bus';
import type { AuditLog } from '../audit/audit-log';
import type { MediaAsset, MediaStore } from '../media/store';
import type { RuleOverride, RulesGuard } from '../rules/guard';
import type { Scope } from '../tenancy/scope';
import { newRefId, type BroadcastService } from '../broadcasts/service';
import { captureLineIn, type LineIn } from './line-in';

export type LiveSource = 'browser' | 'line-in';
export type LiveEndReason = 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart';

export interface LiveGroupMember {
  id: string;
  communeId: string;
  zones: string[];
  devices: number;
  endedAt: string | null;
  endReason: LiveEndReason | null;
  endedBy: string | null;
}

export interface LiveSessionView {
  id: string;
  communeId: string;
  title: string;
  priority: Priority;
  zones: string[];
  /** browser: the officer's console; line-in: the office microphone on the server machine. */
  source: LiveSource;
  latencyMs: number;
  maxDurationMs: number;
  startedBy: string;
  startedAt: string;
  endedAt: string | null;
  endReason: LiveEndReason | null;
  endedBy: string | null;
  occurrenceId: string | null;
  /** Loudspeakers it was sent to. */
  devices: number;
  frames: number;
  /** The recording in the media store once it has ended (null while on air, or when nothing was said). */
  recording: { sha256: string; url: string; durationMs: number } | null;
  /** Set when a province officer went live to several communes at once: one session each, one voice. */
  groupId: string | null;
  /** The group's other sessions the reader may see (their communes'). */
  group: LiveGroupMember[];
  revision: number;
}

export class LiveError extends Error {
  readonly extra?: { current: LiveSessionView };
  constructor(
    readonly statusCode: 400 | 403 | 404 | 409,
    readonly field: string,
    message: string,
    current?: LiveSessionView,
  ) {
    super(message);
    if (current) this.extra = { current };
  }
}

/** What writes the recording (live/ogg-opus.ts). */
export interface LiveRecorder {
  write(packet: Uint8Array, samples?: number): void;
  skip(samples: number): void;
  close(): Promise<{ durationMs: number; bytes: number }>;
}

/** What the service needs of the broadcasts: the occurrence, its play-now, its end and its audio. */
export type LiveAiring = Pick<BroadcastService, 'airLive' | 'endLive' | 'liveRecorded'>;

/** One commune's part of a live start: its zones. */
export interface LivePart {
  communeId: string;
  /** Named in the error when the commune's broadcast rules refuse the start. */
  communeName?: string;
  zones: string[];
}

export interface LiveStart {
  /** One session per commune; several: a province officer speaking to all of them at once (a group). */
  communes: LivePart[];
  priority: 'normal' | 'emergency';
  title?: string | undefined;
  /** The low-latency profile is 200 ms; default the install's (400 ms). */
  latencyMs?: number | undefined;
  startedBy: string;
  overrideRules?: RuleOverride | undefined;
  mayOverride: boolean;
  /** Default browser; line-in needs LOAXA_LIVE_CAPTURE_DEVICE. */
  source?: LiveSource;
}

interface Row {
  id: string;
  commune_id: string;
  key: number;
  title: string;
  priority: Priority;
  zones: string;
  latency_ms: number;
  max_ms: number;
  started_by: string;
  started_at: number;
  ended_at: number | null;
  end_reason: LiveEndReason | null;
  ended_by: string | null;
  occurrence_id: string | null;
  frames: number;
  recording: string | null;
  revision: number;
  source: LiveSource;
  group_id: string | null;
}

/**
 * Copies of the session's previous packets each frame carries (RFC 2198-style redundancy).
 * QoS 0 over 4G loses messages about independently, ~5 %: a frame is then gone only when its
 * message and the next REDUNDANT_COPIES are all lost, p³ ≈ 0.0125 % (the one-frame in-band FEC
 * alone fails at two in a row, p² ≈ 0.25 %), and the in-band FEC of the packet after still
 * rebuilds some of those. The cost: a packet is ~60 B at 24 kbit/s, so a message grows from
 * ~80 B to ~205 B (20 B header, 5 B count and lengths, 3 packets), ~6 kB/s more per loudspeaker.
 */
const REDUNDANT_COPIES = 2;

/** A packet whose decoded level stays under this is silence (≈ −50 dBFS RMS). */
const SILENCE_RMS = 32768 * 10 ** (-50 / 20);

/** One commune's session fed by a voice on air. */
interface Member {
  row: Row;
  zones: string[];
  ending: Promise<void> | null;
}

/**
 * One voice on air (the officer's socket or the office microphone) and the sessions it feeds:
 * one, or one per commune when a province officer went live to several. Every member shares
 * the frames (one key, one sequence, one recording); each ends on its own (an emergency in its
 * commune, its commune's longest session, its commune's leader) or with the voice.
 */
interface OnAir {
  /** The sessions still fed, by id. */
  members: Map<string, Member>;
  /** Every session it fed, for the recording once the last has ended. */
  all: Member[];
  key: number;
  latencyMs: number;
  startedBy: string;
  source: LiveSource;
  seq: number;
  /** The last REDUNDANT_COPIES packets, newest first (seq − 1, seq − 2…): copied into each frame. */
  recent: Uint8Array[];
  /** Server time the frame of seq 0 plays at; moved when the officer's packets arrive late or early. */
  anchor: number;
  lastFrameAt: number;
  lastSoundAt: number;
  recorder: LiveRecorder | null;
  recordingPath: string | null;
  decoder: Decoder;
  lineIn: LineIn | null;
}

export class LiveService {
  /** Each session of a voice on air (until the voice's last session has ended) → the voice. */
  private readonly onAir = new Map<string, OnAir>();
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      bus: MessageBus;
      audit: AuditLog;
      media: MediaStore;
      airing: LiveAiring;
      guard?: RulesGuard;
      /** A second of silence, the occurrence's audio until the recording replaces it. */
      placeholder: () => Promise<MediaAsset>;
      /** Opens the recording at a temporary path of the media store. */
      recorder: (path: string) => Promise<LiveRecorder>;
      logger: Logger;
      latencyMs: number;
      maxDurationMs: number;
      silenceEndMs: number;
      /** The ALSA capture device of the office microphone (LOAXA_LIVE_CAPTURE_DEVICE); unset: no line-in. */
      captureDevice?: string | undefined;
      /**
       * This server instance's name (index.ts): recorded with each session it carries, so that on a
       * shared PostgreSQL database the sessions of an instance that died can be told from the others'.
       */
      instance?: string;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? (() => performance.timeOrigin + performance.now()))();
  }

  /** Ends what a crash left on air, then watches the sessions this instance carries. */
  async start(): Promise<void> {
    await this.endLeftOver();
    this.watchdog = setInterval(() => this.checkEnds(), 250).unref();
  }

  /**
   * Ends the sessions no running instance carries (their loudspeakers ended them by themselves 2 s
   * after the last frame), so their zones are free again. On SQLite there is one instance, which
   * calls this as it starts: every open session is left over. On PostgreSQL a session is left over
   * when the instance that carries it has no connection any more (each instance holds one for the
   * leader election, named `loaxa-leader:<instance>`); the leader sweeps for them. Returns how many.
   */
  async endLeftOver(): Promise<number> {
    const { sqlDb } = this.deps;
    const result = await sqlDb.db
      .updateTable('live_sessions')
      .set((eb) => ({ ended_at: Date.now(), end_reason: 'restart', revision: eb('revision', '+', 1) }))
      .where('ended_at', 'is', null)
      .$if(sqlDb.engine === 'postgres', (q) =>
        q.where(
          sql<boolean>`(instance IS NULL OR 'loaxa-leader:' || instance NOT IN
            (SELECT application_name FROM pg_stat_activity WHERE application_name IS NOT NULL))`,
        ),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    await Promise.all([...this.voices()].map((air) => this.endVoice(air, 'restart', null)));
  }

  /** Sessions on air that `scope` may see. */
  async active(scope: Scope): Promise<LiveSessionView[]> {
    const rows = (await this.deps.sqlDb.db
      .selectFrom('live_sessions')
      .selectAll()
      .where('ended_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .orderBy('started_at')
      .execute()) as Row[];
    return Promise.all(rows.map((r) => this.view(r, scope)));
  }

  async get(scope: Scope, id: string): Promise<LiveSessionView> {
    const row = await this.row(id);
    if (!row || (scope.communeId !== null && row.commune_id !== scope.communeId)) {
      throw new LiveError(404, 'id', `no live session ${id}`);
    }
    return this.view(row, scope);
  }

  private async row(id: string): Promise<Row | undefined> {
    return (await this.deps.sqlDb.db
      .selectFrom('live_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as Row | undefined;
  }

  /** The sessions on air in the commune (the floor to check a start against). */
  private async openIn(communeId: string): Promise<Row[]> {
    return (await this.deps.sqlDb.db
      .selectFrom('live_sessions')
      .selectAll()
      .where('ended_at', 'is', null)
      .where('commune_id', '=', communeId)
      .execute()) as Row[];
  }

  /** Loudspeakers each occurrence was sent to (its deliveries); an occurrence without any is left out. */
  private async devices(occurrenceIds: readonly (string | null)[]): Promise<Map<string, number>> {
    const ids = [...new Set(occurrenceIds.filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const rows: { occurrence_id: string; n: number }[] = await this.deps.sqlDb.db
      .selectFrom('deliveries')
      .select(['occurrence_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('occurrence_id', 'in', ids)
      .groupBy('occurrence_id')
      .execute();
    return new Map(rows.map((r) => [r.occurrence_id, Number(r.n)]));
  }

  private async view(r: Row, scope: Scope): Promise<LiveSessionView> {
    const recording = r.recording ? await this.deps.media.get(r.recording) : null;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const members = r.group_id
      ? ((await this.deps.sqlDb.db
          .selectFrom('live_sessions')
          .selectAll()
          .where('group_id', '=', r.group_id)
          .where('id', '!=', r.id)
          .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
          .orderBy('commune_id')
          .execute()) as Row[])
      : [];
    const devices = await this.devices([r.occurrence_id, ...members.map((m) => m.occurrence_id)]);
    const devicesOf = (occurrenceId: string | null) => (occurrenceId ? (devices.get(occurrenceId) ?? 0) : 0);
    const group = members.map((m) => ({
      id: m.id,
      communeId: m.commune_id,
      zones: JSON.parse(m.zones) as string[],
      devices: devicesOf(m.occurrence_id),
      endedAt: iso(m.ended_at),
      endReason: m.end_reason,
      endedBy: m.ended_by,
    }));
    return {
      id: r.id,
      communeId: r.commune_id,
      title: r.title,
      priority: r.priority,
      zones: JSON.parse(r.zones) as string[],
      source: r.source,
      latencyMs: r.latency_ms,
      maxDurationMs: r.max_ms,
      startedBy: r.started_by,
      startedAt: new Date(r.started_at).toISOString(),
      endedAt: iso(r.ended_at),
      endReason: r.end_reason,
      endedBy: r.ended_by,
      occurrenceId: r.occurrence_id,
      devices: devicesOf(r.occurrence_id),
      frames: r.ended_at === null ? (this.onAir.get(r.id)?.seq ?? r.frames) : r.frames,
      recording: recording
        ? { sha256: recording.sha256, url: `/media/${recording.sha256}.ogg`, durationMs: recording.durationMs }
        : null,
      groupId: r.group_id,
      group,
      revision: r.revision,
    };
  }

  /**
   * Goes live: checks the floor in every commune (one session per zone; an emergency
   * preempts a normal one) and, for a normal session, each commune's broadcast rules —
   * all of them before anything starts; then sends each commune's play-now. The
   * officer's audio comes next, through `connect`. Answers the first commune's session;
   * the others are its `group`.
   */
  async begin(input: LiveStart, scope: Scope): Promise<LiveSessionView> {
    const { db } = this.deps.sqlDb;
    const source = input.source ?? 'browser';
    if (source === 'line-in' && !this.deps.captureDevice) {
      throw new LiveError(
        400,
        'source',
        'no office microphone is set up on this server (LOAXA_LIVE_CAPTURE_DEVICE, e.g. plughw:1,0)',
      );
    }
    if (input.communes.length === 0) throw new LiveError(400, 'zones', 'zones: choose at least one zone');
    const parts = input.communes.map((part) => ({ ...part, zones: [...new Set(part.zones)], maxMs: 0 }));
    const clashing: Row[] = [];
    for (const part of parts) {
      for (const other of await this.openIn(part.communeId)) {
        if (!(JSON.parse(other.zones) as string[]).some((z) => part.zones.includes(z))) continue;
        if (input.priority !== 'emergency' || other.priority === 'emergency') {
          throw new LiveError(
            409,
            'zones',
            `another live session is on air in these zones (${other.title}, by ${other.started_by}); ` +
              (other.priority === 'emergency' ? 'an emergency is never interrupted' : 'only an emergency may cut in'),
            await this.view(other, scope),
          );
        }
        clashing.push(other);
      }
      part.maxMs = this.deps.maxDurationMs;
      if (input.priority !== 'emergency' && this.deps.guard) {
        const rules = this.deps.guard.rulesOf(part.communeId);
        if (rules.maxSessionMinutes !== null) part.maxMs = Math.min(part.maxMs, rules.maxSessionMinutes * 60_000);
        // Quiet hours and the day's count: a live session is a play that starts now.
        try {
          await this.deps.guard.check(
            part.communeId,
            [{ startAt: Date.now(), durationMs: LIVE_FRAME_MS }],
            input.priority,
            {
              override: input.overrideRules,
              mayOverride: input.mayOverride,
            },
          );
        } catch (err) {
          if (parts.length > 1 && err instanceof Error)
            err.message = `${part.communeName ?? part.communeId}: ${err.message}`;
          throw err;
        }
      }
    }
    for (const other of clashing) await this.end(other.id, 'preempted', input.startedBy);

    const groupId = parts.length > 1 ? newRefId('livegroup') : null;
    const key = crypto.randomBytes(4).readUInt32BE(0);
    const latencyMs = input.latencyMs ?? this.deps.latencyMs;
    const title =
      input.title?.trim() || (input.priority === 'emergency' ? 'Phát trực tiếp khẩn cấp' : 'Phát trực tiếp');
    const startedAt = Date.now();
    const now = this.now();
    const recordingPath = this.deps.media.tempPath('ogg');
    const air: OnAir = {
      members: new Map(),
      all: [],
      key,
      latencyMs,
      startedBy: input.startedBy,
      source,
      seq: 0,
      recent: [],
      anchor: 0,
      lastFrameAt: now,
      lastSoundAt: now,
      recorder: null,
      recordingPath,
      decoder: new Decoder({ channels: 1, sample_rate: 48_000 }),
      lineIn: null,
    };
    const placeholder = await this.deps.placeholder();
    for (const part of parts) {
      const id = newRefId('live');
      await db
        .insertInto('live_sessions')
        .values({
          id,
          commune_id: part.communeId,
          key,
          title,
          priority: input.priority,
          zones: JSON.stringify(part.zones),
          latency_ms: latencyMs,
          max_ms: part.maxMs,
          started_by: input.startedBy,
          started_at: startedAt,
          instance: this.deps.instance ?? null,
          source,
          group_id: groupId,
        })
        .execute();
      const { occurrenceId, deviceIds } = await this.deps.airing.airLive({
        communeId: part.communeId,
        liveSessionId: id,
        title,
        priority: input.priority,
        zones: part.zones,
        createdBy: input.startedBy,
        placeholder,
        asset: (zoneId) => ({
          kind: 'live',
          sessionId: id,
          key,
          topic: topics.zoneLive(zoneId),
          durationMs: part.maxMs,
          latencyMs,
        }),
      });
      await db.updateTable('live_sessions').set({ occurrence_id: occurrenceId }).where('id', '=', id).execute();
      const member: Member = { row: (await this.row(id))!, zones: part.zones, ending: null };
      air.members.set(id, member);
      air.all.push(member);
      this.onAir.set(id, air);
      await this.deps.audit.record({
        actor: input.startedBy,
        action: 'live.start',
        target: id,
        detail: {
          priority: input.priority,
          zones: part.zones,
          latencyMs,
          devices: deviceIds.length,
          occurrenceId,
          groupId,
        },
        communeId: part.communeId,
      });
      this.deps.logger.info(
        { liveSessionId: id, groupId, zones: part.zones, devices: deviceIds.length },
        'live session on air',
      );
    }
    air.recorder = await this.deps.recorder(recordingPath).catch((err: unknown) => {
      this.deps.logger.error(
        { err, groupId, sessions: [...air.members.keys()] },
        'live recording could not start; going on without it',
      );
      return null;
    });
    if (source === 'line-in') {
      air.lineIn = captureLineIn(
        this.deps.captureDevice!,
        (packet) => this.voiceFrame(air, packet),
        (error) => {
          this.deps.logger.error(
            { groupId, sessions: [...air.members.keys()], error },
            'office microphone capture ended',
          );
          this.background(this.endVoice(air, 'dropped', null));
        },
      );
    }
    return this.view((await this.row(air.all[0]!.row.id))!, scope);
  }

  /** The voices on air, each once. */
  private voices(): Set<OnAir> {
    return new Set(this.onAir.values());
  }

  /** The officer's audio connection opened; only the one who started the session may send. */
  connect(id: string, username: string): void {
    const air = this.onAir.get(id);
    if (!air?.members.has(id)) throw new LiveError(404, 'id', `no live session ${id} on air`);
    if (air.source !== 'browser') throw new LiveError(409, 'id', 'this session speaks from the office microphone');
    if (air.startedBy !== username) throw new LiveError(403, 'id', 'only the officer who went live speaks');
    air.lastFrameAt = this.now();
  }

  /** The officer's connection closed: every session it fed ends (the loudspeakers go quiet within 2 s). */
  disconnect(id: string): void {
    const air = this.onAir.get(id);
    if (air) this.background(this.endVoice(air, 'dropped', null));
  }

  /** One 20 ms Opus packet from the officer's connection to session `id`. */
  frame(id: string, packet: Uint8Array): void {
    const air = this.onAir.get(id);
    if (air) this.voiceFrame(air, packet);
  }

  /** One 20 ms Opus packet: stamped, fanned out to every zone of every session fed, recorded. */
  private voiceFrame(air: OnAir, packet: Uint8Array): void {
    if (air.members.size === 0) return;
    const now = this.now();
    if (air.seq === 0) air.anchor = now + air.latencyMs;
    let playAt = air.anchor + air.seq * LIVE_FRAME_MS;
    // The officer's sound card and our clock drift apart, and the uplink stalls: keep the frame
    // playable (at least a quarter of the budget ahead) and the delay near the budget.
    const lead = playAt - now;
    if (lead < air.latencyMs / 4 || lead > air.latencyMs * 1.5) {
      air.anchor += now + air.latencyMs - playAt;
      playAt = now + air.latencyMs;
    }
    const wire = encodeLiveFrame({
      key: air.key,
      seq: air.seq,
      playAt,
      end: false,
      opus: packet,
      redundant: air.recent,
    });
    // One encoding for every zone: the copies are the same for all of them. Kept as a copy of
    // its own, as the caller's buffer is not ours to hold on to. Copies are of consecutive frames
    // and never empty: an empty packet (nothing to copy) leaves the next frame with none.
    air.recent = packet.byteLength > 0 ? [Uint8Array.from(packet), ...air.recent].slice(0, REDUNDANT_COPIES) : [];
    for (const member of air.members.values()) {
      for (const zone of member.zones) {
        void this.deps.bus.publish(topics.zoneLive(zone), wire, { qos: 0 }).catch(() => {});
      }
    }
    air.seq++;
    air.lastFrameAt = now;
    air.recorder?.write(packet, LIVE_FRAME_SAMPLES);
    if (this.loud(air, packet)) air.lastSoundAt = now;
  }

  /** Whether the packet holds sound (not silence): decoded, its RMS level. */
  private loud(air: OnAir, packet: Uint8Array): boolean {
    try {
      const pcm = air.decoder.decode(packet);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1);
      let sum = 0;
      for (const s of samples) sum += s * s;
      return Math.sqrt(sum / Math.max(1, samples.length)) > SILENCE_RMS;
    } catch {
      return false;
    }
  }

  /**
   * An officer (or a leader) ends the session; compare-and-set on `revision`. With `group`,
   * every session of its group that `scope` may see ends with it (the province officer's
   * "Kết thúc"; a commune's leader ends only their commune's).
   */
  async stopBy(
    scope: Scope,
    id: string,
    revision: number,
    by: string,
    options: { group?: boolean } = {},
  ): Promise<LiveSessionView> {
    const current = await this.get(scope, id);
    if (current.endedAt !== null && !(options.group && current.group.some((m) => m.endedAt === null))) {
      throw new LiveError(409, 'id', 'this live session has already ended', current);
    }
    if (current.revision !== revision) throw new LiveError(409, 'revision', 'someone changed it first', current);
    const ids = [id, ...(options.group ? current.group.filter((m) => m.endedAt === null).map((m) => m.id) : [])];
    await Promise.all(ids.map((one) => this.end(one, 'stopped', by)));
    return this.get(scope, id);
  }

  private checkEnds(): void {
    const now = this.now();
    for (const air of this.voices()) {
      if (air.members.size === 0) continue;
      if (now - air.lastFrameAt >= LIVE_SILENCE_END_MS) this.background(this.endVoice(air, 'dropped', null));
      else if (now - air.lastSoundAt >= this.deps.silenceEndMs) this.background(this.endVoice(air, 'silence', null));
      else {
        for (const [id, member] of air.members) {
          if (now - member.row.started_at >= member.row.max_ms) this.background(this.end(id, 'max-duration', null));
        }
      }
    }
  }

  /** An end nobody waits for (the watchdog's, a dropped connection's): a failure is logged, not thrown. */
  private background(ending: Promise<void>): void {
    ending.catch((err: unknown) => this.deps.logger.error({ err }, 'live session could not end'));
  }

  /** Ends every session the voice still feeds. */
  private async endVoice(air: OnAir, reason: LiveEndReason, by: string | null): Promise<void> {
    await Promise.all([...air.members.keys()].map((id) => this.end(id, reason, by)));
  }

  /** Ends a session once: the end frame, the stop command; with the voice's last, the recording stored. */
  private end(id: string, reason: LiveEndReason, by: string | null): Promise<void> {
    const air = this.onAir.get(id);
    const member = air?.members.get(id);
    if (!air || !member) return Promise.resolve();
    // The voice stays reachable by every id of its group (the officer's socket names one) until all have ended.
    member.ending ??= this.finish(air, member, reason, by).finally(() => {
      if (air.members.size === 0) for (const m of air.all) this.onAir.delete(m.row.id);
    });
    return member.ending;
  }

  private async finish(air: OnAir, member: Member, reason: LiveEndReason, by: string | null): Promise<void> {
    const { logger } = this.deps;
    const { row, zones } = member;
    // No frame goes to its zones after this one.
    air.members.delete(row.id);
    const frames = air.seq;
    const last = encodeLiveFrame({
      key: air.key,
      seq: frames,
      playAt: air.anchor + frames * LIVE_FRAME_MS,
      end: true,
      opus: new Uint8Array(),
      // The last packets get their copies too, so they are as safe as any before them.
      redundant: air.recent,
    });
    const closing = air.members.size === 0 ? this.closeRecording(air) : null;
    // QoS 0 like every frame: sent three times, so one lost copy does not leave the loudspeakers
    // waiting 2 s for frames that will not come (a duplicate is dropped by its sequence number).
    for (let copy = 0; copy < 3; copy++) {
      await Promise.all(zones.map((z) => this.deps.bus.publish(topics.zoneLive(z), last, { qos: 0 }).catch(() => {})));
    }
    const recording = closing ? await closing : null;
    await this.deps.sqlDb.db
      .updateTable('live_sessions')
      .set((eb) => ({
        ended_at: Date.now(),
        end_reason: reason,
        ended_by: by,
        frames,
        revision: eb('revision', '+', 1),
      }))
      .where('id', '=', row.id)
      .execute();
    // The stop follows once the budget's worth of audio the loudspeakers hold has played out.
    if (row.occurrence_id) {
      await this.deps.airing.endLive(row.occurrence_id, zones, row.started_at, row.latency_ms + 1000);
    }
    await this.deps.audit.record({
      actor: by ?? 'system',
      action: 'live.end',
      target: row.id,
      detail: { reason, frames, recording: recording?.sha256 ?? null, groupId: row.group_id },
      communeId: row.commune_id,
    });
    logger.info({ liveSessionId: row.id, reason, frames }, 'live session ended');
    if (closing) await this.storeRecording(air, member, recording);
  }

  /** The voice has nothing left to feed: the microphone released, the recording closed and adopted. */
  private async closeRecording(air: OnAir): Promise<MediaAsset | null> {
    air.lineIn?.stop();
    if (!air.recorder) return null;
    try {
      const { durationMs } = await air.recorder.close();
      if (air.seq === 0) return null;
      return await this.deps.media.adopt(air.recordingPath!, 'ogg', Math.round(durationMs));
    } catch (err) {
      this.deps.logger.error({ err, sessions: air.all.map((m) => m.row.id) }, 'live recording could not be stored');
      return null;
    }
  }

  /**
   * Everything said becomes the audio of every session the voice fed — those that ended
   * earlier in their commune too — once they have all recorded their ends.
   */
  private async storeRecording(air: OnAir, lastOne: Member, recording: MediaAsset | null): Promise<void> {
    await Promise.allSettled(air.all.filter((m) => m !== lastOne).map((m) => m.ending));
    if (!recording) return;
    const ids = air.all.map((m) => m.row.id);
    await this.deps.sqlDb.db
      .updateTable('live_sessions')
      .set((eb) => ({ recording: recording.sha256, revision: eb('revision', '+', 1) }))
      .where('id', 'in', ids)
      .execute();
    await this.deps.airing.liveRecorded(
      air.all.flatMap((m) => (m.row.occurrence_id ? [m.row.occurrence_id] : [])),
      recording,
    );
  }
}
