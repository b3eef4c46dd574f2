import type { PingPayload } from '@loaxa/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../clock/clock';
import { pingServer } from '../../test/live/network';
import { seededRandom } from '../../test/live/random';
import { LiveClockSync } from './clock-sync';

// Fake timers drive pings and deliveries; Date.now() is the server's clock.
const server: Clock = { now: () => Date.now() };
const skewed = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs });

describe('LiveClockSync', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('finds a device clock 1234.5 ms off within 8 ms over a jittery, lossy, asymmetric link', async () => {
    const device = skewed(1_234.5);
    const random = seededRandom(19);
    const sync = new LiveClockSync({ clock: device, send: (ping) => send(ping) });
    const send = pingServer(
      random,
      server,
      {
        up: { delayMs: () => random.gaussian(30, 10), loss: 0.05 },
        down: { delayMs: () => random.gaussian(40, 10), loss: 0.05 },
      },
      (pong) => sync.onPong(pong),
    );
    sync.start();
    expect(sync.ready).toBe(false);

    // A burst of ten pings in the first second: ready to start a session within about a second.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sync.ready).toBe(true);
    const early: number[] = [];
    for (let second = 0; second < 300; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      early.push(sync.serverToDevice(server.now()) - device.now());
    }
    sync.stop();
    // serverToDevice(server now) should be the device's now: the error of the estimate, ms.
    for (const error of early.slice(10)) expect(Math.abs(error)).toBeLessThanOrEqual(8);
    expect(sync.offsetMs).toBeCloseTo(-1_234.5, -1);
  });

  it('keeps only pongs to its own pings, once each, and none that took over a second', async () => {
    const device = skewed(500);
    const sent: PingPayload[] = [];
    const sync = new LiveClockSync({ clock: device, send: (ping) => void sent.push(ping) });
    sync.start();
    const answer = (t0: number, serverTime = server.now()) => sync.onPong({ v: 1, t0, serverTime });

    answer(123); // never sent
    answer(sent[0]!.t0 + 1);
    expect(sync.offsetMs).toBeUndefined();

    await vi.advanceTimersByTimeAsync(10);
    answer(sent[0]!.t0, server.now() - 5); // answered halfway through a 10 ms round trip
    answer(sent[0]!.t0, server.now() + 9_999); // the same pong again (the broker repeated it)
    expect(sync.offsetMs).toBe(-500);

    await vi.advanceTimersByTimeAsync(190); // second ping goes out
    await vi.advanceTimersByTimeAsync(1_100);
    answer(sent[1]!.t0, server.now() + 50_000); // 1.1 s round trip: dropped
    expect(sync.offsetMs).toBe(-500);

    expect(sent.length).toBeGreaterThanOrEqual(5);
    sync.stop();
    const count = sent.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(count);
  });

  it('pings ten times in the first second, then at its interval; bursts again only while young', async () => {
    const sent: number[] = [];
    const sync = new LiveClockSync({ clock: server, send: (ping) => void sent.push(ping.t0) });
    sync.start();
    await vi.advanceTimersByTimeAsync(2_500);
    const start = sent[0]!;
    const burst = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900];
    expect(sent.map((at) => at - start)).toEqual([...burst, 1_900]);

    // Young (no pong yet): a new session bursts again from now; the interval then applies.
    sync.setInterval(500);
    sent.length = 0;
    sync.burst();
    await vi.advanceTimersByTimeAsync(1_950);
    expect(sent.map((at) => at - sent[0]!)).toEqual([...burst, 1_400, 1_900]);

    // Fifty answered pings: the estimate is grown up and a burst asks for nothing.
    for (let i = 0; i < 50; i++) {
      const t0 = server.now();
      sync.onPong({ v: 1, t0: t0 - 1, serverTime: t0 }); // not ours: ignored
    }
    sent.length = 0;
    for (let i = 0; i < 50; i++) {
      await vi.advanceTimersByTimeAsync(500);
      sync.onPong({ v: 1, t0: sent.at(-1)!, serverTime: server.now() });
    }
    sent.length = 0;
    sync.burst();
    await vi.advanceTimersByTimeAsync(1_000);
    sync.stop();
    expect(sent.length).toBeLessThanOrEqual(2);
  });

  it('forgets offsets older than maxAgeMs, and a shorter interval cuts the wait for the next ping', async () => {
    let deviceOffset = 0;
    const device: Clock = { now: () => Date.now() + deviceOffset };
    const sent: number[] = [];
    const sync = new LiveClockSync({ clock: device, maxAgeMs: 60_000, send: (ping) => void reply(ping) });
    const reply = (ping: PingPayload) => {
      sent.push(Date.now());
      setTimeout(() => sync.onPong({ v: 1, t0: ping.t0, serverTime: server.now() - 5 }), 10);
    };
    sync.setInterval(30_000);
    sync.start({ burst: false });
    await vi.advanceTimersByTimeAsync(30_000 * 10);
    expect(sync.offsetMs).toBeCloseTo(0, 5);

    // The device clock steps 100 ms: with a window of a minute, three pings later only new offsets count.
    deviceOffset = 100;
    await vi.advanceTimersByTimeAsync(100_000);
    expect(sync.offsetMs).toBeCloseTo(-100, 5);

    // A session: the next ping comes 500 ms later, not at the end of the 30 s interval.
    const before = sent.length;
    const at = Date.now();
    sync.setInterval(500);
    await vi.advanceTimersByTimeAsync(1_000);
    sync.stop();
    expect(sent.slice(before).map((t) => t - at)).toEqual([500, 1_000]);
  });

  it('estimates a 0.4 ms offset to a tenth of a millisecond: no whole-ms rounding', async () => {
    const device = skewed(-0.4);
    const sync = new LiveClockSync({ clock: device, send: (ping) => void reply(ping) });
    const reply = (ping: PingPayload) =>
      setTimeout(() => sync.onPong({ v: 1, t0: ping.t0, serverTime: server.now() - 10 }), 20);
    sync.start();
    await vi.advanceTimersByTimeAsync(3_000);
    sync.stop();
    expect(sync.offsetMs).toBeCloseTo(0.4, 1);
  });
});
