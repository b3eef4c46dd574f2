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

describe('a language version after the one before it', () => {
  const after = (occurrenceId: string, priority: Priority, before: string, seq: number): Contender => ({
    ...c(occurrenceId, priority, 0, seq),
    after: before,
  });

  it('waits for the version it follows even as an emergency, and preempts anything else', () => {
    expect(admit(c('vi', 'emergency'), after('hmn', 'emergency', 'vi', 2))).toBe('wait');
    expect(admit(c('vi', 'normal'), after('hmn', 'normal', 'vi', 2))).toBe('wait');
    expect(admit(c('other', 'normal'), after('hmn', 'emergency', 'vi', 2))).toBe('preempt');
  });

  it('is not next while the version it follows waits, whatever its priority or arrival', () => {
    expect(nextInLine([after('hmn', 'emergency', 'vi', 2), c('vi', 'emergency', 0, 1)])).toBe(1);
    expect(nextInLine([after('hmn', 'emergency', 'vi', 2), c('x', 'normal', 0, 3)])).toBe(0);
    expect(nextInLine([after('hmn', 'normal', 'vi', 1)])).toBe(0);
  });
});
