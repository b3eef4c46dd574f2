/**
 * Per-device token buckets for inbound MQTT messages, checked in the broker
 * before a publish is acknowledged. A device over its budget is disconnected
 * (it keeps unacknowledged messages and re-sends them after its backoff), and
 * reported. Pure: time comes in as an argument.
 */
export interface FloodGuardOptions {
  /** Sustained messages per second allowed per device. */
  ratePerS: number;
  /** Burst allowance. */
  burst: number;
  /** Dropped messages within one window after which the device is disconnected. */
  disconnectAfterDrops: number;
  windowMs: number;
}

/** Generous enough for an agent flushing a long offline outbox in one go. */
export const DEFAULT_FLOOD_GUARD: FloodGuardOptions = {
  ratePerS: 50,
  burst: 1000,
  disconnectAfterDrops: 1,
  windowMs: 60_000,
};

export type FloodVerdict = 'accept' | 'drop' | 'disconnect';

interface Bucket {
  tokens: number;
  at: number;
  drops: number;
  windowStart: number;
}

export class FloodGuard {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: FloodGuardOptions = DEFAULT_FLOOD_GUARD) {}

  check(deviceId: string, now: number): FloodVerdict {
    const o = this.options;
    let b = this.buckets.get(deviceId);
    if (!b) {
      b = { tokens: o.burst, at: now, drops: 0, windowStart: now };
      this.buckets.set(deviceId, b);
    }
    b.tokens = Math.min(o.burst, b.tokens + ((now - b.at) / 1000) * o.ratePerS);
    b.at = now;
    if (now - b.windowStart >= o.windowMs) {
      b.drops = 0;
      b.windowStart = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'accept';
    }
    b.drops += 1;
    return b.drops >= o.disconnectAfterDrops ? 'disconnect' : 'drop';
  }

  /** Dropped messages of the device in the current window. */
  drops(deviceId: string): number {
    return this.buckets.get(deviceId)?.drops ?? 0;
  }

  forget(deviceId: string): void {
    this.buckets.delete(deviceId);
  }
}
