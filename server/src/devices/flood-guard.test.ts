import { describe, expect, it } from 'vitest';
import { FloodGuard } from './flood-guard';

describe('FloodGuard', () => {
  const opts = { ratePerS: 10, burst: 5, disconnectAfterDrops: 3, windowMs: 1000 };

  it('lets a burst through, then the sustained rate', () => {
    const g = new FloodGuard(opts);
    const verdicts = Array.from({ length: 6 }, () => g.check('d', 0));
    expect(verdicts).toEqual(['accept', 'accept', 'accept', 'accept', 'accept', 'drop']);
    expect(g.check('d', 100)).toBe('accept'); // 100 ms at 10/s refills one token
    expect(g.check('d', 100)).toBe('drop');
  });

  it('disconnects a device that keeps flooding, and counts per device', () => {
    const g = new FloodGuard(opts);
    for (let i = 0; i < 5; i++) g.check('d', 0);
    expect([g.check('d', 0), g.check('d', 0), g.check('d', 0)]).toEqual(['drop', 'drop', 'disconnect']);
    expect(g.check('other', 0)).toBe('accept');
  });

  it('starts a fresh window of drops', () => {
    const g = new FloodGuard(opts);
    for (let i = 0; i < 7; i++) g.check('d', 0);
    expect(g.drops('d')).toBe(2);
    g.check('d', 1500);
    expect(g.drops('d')).toBe(0);
  });
});
