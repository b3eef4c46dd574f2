import { describe, expect, it } from 'vitest';
import type { PlanItem } from '@loaxa/protocol';
import type { OccurrencePhase } from '../occurrence/occurrence-runner';
import { acceptsPlan, diffPlan, type HeldItem } from './plan-diff';

const sha = 'b'.repeat(64);
const item = (occurrenceId: string, startAt = 1000): PlanItem => ({
  occurrenceId,
  startAt,
  priority: 'normal',
  assets: [{ sha256: sha, url: `/media/${sha}.ogg`, bytes: 1, durationMs: 100, format: 'ogg' }],
});
const held = (...entries: [PlanItem, OccurrencePhase][]) =>
  new Map<string, HeldItem>(entries.map(([i, phase]) => [i.occurrenceId, { item: i, phase }]));

describe('acceptsPlan', () => {
  it.each([
    ['nothing held', null, { version: 0, epoch: 'a' }, true],
    ['same version, same epoch', { version: 3, epoch: 'a' }, { version: 3, epoch: 'a' }, true],
    ['newer, same epoch', { version: 3, epoch: 'a' }, { version: 4, epoch: 'a' }, true],
    ['older, same epoch', { version: 3, epoch: 'a' }, { version: 2, epoch: 'a' }, false],
    // A restored database restarts the counters: its plans must still land.
    ['older, another epoch', { version: 900, epoch: 'a' }, { version: 5, epoch: 'b' }, true],
    ['older, first epoch after an old server', { version: 900 }, { version: 5, epoch: 'b' }, true],
    ['older, no epoch on either', { version: 3 }, { version: 2 }, false],
  ])('%s', (_name, held, incoming, expected) => {
    expect(acceptsPlan(held, incoming)).toBe(expected);
  });
});

describe('diffPlan', () => {
  it.each([
    {
      name: 'new item is scheduled',
      held: held(),
      items: [item('a')],
      changes: [{ kind: 'schedule', item: item('a') }],
    },
    { name: 'identical item is left alone', held: held([item('a'), 'pending']), items: [item('a')], changes: [] },
    {
      name: 'changed pending item is rescheduled',
      held: held([item('a'), 'pending']),
      items: [item('a', 2000)],
      changes: [{ kind: 'reschedule', item: item('a', 2000) }],
    },
    {
      name: 'changed started item is not touched',
      held: held([item('a'), 'started']),
      items: [item('a', 2000)],
      changes: [],
    },
    {
      name: 'removed pending item is cancelled',
      held: held([item('a'), 'pending']),
      items: [],
      changes: [{ kind: 'cancel', occurrenceId: 'a' }],
    },
    { name: 'removed playing item keeps playing', held: held([item('a'), 'started']), items: [], changes: [] },
    {
      name: 'removed finished item is forgotten',
      held: held([item('a'), 'done']),
      items: [],
      changes: [{ kind: 'forget', occurrenceId: 'a' }],
    },
    {
      name: 'finished item still planned is remembered',
      held: held([item('a'), 'done']),
      items: [item('a')],
      changes: [],
    },
  ])('$name', ({ held: h, items, changes }) => {
    expect(diffPlan(h, items)).toEqual(changes);
  });
});
