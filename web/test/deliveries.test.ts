import { describe, expect, it } from 'vitest';
import { deliveryOutcome } from '@loaxa/protocol/stages';
import type { Delivery, Occurrence, OccurrenceSummary } from '../src/lib/api';
import { recentProgress, splitRecent } from '../src/pages/deliveries';

const NO_STAGES = { pending: 0, received: 0, ready: 0, started: 0, finished: 0, failed: 0, skipped: 0, preempted: 0 };

const START = Date.parse('2025-11-23T10:00:00Z');
const NO_OUTCOMES = { waiting: 0, playing: 0, finished: 0, failed: 0, missed: 0, stopped: 0, preempted: 0, skipped: 0 };

/** The server's summary of an occurrence that started at START, seen `now` (stopped or not). */
const summary = (
  stages: Partial<OccurrenceSummary['stages']>,
  { now = START + 10_000, stopped = false } = {},
): OccurrenceSummary => {
  const all = { ...NO_STAGES, ...stages };
  const outcomes = { ...NO_OUTCOMES };
  for (const [stage, n] of Object.entries(all) as [Delivery['stage'], number][]) {
    outcomes[deliveryOutcome(stage, { startAt: START, stopped }, now)] += n;
  }
  return {
    id: 'o',
    communeId: 'default',
    title: 'o',
    priority: 'normal',
    startAt: '2025-11-23T10:00:00Z',
    durationMs: 1000,
    scheduleId: null,
    cancelled: false,
    stoppedAt: stopped ? '2025-11-23T10:00:05Z' : null,
    stoppedBy: stopped ? 'admin' : null,
    devices: Object.values(all).reduce((a, b) => a + b, 0),
    stages: all,
    outcomes,
  };
};

const live = (...stages: Delivery['stage'][]): Occurrence => ({
  id: 'o',
  communeId: 'default',
  title: 'o',
  priority: 'normal',
  startAt: '2025-11-23T10:00:00Z',
  durationMs: 1000,
  sha256: 'x',
  engine: null,
  stoppedAt: null,
  stoppedBy: null,
  deliveries: stages.map((stage, i) => ({ deviceId: `d${i}`, stage, at: null, detail: null })),
});

describe('recent broadcast progress', () => {
  it('reads the server’s counts', () => {
    expect(recentProgress(summary({ finished: 2, failed: 1, started: 1 }))).toEqual({
      devices: 4,
      finished: 2,
      failed: 1,
      missed: 0,
      stopped: 0,
      done: false,
    });
    expect(recentProgress(summary({ finished: 2, skipped: 1 })).done).toBe(true);
    expect(recentProgress(summary({})).done).toBe(false); // no loudspeakers: nothing to be done
  });

  it('takes the live picture when it got further, and ignores a stale one', () => {
    const listed = summary({ finished: 1, started: 2 });
    expect(recentProgress(listed, live('finished', 'finished', 'failed'), START + 10_000)).toEqual({
      devices: 3,
      finished: 2,
      failed: 1,
      missed: 0,
      stopped: 0,
      done: true,
    });
    expect(recentProgress(listed, live('started', 'started', 'pending'), START + 10_000)).toMatchObject({
      finished: 1,
    });
    expect(recentProgress(listed, null)).toMatchObject({ finished: 1, devices: 3 });
  });

  it('counts loudspeakers that never started as missed, and a stopped broadcast apart from failures', () => {
    // 150 loudspeakers, 30 offline: an hour later the 30 are missed, not "waiting".
    const hourLater = { now: START + 3600_000 };
    expect(recentProgress(summary({ finished: 120, pending: 30 }, hourLater))).toMatchObject({
      finished: 120,
      failed: 0,
      missed: 30,
    });
    expect(
      recentProgress(summary({ finished: 1, preempted: 1, pending: 1 }, { ...hourLater, stopped: true })),
    ).toMatchObject({ finished: 1, failed: 0, missed: 0, stopped: 2 });
  });
});

describe('recent list order', () => {
  it('puts what plays or just played first (newest first), then what is coming (soonest first)', () => {
    const now = START;
    const at = (min: number) => ({ id: `t${min}`, startAt: new Date(now + min * 60_000).toISOString() });
    const { aired, upcoming } = splitRecent([at(24 * 60), at(-5), at(30), at(-60), at(0)], now);
    expect(aired.map((i) => i.id)).toEqual(['t0', 't-5', 't-60']);
    expect(upcoming.map((i) => i.id)).toEqual(['t30', 't1440']);
  });
});
