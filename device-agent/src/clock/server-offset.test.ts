import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger';
import { skewedClock } from './clock';
import { OffsetEstimator, offsetFromExchange, ServerOffsetMonitor } from './server-offset';

describe('offsetFromExchange', () => {
  it.each([
    // t0, server, t1 → offset, round trip
    [1_000, 1_050, 1_100, 0, 100],
    [1_000, 6_050, 1_100, 5_000, 100],
    [10_000, 7_000, 10_000, -3_000, 0],
    [0, 0, 400, -200, 400],
  ])('t0=%d s=%d t1=%d → offset %d, rtt %d', (t0, s, t1, offset, rtt) => {
    expect(offsetFromExchange(t0, s, t1)).toEqual({ offsetMs: offset, roundTripMs: rtt });
  });
});

describe('OffsetEstimator', () => {
  it('is the median of recent samples, so one slow round trip does not move it', () => {
    const estimator = new OffsetEstimator(5);
    expect(estimator.offsetMs).toBeUndefined();
    for (const offsetMs of [100, 102, 2_500, 98, 101]) estimator.add({ offsetMs, roundTripMs: 20 });
    expect(estimator.offsetMs).toBe(101);
  });

  it('forgets the oldest samples beyond its capacity and ignores impossible ones', () => {
    const estimator = new OffsetEstimator(3);
    for (const offsetMs of [0, 0, 0, 500, 500, 500]) estimator.add({ offsetMs, roundTripMs: 10 });
    estimator.add({ offsetMs: -9_999, roundTripMs: -5 }); // clock stepped mid-exchange
    estimator.add({ offsetMs: Number.NaN, roundTripMs: 5 });
    expect(estimator.size).toBe(3);
    expect(estimator.offsetMs).toBe(500);
  });

  it('takes the mean of the middle two for an even count', () => {
    const estimator = new OffsetEstimator();
    for (const offsetMs of [10, 20, 30, 41]) estimator.add({ offsetMs, roundTripMs: 1 });
    expect(estimator.offsetMs).toBe(25);
  });
});

describe('ServerOffsetMonitor', () => {
  it('estimates a skewed device clock and warns once when it passes the threshold', async () => {
    const warnings: { clockOffsetMs: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const estimates: number[] = [];
    // The device clock runs 4 s behind the server's; each exchange takes 30 ms, the answer
    // leaving the server halfway (as the midpoint estimate assumes). Hand-moved: exact figures.
    let serverNow = 1_700_000_000_000;
    const monitor = new ServerOffsetMonitor({
      clock: { now: () => serverNow - 4_000 },
      serverTime: async () => {
        serverNow += 15;
        const answer = serverNow;
        serverNow += 15;
        return answer;
      },
      intervalMs: 60_000,
      warnMs: 1_000,
      logger,
      onEstimate: (offset) => estimates.push(offset),
    });
    for (let i = 0; i < 3; i++) await monitor.sample();
    expect(monitor.offsetMs).toBe(4_000);
    expect(estimates).toEqual([4_000, 4_000, 4_000]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.clockOffsetMs).toBe(4_000);
  });

  it('skips an exchange the server does not answer', async () => {
    const monitor = new ServerOffsetMonitor({
      clock: skewedClock(0),
      serverTime: () => Promise.reject(new Error('ECONNREFUSED')),
      intervalMs: 60_000,
      warnMs: 1_000,
      logger: silentLogger(),
      onEstimate: () => {
        throw new Error('no estimate expected');
      },
    });
    await monitor.sample();
    expect(monitor.offsetMs).toBeUndefined();
  });
});
