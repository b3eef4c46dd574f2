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
}

/** Generous enough for an agent flushing a long offline outbox in one go. */
export const DEFAULT_FLOOD_GUARD: FloodGuardOptions = { ratePerS: 50, burst: 1000 };

export class FloodGuard {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly options: FloodGuardOptions = DEFAULT_FLOOD_GUARD) {}

  /** True if the device may send this message; false once it is over its budget (its bucket then starts afresh). */
  admit(deviceId: string, now: number): boolean {
    const { ratePerS, burst } = this.options;
    const b = this.buckets.get(deviceId) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerS);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.delete(deviceId);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(deviceId, b);
    return true;
  }
}
