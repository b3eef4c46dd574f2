/**
 * Live broadcast ("phát trực tiếp"): the officer speaks, the villages hear it
 * a latency budget later, every loudspeaker in step.
 *
 * A session belongs to one commune and reaches its chosen zones. It starts
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
import type { Db } from '../db/database';
import type { MessageBus } from '../broker/bus';
import type { AuditLog } from '../audit/audit-log';
import type { MediaAsset, MediaStore } from '../media/store';
import type { RuleOverride, RulesGuard } from '../rules/guard';
import { inScope, type Scope } from '../tenancy/scope';
import { newRefId, type BroadcastService } from '../broadcasts/service';
import { captureLineIn, type LineIn } from './line-in';

export type LiveSource = 'browser' | 'line-in';
export type LiveEndReason = 'stopped' | 'silence' | 'max-duration' | 'dropped' | 'preempted' | 'restart';

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

/** What the service needs of the broadcasts: the occurrence, its play-now and its end. */
export type LiveAiring = Pick<BroadcastService, 'airLive' | 'endLive'>;

export interface LiveStart {
  communeId: string;
  zones: string[];
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

/** What the server keeps of a session on air. */
interface OnAir {
  row: Row;
  /** Its zones, parsed once: each 20 ms frame is published to every one. */
  zones: string[];
  seq: number;
  /** The session's last REDUNDANT_COPIES packets, newest first (seq − 1, seq − 2…): copied into each frame. */
  recent: Uint8Array[];
  /** Server time the frame of seq 0 plays at; moved when the officer's packets arrive late or early. */
  anchor: number;
  lastFrameAt: number;
  lastSoundAt: number;
  recorder: LiveRecorder | null;
  recordingPath: string | null;
  decoder: Decoder;
  connected: boolean;
  ending: Promise<void> | null;
  lineIn: LineIn | null;
}

export class LiveService {
  private readonly onAir = new Map<string, OnAir>();
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      db: Db;
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
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? (() => performance.timeOrigin + performance.now()))();
  }

  /** Ends what a crash left on air (the loudspeakers ended it by themselves 2 s after the last frame). */
  start(): void {
    const open = this.deps.db.prepare('SELECT id FROM live_sessions WHERE ended_at IS NULL').all() as { id: string }[];
    for (const { id } of open) {
      this.deps.db
        .prepare(`UPDATE live_sessions SET ended_at = ?, end_reason = 'restart', revision = revision + 1 WHERE id = ?`)
        .run(Date.now(), id);
    }
    this.watchdog = setInterval(() => this.checkEnds(), 250).unref();
  }

  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    await Promise.all([...this.onAir.keys()].map((id) => this.end(id, 'restart', null)));
  }

  /** Sessions on air that `scope` may see. */
  active(scope: Scope): LiveSessionView[] {
    return (
      this.deps.db
        .prepare(
          `SELECT * FROM live_sessions WHERE ended_at IS NULL AND (? IS NULL OR commune_id = ?) ORDER BY started_at`,
        )
        .all(...inScope(scope)) as Row[]
    ).map((r) => this.view(r));
  }

  get(scope: Scope, id: string): LiveSessionView {
    const row = this.row(id);
    if (!row || (scope.communeId !== null && row.commune_id !== scope.communeId)) {
      throw new LiveError(404, 'id', `no live session ${id}`);
    }
    return this.view(row);
  }

  private row(id: string): Row | undefined {
    return this.deps.db.prepare('SELECT * FROM live_sessions WHERE id = ?').get(id) as Row | undefined;
  }

  private view(r: Row): LiveSessionView {
    const devices = r.occurrence_id
      ? (
          this.deps.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ?').get(r.occurrence_id) as {
            n: number;
          }
        ).n
      : 0;
    const recording = r.recording ? this.deps.media.get(r.recording) : null;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
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
      devices,
      frames: this.onAir.get(r.id)?.seq ?? r.frames,
      recording: recording
        ? { sha256: recording.sha256, url: `/media/${recording.sha256}.ogg`, durationMs: recording.durationMs }
        : null,
      revision: r.revision,
    };
  }

  /**
   * Goes live: checks the floor (one session per zone; an emergency preempts a normal
   * one) and, for a normal session, the commune's broadcast rules; then sends the
   * play-now. The officer's audio comes next, through `connect`.
   */
  async begin(input: LiveStart): Promise<LiveSessionView> {
    const { db } = this.deps;
    const source = input.source ?? 'browser';
    if (source === 'line-in' && !this.deps.captureDevice) {
      throw new LiveError(
        400,
        'source',
        'no office microphone is set up on this server (LOAXA_LIVE_CAPTURE_DEVICE, e.g. plughw:1,0)',
      );
    }
    const zones = [...new Set(input.zones)];
    const open = db
      .prepare('SELECT * FROM live_sessions WHERE ended_at IS NULL AND commune_id = ?')
      .all(input.communeId) as Row[];
    const clashing = open.filter((r) => (JSON.parse(r.zones) as string[]).some((z) => zones.includes(z)));
    for (const other of clashing) {
      if (input.priority !== 'emergency' || other.priority === 'emergency') {
        throw new LiveError(
          409,
          'zones',
          `another live session is on air in these zones (${other.title}, by ${other.started_by}); ` +
            (other.priority === 'emergency' ? 'an emergency is never interrupted' : 'only an emergency may cut in'),
          this.view(other),
        );
      }
    }
    let maxMs = this.deps.maxDurationMs;
    if (input.priority !== 'emergency' && this.deps.guard) {
      const rules = this.deps.guard.rulesOf(input.communeId);
      if (rules.maxSessionMinutes !== null) maxMs = Math.min(maxMs, rules.maxSessionMinutes * 60_000);
      // Quiet hours and the day's count: a live session is a play that starts now.
      this.deps.guard.check(input.communeId, [{ startAt: Date.now(), durationMs: LIVE_FRAME_MS }], input.priority, {
        override: input.overrideRules,
        mayOverride: input.mayOverride,
      });
    }
    for (const other of clashing) await this.end(other.id, 'preempted', input.startedBy);

    const id = newRefId('live');
    const key = crypto.randomBytes(4).readUInt32BE(0);
    const latencyMs = input.latencyMs ?? this.deps.latencyMs;
    const title =
      input.title?.trim() || (input.priority === 'emergency' ? 'Phát trực tiếp khẩn cấp' : 'Phát trực tiếp');
    const startedAt = Date.now();
    db.prepare(
      `INSERT INTO live_sessions (id, commune_id, key, title, priority, zones, latency_ms, max_ms, started_by, started_at,
         source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      input.communeId,
      key,
      title,
      input.priority,
      JSON.stringify(zones),
      latencyMs,
      maxMs,
      input.startedBy,
      startedAt,
      source,
    );
    const { occurrenceId, deviceIds } = await this.deps.airing.airLive({
      communeId: input.communeId,
      liveSessionId: id,
      title,
      priority: input.priority,
      zones,
      createdBy: input.startedBy,
      placeholder: await this.deps.placeholder(),
      asset: (zoneId) => ({
        kind: 'live',
        sessionId: id,
        key,
        topic: topics.zoneLive(zoneId),
        durationMs: maxMs,
        latencyMs,
      }),
    });
    db.prepare('UPDATE live_sessions SET occurrence_id = ? WHERE id = ?').run(occurrenceId, id);
    const recordingPath = this.deps.media.tempPath('ogg');
    const now = this.now();
    this.onAir.set(id, {
      row: this.row(id)!,
      zones,
      seq: 0,
      recent: [],
      anchor: 0,
      lastFrameAt: now,
      lastSoundAt: now,
      recorder: await this.deps.recorder(recordingPath).catch((err: unknown) => {
        this.deps.logger.error({ err, liveSessionId: id }, 'live recording could not start; going on without it');
        return null;
      }),
      recordingPath,
      decoder: new Decoder({ channels: 1, sample_rate: 48_000 }),
      connected: false,
      ending: null,
      lineIn: null,
    });
    if (source === 'line-in') {
      const session = this.onAir.get(id)!;
      session.connected = true;
      session.lineIn = captureLineIn(
        this.deps.captureDevice!,
        (packet) => this.frame(id, packet),
        (error) => {
          this.deps.logger.error({ liveSessionId: id, error }, 'office microphone capture ended');
          void this.end(id, 'dropped', null);
        },
      );
    }
    this.deps.audit.record({
      actor: input.startedBy,
      action: 'live.start',
      target: id,
      detail: { priority: input.priority, zones, latencyMs, devices: deviceIds.length, occurrenceId },
      communeId: input.communeId,
    });
    this.deps.logger.info({ liveSessionId: id, zones, devices: deviceIds.length }, 'live session on air');
    return this.view(this.row(id)!);
  }

  /** The officer's audio connection opened; only the one who started the session may send. */
  connect(id: string, username: string): void {
    const session = this.onAir.get(id);
    if (!session) throw new LiveError(404, 'id', `no live session ${id} on air`);
    if (session.row.source !== 'browser')
      throw new LiveError(409, 'id', 'this session speaks from the office microphone');
    if (session.row.started_by !== username) throw new LiveError(403, 'id', 'only the officer who went live speaks');
    session.connected = true;
    session.lastFrameAt = this.now();
  }

  /** The officer's connection closed: the session ends (the loudspeakers go quiet within 2 s). */
  disconnect(id: string): void {
    const session = this.onAir.get(id);
    if (session) void this.end(id, 'dropped', null);
  }

  /** One 20 ms Opus packet from the officer: stamped, fanned out per zone, recorded. */
  frame(id: string, packet: Uint8Array): void {
    const session = this.onAir.get(id);
    if (!session || session.ending) return;
    const now = this.now();
    const { row } = session;
    if (session.seq === 0) session.anchor = now + row.latency_ms;
    let playAt = session.anchor + session.seq * LIVE_FRAME_MS;
    // The officer's sound card and our clock drift apart, and the uplink stalls: keep the frame
    // playable (at least a quarter of the budget ahead) and the delay near the budget.
    const lead = playAt - now;
    if (lead < row.latency_ms / 4 || lead > row.latency_ms * 1.5) {
      session.anchor += now + row.latency_ms - playAt;
      playAt = now + row.latency_ms;
    }
    const wire = encodeLiveFrame({
      key: row.key,
      seq: session.seq,
      playAt,
      end: false,
      opus: packet,
      redundant: session.recent,
    });
    // One encoding for every zone: the copies are the same for all of them. Kept as a copy of
    // its own, as the caller's buffer is not ours to hold on to. Copies are of consecutive frames
    // and never empty: an empty packet (nothing to copy) leaves the next frame with none.
    session.recent =
      packet.byteLength > 0 ? [Uint8Array.from(packet), ...session.recent].slice(0, REDUNDANT_COPIES) : [];
    for (const zone of session.zones) {
      void this.deps.bus.publish(topics.zoneLive(zone), wire, { qos: 0 }).catch(() => {});
    }
    session.seq++;
    session.lastFrameAt = now;
    session.recorder?.write(packet, LIVE_FRAME_SAMPLES);
    if (this.loud(session, packet)) session.lastSoundAt = now;
  }

  /** Whether the packet holds sound (not silence): decoded, its RMS level. */
  private loud(session: OnAir, packet: Uint8Array): boolean {
    try {
      const pcm = session.decoder.decode(packet);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1);
      let sum = 0;
      for (const s of samples) sum += s * s;
      return Math.sqrt(sum / Math.max(1, samples.length)) > SILENCE_RMS;
    } catch {
      return false;
    }
  }

  /** An officer (or a leader) ends the session; compare-and-set on `revision`. */
  async stopBy(scope: Scope, id: string, revision: number, by: string): Promise<LiveSessionView> {
    const current = this.get(scope, id);
    if (current.endedAt !== null) throw new LiveError(409, 'id', 'this live session has already ended', current);
    if (current.revision !== revision) throw new LiveError(409, 'revision', 'someone changed it first', current);
    await this.end(id, 'stopped', by);
    return this.get(scope, id);
  }

  private checkEnds(): void {
    const now = this.now();
    for (const [id, s] of this.onAir) {
      if (s.ending) continue;
      if (now - s.row.started_at >= s.row.max_ms) void this.end(id, 'max-duration', null);
      else if (now - s.lastFrameAt >= LIVE_SILENCE_END_MS) void this.end(id, 'dropped', null);
      else if (now - s.lastSoundAt >= this.deps.silenceEndMs) void this.end(id, 'silence', null);
    }
  }

  /** Ends a session once: the end frame, the stop command, the recording stored. */
  private end(id: string, reason: LiveEndReason, by: string | null): Promise<void> {
    const session = this.onAir.get(id);
    if (!session) return Promise.resolve();
    session.ending ??= this.finish(id, session, reason, by).finally(() => this.onAir.delete(id));
    return session.ending;
  }

  private async finish(id: string, session: OnAir, reason: LiveEndReason, by: string | null): Promise<void> {
    const { db, media, logger } = this.deps;
    const { row } = session;
    session.lineIn?.stop();
    const { zones } = session;
    const last = encodeLiveFrame({
      key: row.key,
      seq: session.seq,
      playAt: session.anchor + session.seq * LIVE_FRAME_MS,
      end: true,
      opus: new Uint8Array(),
      // The last packets get their copies too, so they are as safe as any before them.
      redundant: session.recent,
    });
    // QoS 0 like every frame: sent three times, so one lost copy does not leave the loudspeakers
    // waiting 2 s for frames that will not come (a duplicate is dropped by its sequence number).
    for (let copy = 0; copy < 3; copy++) {
      await Promise.all(zones.map((z) => this.deps.bus.publish(topics.zoneLive(z), last, { qos: 0 }).catch(() => {})));
    }
    let recording: MediaAsset | null = null;
    if (session.recorder) {
      try {
        const { durationMs } = await session.recorder.close();
        if (session.seq > 0) recording = await media.adopt(session.recordingPath!, 'ogg', Math.round(durationMs));
      } catch (err) {
        logger.error({ err, liveSessionId: id }, 'live recording could not be stored');
      }
    }
    db.prepare(
      `UPDATE live_sessions SET ended_at = ?, end_reason = ?, ended_by = ?, frames = ?, recording = ?,
         revision = revision + 1 WHERE id = ?`,
    ).run(Date.now(), reason, by, session.seq, recording?.sha256 ?? null, id);
    // The stop follows once the budget's worth of audio the loudspeakers hold has played out.
    if (row.occurrence_id) {
      await this.deps.airing.endLive(row.occurrence_id, zones, recording, row.started_at, row.latency_ms + 1000);
    }
    this.deps.audit.record({
      actor: by ?? 'system',
      action: 'live.end',
      target: id,
      detail: { reason, frames: session.seq, recording: recording?.sha256 ?? null },
      communeId: row.commune_id,
    });
    logger.info({ liveSessionId: id, reason, frames: session.seq }, 'live session ended');
  }
}
