/**
 * The server's clock as seen from this loudspeaker, precise enough to play live
 * audio in step with its neighbours (~10 ms between any two of hundreds). Same
 * NTP-style exchange as the agent's ServerOffsetMonitor, but over MQTT
 * (ping/pong, QoS 0) and after Snapcast: the last 200 offsets, a burst of pings
 * to start. On a 4G-like link (σ 10 ms each way) one exchange is ~7 ms off, so
 * the estimate is the interquartile mean (robust like a median to slow round
 * trips, ~20 % closer on symmetric jitter) of the exchanges that did not wait
 * in a busy end's queue (OffsetEstimator), and unrounded: across 500
 * loudspeakers the spread of their estimates is ~6 standard errors, which needs
 * ~50 samples for the 10 ms target — hence a burst of 10 while the estimate is
 * young and a ping every 500 ms while a session plays (30 s between sessions:
 * live/hub.ts).
 */
import type { PingPayload, PongPayload } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import { OffsetEstimator, offsetFromExchange } from '../clock/server-offset';

export interface LiveClockSyncOptions {
  clock: Clock;
  /** Publishes a ping (QoS 0); its pong comes back through `onPong`. */
  send: (ping: PingPayload) => void;
  /** Between pings; default 1 s; `setInterval` changes it. */
  intervalMs?: number;
  /** Offsets the median is taken over; default 200. */
  samples?: number;
  /** A pong slower than this says more about the queue it sat in than about the clock; default 1 s. */
  maxRoundTripMs?: number;
  /** Offsets older than this are forgotten (clocks drift); default 10 min. */
  maxAgeMs?: number;
}

/** Pings of a burst (`burst()`), this far apart: a session can start in step within a second. */
const BURST_PINGS = 10;
const BURST_GAP_MS = 100;
/** Below this many samples a new session asks for a burst (the pings cost the server one answer each). */
const YOUNG_SAMPLES = 50;
/** Samples before the estimate is trusted: the middle of five already ignores two bad round trips. */
const READY_SAMPLES = 5;

export class LiveClockSync {
  private readonly estimator: OffsetEstimator;
  /** t0 of the pings still awaiting their pong. */
  private readonly pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private burstLeft = 0;
  private intervalMs: number;
  private offset: number | undefined;

  constructor(private readonly options: LiveClockSyncOptions) {
    this.estimator = new OffsetEstimator(options.samples ?? 200);
    this.intervalMs = options.intervalMs ?? 1_000;
  }

  /**
   * Starts pinging; a no-op when running. `firstInMs` (default 0) spreads the first pings of a
   * fleet that connected at once; `burst` (default true) starts with a burst.
   */
  start(options: { firstInMs?: number; burst?: boolean } = {}): void {
    if (this.timer) return;
    this.burstLeft = (options.burst ?? true) ? BURST_PINGS : 0;
    if (!options.firstInMs) return this.tick();
    this.timer = setTimeout(() => this.tick(), options.firstInMs);
    this.timer.unref();
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** The next pings go `BURST_GAP_MS` apart while the estimate is young (few samples); else nothing. */
  burst(): void {
    if (!this.timer || this.estimator.size >= YOUNG_SAMPLES || this.burstLeft > 0) return;
    this.burstLeft = BURST_PINGS;
    clearTimeout(this.timer);
    this.tick();
  }

  /** Pings this far apart (a burst first finishes); a shorter interval cuts the wait for the next ping. */
  setInterval(ms: number): void {
    const shorter = ms < this.intervalMs;
    this.intervalMs = ms;
    if (shorter && this.timer && this.burstLeft === 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.tick(), ms);
      this.timer.unref();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.burstLeft = 0;
    this.pending.clear();
  }

  onPong(pong: PongPayload): void {
    const t1 = this.options.clock.now();
    // Only our own pings count: a pong for another agent's, or one answered twice, is no sample.
    if (!this.pending.delete(pong.t0)) return;
    const sample = offsetFromExchange(pong.t0, pong.serverTime, t1);
    if (sample.roundTripMs > (this.options.maxRoundTripMs ?? 1_000)) return;
    this.estimator.forgetBefore(t1 - (this.options.maxAgeMs ?? 10 * 60_000));
    this.estimator.add(sample, t1);
    this.offset = this.estimator.centralMeanMs;
  }

  /** Enough samples for `serverToDevice` to be trusted. */
  get ready(): boolean {
    return this.estimator.size >= READY_SAMPLES;
  }

  /** Server clock − device clock, ms (fractional), or undefined before the first sample. */
  get offsetMs(): number | undefined {
    return this.offset;
  }

  /** The device time of a server instant; the device clock as is before the first sample. */
  serverToDevice(serverMs: number): number {
    return serverMs - (this.offset ?? 0);
  }

  private tick(): void {
    const { clock, send } = this.options;
    const t0 = clock.now();
    this.forgetStale(t0);
    this.pending.add(t0);
    send({ v: 1, t0 });
    const bursting = this.burstLeft > 0 && --this.burstLeft > 0;
    this.timer = setTimeout(() => this.tick(), bursting ? BURST_GAP_MS : this.intervalMs);
    this.timer.unref();
  }

  /** Pings whose pong would be dropped for its round trip anyway: keeps `pending` small through an outage. */
  private forgetStale(now: number): void {
    const limit = this.options.maxRoundTripMs ?? 1_000;
    for (const t0 of this.pending) if (now - t0 > limit) this.pending.delete(t0);
  }
}
