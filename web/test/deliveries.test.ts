import { describe, expect, it } from 'vitest';
import type { Delivery, Occurrence, OccurrenceSummary } from '../src/lib/api';
import { recentProgress } from '../src/pages/deliveries';

const NO_STAGES = { pending: 0, received: 0, ready: 0, started: 0, finished: 0, failed: 0, skipped: 0, preempted: 0 };

const summary = (stages: Partial<OccurrenceSummary['stages']>): OccurrenceSummary => {
  const all = { ...NO_STAGES, ...stages };
  return {
    id: 'o',
    title: 'o',
    priority: 'normal',
    startAt: '2025-11-23T10:00:00Z',
    durationMs: 1000,
    scheduleId: null,
    cancelled: false,
    stoppedAt: null,
    stoppedBy: null,
    devices: Object.values(all).reduce((a, b) => a + b, 0),
    stages: all,
  };
};

const live = (...stages: Delivery['stage'][]): Occurrence => ({
  id: 'o',
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
      done: false,
    });
    expect(recentProgress(summary({ finished: 2, skipped: 1 })).done).toBe(true);
    expect(recentProgress(summary({})).done).toBe(false); // no loudspeakers: nothing to be done
  });

  it('takes the live picture when it got further, and ignores a stale one', () => {
    const listed = summary({ finished: 1, started: 2 });
    expect(recentProgress(listed, live('finished', 'finished', 'failed'))).toEqual({
      devices: 3,
      finished: 2,
      failed: 1,
      done: true,
    });
    expect(recentProgress(listed, live('started', 'started', 'pending'))).toMatchObject({ finished: 1 });
    expect(recentProgress(listed, null)).toMatchObject({ finished: 1, devices: 3 });
  });
});
