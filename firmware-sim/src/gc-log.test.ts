import { describe, expect, it } from 'vitest';
import { startGcLog } from './gc-log';

describe('startGcLog', () => {
  it('records a collection forced in a window, and none outside it', async () => {
    const log = startGcLog();
    try {
      // Allocate enough short-lived objects that the young generation is collected at least once.
      const from = Date.now();
      let keep: unknown[] = [];
      for (let i = 0; i < 2_000_000; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 10_000) keep = [];
      }
      const to = Date.now();
      // Observer entries are delivered after the work, on a later turn.
      for (let i = 0; i < 50 && log.between(from, to).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const pauses = log.between(from, to);
      expect(pauses.length).toBeGreaterThan(0);
      expect(pauses.some((p) => p.kind === 'young')).toBe(true);
      for (const p of pauses) {
        expect(p.ms).toBeGreaterThan(0);
        expect(p.at).toBeGreaterThanOrEqual(from - 1_000);
      }
      expect(log.between(from - 60_000, from - 30_000)).toEqual([]);
    } finally {
      log.stop();
    }
  });
});
