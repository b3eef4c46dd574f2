/**
 * The agent's live edge: plays a live asset (the officer speaking) on this
 * loudspeaker. It follows the session's live topic for as long as the play
 * lasts, keeps the server's clock (LiveClockSync over ping/pong) — slowly
 * whenever connected, so the first session of the day starts with ~20 recent
 * offsets, fast while a session plays — and hands the frames to a LivePlayer
 * writing into the player's live sink.
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

/**
 * Pings while a session plays (clock-sync.ts says why so often), and while connected between
 * sessions: one answer each 30 s is ~330 pings/s for a province of 10,000 loudspeakers, and keeps
 * ~20 offsets of the last 10 minutes for a session to start from.
 */
const SESSION_PING_MS = 500;
const IDLE_PING_MS = 30_000;

export class LiveHub {
  private readonly sync: LiveClockSync;
  private sessions = 0;

  constructor(
    private readonly link: LiveLink,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.sync = new LiveClockSync({ clock, send: (ping) => link.ping(ping) });
    link.onPong((pong) => this.sync.onPong(pong));
  }

  /** The link is up: slow pings from a random moment of the first interval (a fleet connects at once). */
  connected(): void {
    if (this.sessions > 0) return this.warm();
    this.sync.setInterval(IDLE_PING_MS);
    this.sync.start({ firstInMs: Math.random() * IDLE_PING_MS, burst: false });
  }

  /** The link is down: pings would go nowhere. The offsets are kept (they age out). */
  disconnected(): void {
    this.sync.stop();
  }

  /** Speeds the clock exchange up (a live play-now was received): the session then starts in step. */
  warm(): void {
    this.sync.setInterval(SESSION_PING_MS);
    if (this.sync.running) this.sync.burst();
    else this.sync.start();
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
      if (--this.sessions === 0) this.sync.setInterval(IDLE_PING_MS);
    }
  }

  stop(): void {
    this.sync.stop();
  }
}
