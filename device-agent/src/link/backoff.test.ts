import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it.each([
    [0, 1, 999],
    [1, 1, 1_999],
    [3, 1, 7_999],
    [6, 1, 59_999],
    [40, 1, 59_999],
    [5, 0, 0],
  ])('attempt %i with random %f waits %i ms', (attempt, r, expected) => {
    expect(backoffDelay(attempt, { baseMs: 1000, maxMs: 60_000 }, () => r * 0.99999999)).toBe(expected);
  });
});
