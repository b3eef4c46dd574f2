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

  it('is not pulled aside by exchanges that waited in a busy server’s queue on the way in', () => {
    // True offset 100 ms over a 1 ms link. Six of ten pings waited d ms before the server read
    // its clock: each says 100 + d/2 and took 1 + d. The middle half of all ten says 103.2.
    const estimator = new OffsetEstimator();
    for (const offsetMs of [100, 100.1, 99.9, 100]) estimator.add({ offsetMs, roundTripMs: 1 });
    for (const d of [4, 8, 12, 14, 16, 20]) estimator.add({ offsetMs: 100 + d / 2, roundTripMs: 1 + d });
    expect(estimator.centralMeanMs).toBeCloseTo(100, 6);
  });

  it('keeps every sample of a link whose round trips scatter both ways (4G), and averages their middle half', () => {
    const estimator = new OffsetEstimator();
    // Round trips bunched around 68 ms with tails both ways, as two legs of σ 10 ms give them;
    // offsets spread ±9 around 40.
    const roundTrips = [45, 60, 64, 68, 70, 72, 76, 90];
    const offsets = [31, 49, 33, 47, 40.5, 39.5, 40, 40];
    offsets.forEach((offsetMs, i) => estimator.add({ offsetMs, roundTripMs: roundTrips[i]! }));
    // Middle half of the sorted offsets: 39.5, 40, 40, 40.5.
    expect(estimator.centralMeanMs).toBeCloseTo(40, 6);
    estimator.add({ offsetMs: 49.2, roundTripMs: 95 });
    estimator.add({ offsetMs: 30.8, roundTripMs: 52 });
    // Ten samples, drop two at each end: 39.5, 40, 40, 40.5, 47, 33 → still 40.
    expect(estimator.centralMeanMs).toBeCloseTo(40, 6);
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
