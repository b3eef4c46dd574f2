import { describe, expect, it } from 'vitest';
import { FloodGuard } from './flood-guard';

describe('FloodGuard', () => {
  const opts = { ratePerS: 10, burst: 5 };

  it('lets a burst through, then the sustained rate', () => {
    const g = new FloodGuard(opts);
    const verdicts = Array.from({ length: 6 }, () => g.admit('d', 0));
    expect(verdicts).toEqual([true, true, true, true, true, false]);
    const h = new FloodGuard(opts);
    for (let i = 0; i < 5; i++) h.admit('d', 0);
    expect(h.admit('d', 100)).toBe(true); // 100 ms at 10/s refills one token
    expect(h.admit('d', 100)).toBe(false);
  });

  it('counts per device', () => {
    const g = new FloodGuard(opts);
    for (let i = 0; i < 6; i++) g.admit('d', 0);
    expect(g.admit('other', 0)).toBe(true);
  });

  it('gives a refused device a fresh bucket when it comes back', () => {
    const g = new FloodGuard(opts);
    for (let i = 0; i < 6; i++) g.admit('d', 0);
    expect(g.admit('d', 0)).toBe(true);
  });
});
