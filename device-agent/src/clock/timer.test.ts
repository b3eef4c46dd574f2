import { describe, expect, it } from 'vitest';
import { skewedClock, systemClock } from './clock';
import { sleep, waitUntil } from './timer';

describe('waitUntil', () => {
  it('fires within a few ms of the target by the given clock', async () => {
    const clock = skewedClock(-3_600_000);
    const target = clock.now() + 150;
    await waitUntil(clock, target);
    const late = clock.now() - target;
    expect(late).toBeGreaterThanOrEqual(0);
    // Typically 0–2 ms; the bound leaves room for event-loop jitter when other test files
    // share the 2 CI cores, and still fails a timer that lands on a coarse tick (≥ 50 ms).
    expect(late).toBeLessThan(25);
  });

  it('resolves at once for a past instant', async () => {
    const before = Date.now();
    await waitUntil(systemClock, before - 1000);
    expect(Date.now() - before).toBeLessThan(5);
  });

  it('wakes many waiters due on one instant together, each by its own clock', async () => {
    const now = Date.now();
    const waits = Array.from({ length: 200 }, (_, i) => {
      const clock = skewedClock(i % 2 ? 5_000 : -5_000);
      const target = clock.now() + 60 + (i % 3);
      return waitUntil(clock, target).then(() => clock.now() - target);
    });
    const aborted = new AbortController();
    const cancelled = waitUntil(systemClock, now + 60, aborted.signal).catch(() => 'cancelled');
    aborted.abort();
    const late = await Promise.all(waits);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...late)).toBeLessThan(25);
    expect(await cancelled).toBe('cancelled');
  });

  it('rejects with the abort reason', async () => {
    const controller = new AbortController();
    const wait = waitUntil(systemClock, Date.now() + 10_000, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 10);
    await expect(wait).rejects.toThrow('cancelled');
    await expect(sleep(10_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});
