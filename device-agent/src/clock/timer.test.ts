import { describe, expect, it } from 'vitest';
import { skewedClock, systemClock, type Clock } from './clock';
import { atInstant, sleep, waitUntil } from './timer';

/** A device clock the test moves by hand: no wall-clock figure decides these tests. */
function handClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves with whether `promise` settled within `turns` turns of the event loop. */
async function settledWithin(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns && !settled; i++) await turn();
  return settled;
}

describe('waitUntil', () => {
  it('is never early, and wakes on the first turn of the event loop once the clock reaches the target', async () => {
    const clock = handClock();
    const target = clock.now() + 10; // inside the last stretch, which is polled
    const wait = waitUntil(clock, target);
    expect(await settledWithin(wait, 20)).toBe(false);
    clock.advance(9);
    expect(await settledWithin(wait, 20)).toBe(false);
    clock.advance(1);
    // No timer between the clock reaching the target and the wake-up: precision is the
    // length of one event-loop turn, whatever the load on the machine.
    expect(await settledWithin(wait, 2)).toBe(true);
  });

  it('fires on time by a real (skewed) clock: never early, late by far less than a coarse timer', async () => {
    const clock = skewedClock(-3_600_000);
    const target = clock.now() + 150;
    await waitUntil(clock, target);
    const late = clock.now() - target;
    expect(late).toBeGreaterThanOrEqual(0);
    // Typically 0–2 ms (see the test above for the mechanism); a generous bound for a loaded CI machine.
    expect(late).toBeLessThan(100);
  });

  it('resolves at once for a past instant, without waiting for a timer', async () => {
    expect(await settledWithin(waitUntil(systemClock, Date.now() - 1000), 1)).toBe(true);
    const clock = handClock();
    expect(await settledWithin(waitUntil(clock, clock.now()), 1)).toBe(true);
  });

  it('wakes many waiters due on one instant together, each by its own clock', async () => {
    const base = handClock();
    const waits = Array.from({ length: 200 }, (_, i) => {
      const clock = skewedClock(i % 2 ? 5_000 : -5_000, base);
      const target = clock.now() + 10 + (i % 3);
      return waitUntil(clock, target).then(() => clock.now() - target);
    });
    const aborted = new AbortController();
    const cancelled = waitUntil(base, base.now() + 10, aborted.signal).catch(() => 'cancelled');
    aborted.abort();
    const all = Promise.all(waits);
    base.advance(11);
    expect(await settledWithin(all, 20)).toBe(false); // those due at +12 hold the rest
    base.advance(1);
    expect(await settledWithin(all, 2)).toBe(true); // one polling loop wakes all of them in one turn
    const late = await all;
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...late)).toBeLessThanOrEqual(2);
    expect(await cancelled).toBe('cancelled');
  });

  it('wakes every waiter due on an instant in the same turn when the clock ticks over it while they are read', async () => {
    const at = 1_700_000_000_000;
    let reads = 0;
    let ticking = false;
    // Before the tick every read says at − 5; then the first 10 reads still say at − 1 (the
    // waiters read first in a pass), every later one says at.
    const clock: Clock = { now: () => (!ticking ? at - 5 : ++reads <= 10 ? at - 1 : at) };
    let woken = 0;
    let wokenTogether = -1;
    const waits = Array.from({ length: 50 }, () =>
      waitUntil(clock, at).then(() => {
        // Queued behind the wake-ups of this turn, before any of a later turn.
        if (woken++ === 0) queueMicrotask(() => (wokenTogether = woken));
      }),
    );
    ticking = true;
    await Promise.all(waits);
    expect(wokenTogether).toBe(50);
  });

  it('rejects with the abort reason', async () => {
    const controller = new AbortController();
    const wait = waitUntil(systemClock, Date.now() + 10_000, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 10);
    await expect(wait).rejects.toThrow('cancelled');
    await expect(sleep(10_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});

describe('atInstant', () => {
  it('calls every waiter due on an instant within one polling pass, not a promise turn later; a cancelled one never', async () => {
    const clock = handClock();
    const at = clock.now() + 10;
    const calls: number[] = [];
    let microtaskRan = -1;
    for (let i = 0; i < 100; i++) {
      const cancel = atInstant(clock, at, () => {
        // The first call queues a microtask: it runs only after the pass has called all the others.
        if (calls.push(i) === 1) queueMicrotask(() => (microtaskRan = calls.length));
      });
      if (i === 50) cancel();
    }
    clock.advance(10);
    for (let turns = 0; turns < 5 && calls.length === 0; turns++) await turn();
    expect(calls).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 50));
    expect(microtaskRan).toBe(99);
  });

  it('calls at once for an instant that has passed', () => {
    const clock = handClock();
    let called = false;
    atInstant(clock, clock.now() - 1, () => (called = true));
    expect(called).toBe(true);
  });
});
