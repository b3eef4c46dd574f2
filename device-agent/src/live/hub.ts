/**
 * The agent's live edge: plays a live asset (the officer speaking) on this
 * loudspeaker. It follows the session's live topic for as long as the play
 * lasts, keeps the server's clock (LiveClockSync over ping/pong) while a
 * session plays and for a while after, so a following session starts warm,
 * and hands the frames to a LivePlayer writing into the player's live sink.
 */
import { decodeLiveFrame, type LiveAsset, type PingPayload, type PongPayload } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logger';
import { LiveClockSync } from './clock-sync';
import { LivePlayer, type LiveStats } from './live-player';
import type { LiveSink } from './sinks';

/** What the hub needs of the MQTT link. */
export interface LiveLink {
  ping(ping: PingPayload): void;
  onPong(handler: (pong: PongPayload) => void): void;
  listenLive(topic: string, onFrame: (payload: Buffer) => void): () => void;
}

/** The clock sync runs this long after the last session ends (pings cost the server one answer each). */
const KEEP_SYNC_MS = 10 * 60_000;
/** Pings while a session plays, and between sessions (clock-sync.ts says why so often). */
const SESSION_PING_MS = 500;
const IDLE_PING_MS = 2_000;

export class LiveHub {
  private readonly sync: LiveClockSync;
  private sessions = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: LiveLink,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.sync = new LiveClockSync({ clock, send: (ping) => link.ping(ping) });
    link.onPong((pong) => this.sync.onPong(pong));
  }

  /** Starts the clock exchange early (a live play-now was received): the session then starts in step. */
  warm(): void {
    clearTimeout(this.idleTimer);
    this.sync.setInterval(SESSION_PING_MS);
    this.sync.start();
    this.sync.burst();
  }

  /** Plays the session until it ends; rejects with the signal's reason when aborted (preempted, stopped). */
  async play(asset: LiveAsset, sink: LiveSink, signal: AbortSignal): Promise<LiveStats> {
    this.warm();
    this.sessions++;
    const player = new LivePlayer({ asset, timeline: this.sync, sink, clock: this.clock });
    const unlisten = this.link.listenLive(asset.topic, (payload) => {
      const frame = decodeLiveFrame(payload);
      if (frame) player.onFrame(frame);
    });
    try {
      const stats = await player.play(signal);
      this.logger.info({ sessionId: asset.sessionId, ...stats }, 'live session played');
      if (stats.endedBy === 'aborted') throw signal.reason ?? new Error('aborted');
      return stats;
    } finally {
      unlisten();
      if (--this.sessions === 0) {
        this.sync.setInterval(IDLE_PING_MS);
        this.idleTimer = setTimeout(() => this.sync.stop(), KEEP_SYNC_MS);
        this.idleTimer.unref();
      }
    }
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    this.sync.stop();
  }
}
