/**
 * The floor `npm run bench` holds our figures against (issue 22), measured on this process's
 * simulated devices with none of our logic in the way:
 * - delivery: when a bare QoS 1 message, published on the zone command topics as an emergency
 *   command is, reaches each device's MQTT client (before the agent looks at it);
 * - timer: how far from one instant the agent's own start timer (atInstant, what the playback
 *   cues a planned item on) fires on each device.
 */
import { atInstant, type Clock } from '@loaxa/device-agent';
// A bench hook, not part of the agent package's interface; the package resolves to this same
// source file, so this is the probe the agents' links call.
import { messageProbe } from '../../device-agent/src/link/mqtt-link';

/**
 * Listens for the floor message (the bench's, known by its first bytes: `marker`); resolves with
 * [device id, Date.now() on arrival] for each of `deviceIds` it reached, once all have it or
 * `timeoutMs` after listening began.
 */
export function floorArrivals(
  deviceIds: readonly string[],
  marker: string,
  timeoutMs: number,
): Promise<[string, number][]> {
  const expected = new Set(deviceIds);
  const arrivals = new Map<string, number>();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      messageProbe.onMessage = undefined;
      resolve([...arrivals]);
    };
    const timer = setTimeout(finish, timeoutMs);
    messageProbe.onMessage = (deviceId, _topic, payload) => {
      const at = Date.now();
      if (!expected.has(deviceId) || arrivals.has(deviceId)) return;
      if (payload.toString('latin1', 0, marker.length) !== marker) return;
      arrivals.set(deviceId, at);
      if (arrivals.size === expected.size) finish();
    };
  });
}

/**
 * Arms the agent's start timer for `at` on each device's clock; resolves with |fired − at| per
 * device, in ms with sub-ms resolution (the floor is well under Date.now()'s 1 ms tick). Fired is
 * read on the host clock: the bench's devices have no clock skew.
 */
export function timerLateness(clocks: Iterable<Clock>, at: number): Promise<number[]> {
  const now = subMsWallClock();
  return Promise.all(
    [...clocks].map(
      (clock) => new Promise<number>((resolve) => atInstant(clock, at, () => resolve(Math.abs(now() - at)))),
    ),
  );
}

/** Date.now() with sub-ms resolution: performance.now() anchored on the edge of a Date.now() tick. */
function subMsWallClock(): () => number {
  const tick = Date.now();
  while (Date.now() === tick); // at most 1 ms
  const offset = Date.now() - performance.now();
  return () => offset + performance.now();
}
