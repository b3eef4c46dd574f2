/**
 * A 4G-like path for QoS 0 messages, on timers (run them with vitest's fake
 * timers): each message is lost, delayed by its own draw (so messages overtake
 * each other) and sometimes delivered twice, as a reconnecting broker does.
 */
import type { PingPayload, PongPayload } from '@loaxa/protocol';
import type { Clock } from '../../src/clock/clock';
import type { Random } from './random';

export interface PathConditions {
  /** Delay of one delivery, ms (negative draws count as 0). */
  delayMs: () => number;
  loss: number;
  duplicate?: number;
}

export function lossyPath<T>(
  random: Random,
  conditions: PathConditions,
  deliver: (message: T) => void,
): (message: T) => void {
  const later = (message: T) => setTimeout(() => deliver(message), Math.max(0, conditions.delayMs()));
  return (message) => {
    if (random.chance(conditions.loss)) return;
    later(message);
    if (random.chance(conditions.duplicate ?? 0)) later(message);
  };
}

/** The server's side of the clock exchange: answers each ping with its clock, over lossy paths both ways. */
export function pingServer(
  random: Random,
  serverClock: Clock,
  paths: { up: PathConditions; down: PathConditions },
  onPong: (pong: PongPayload) => void,
): (ping: PingPayload) => void {
  const down = lossyPath(random, paths.down, onPong);
  return lossyPath(random, paths.up, (ping: PingPayload) => down({ v: 1, t0: ping.t0, serverTime: serverClock.now() }));
}
