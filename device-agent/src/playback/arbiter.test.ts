import { describe, expect, it } from 'vitest';
import type { Priority } from '@loaxa/protocol';
import { admit, nextInLine, type Contender } from './arbiter';

const c = (occurrenceId: string, priority: Priority, startAt = 0, seq = 0): Contender => ({
  occurrenceId,
  priority,
  startAt,
  seq,
});

describe('admit', () => {
  it.each([
    [null, 'normal', 'start'],
    [null, 'emergency', 'start'],
    ['normal', 'normal', 'wait'],
    ['normal', 'priority', 'wait'],
    ['normal', 'emergency', 'preempt'],
    ['priority', 'emergency', 'preempt'],
    ['emergency', 'emergency', 'preempt'],
    ['emergency', 'priority', 'wait'],
    ['emergency', 'normal', 'wait'],
  ] as const)('current %s, incoming %s → %s', (current, incoming, expected) => {
    expect(admit(current ? c('cur', current) : null, c('new', incoming))).toBe(expected);
  });
});

describe('nextInLine', () => {
  it.each([
    { waiting: [], next: -1 },
    { waiting: [c('a', 'normal', 20, 1), c('b', 'normal', 10, 2)], next: 1 },
    { waiting: [c('a', 'normal', 10, 2), c('b', 'normal', 10, 1)], next: 1 },
    { waiting: [c('a', 'normal', 0, 1), c('b', 'priority', 50, 2)], next: 1 },
    { waiting: [c('a', 'priority', 0, 1), c('b', 'emergency', 50, 2), c('c', 'normal', 0, 3)], next: 1 },
    { waiting: [c('a', 'emergency', 0, 1), c('b', 'emergency', 0, 2)], next: 1 },
  ])('picks $next', ({ waiting, next }) => {
    expect(nextInLine(waiting)).toBe(next);
  });
});
