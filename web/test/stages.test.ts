import { describe, expect, it } from 'vitest';
import type { Delivery, DeliveryStage } from '../src/lib/api';
import { mergeDelivery, mergeOccurrence, summarise } from '../src/lib/stages';

const d = (deviceId: string, stage: DeliveryStage, detail: string | null = null): Delivery => ({
  deviceId,
  stage,
  at: stage === 'pending' ? null : '2025-11-23T10:00:00Z',
  detail,
});

describe('mergeDelivery', () => {
  it.each<[DeliveryStage, DeliveryStage, DeliveryStage]>([
    ['pending', 'received', 'received'],
    ['ready', 'started', 'started'],
    ['finished', 'started', 'finished'],
    ['started', 'failed', 'failed'],
    ['failed', 'finished', 'failed'],
    ['started', 'preempted', 'preempted'],
  ])('%s then %s shows %s', (first, next, shown) => {
    expect(mergeDelivery([d('a', first)], d('a', next))[0]!.stage).toBe(shown);
  });

  it('adds a device it did not know', () => {
    expect(mergeDelivery([d('a', 'ready')], d('b', 'received')).map((x) => x.deviceId)).toEqual(['a', 'b']);
  });

  it('keeps the same array when nothing changes', () => {
    const list = [d('a', 'ready')];
    expect(mergeDelivery(list, d('a', 'received'))).toBe(list);
    expect(mergeDelivery(list, d('a', 'ready'))).toBe(list);
  });
});

describe('mergeOccurrence', () => {
  it('never lets a stale fetch undo live progress', () => {
    const known = {
      id: 'o',
      startAt: '',
      communeId: 'default',
      title: 't',
      priority: 'normal' as const,
      durationMs: 1000,
      sha256: 'x',
      engine: null,
      stoppedAt: null,
      stoppedBy: null,
      deliveries: [d('a', 'finished')],
    };
    const fetched = { ...known, deliveries: [d('a', 'started'), d('b', 'pending')] };
    expect(mergeOccurrence(known, fetched).deliveries.map((x) => x.stage)).toEqual(['finished', 'pending']);
  });
});

describe('summarise', () => {
  it('counts finished, failed, playing and settled', () => {
    const summary = summarise([
      d('a', 'finished'),
      d('b', 'finished'),
      d('c', 'started'),
      d('d', 'failed', 'no audio device'),
      d('e', 'pending'),
    ]);
    expect(summary).toMatchObject({ total: 5, finished: 2, failed: 1, playing: 1, settled: 3, done: false });
  });

  it('is done when every delivery is final', () => {
    expect(summarise([d('a', 'finished'), d('b', 'skipped'), d('c', 'preempted')]).done).toBe(true);
    expect(summarise([]).done).toBe(false);
  });
});
