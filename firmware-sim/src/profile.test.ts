import { describe, expect, it } from 'vitest';
import { startProfile, summarise } from './profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

describe('CPU profile summary', () => {
  it('ranks functions by self time and reports the idle share', () => {
    const summary = summarise(
      {
        nodes: [
          { id: 1, callFrame: frame('(root)') },
          { id: 2, callFrame: frame('(idle)') },
          { id: 3, callFrame: frame('record', 'file:///repo/server/src/devices/acks.ts', 16) },
          { id: 4, callFrame: frame('publish', 'file:///repo/node_modules/aedes/lib/handlers/publish.js', 40) },
        ],
        samples: [2, 3, 3, 3, 4, 2, 3, 4],
        timeDeltas: [500, 500, 500, 500, 500, 500, 500, 500],
        startTime: 0,
        endTime: 4000,
      },
      5,
    );
    expect(summary.windowMs).toBe(4);
    expect(summary.idlePercent).toBe(25);
    expect(summary.top.map((r) => r.fn)).toEqual([
      'record (server/src/devices/acks.ts)',
      'publish (aedes/lib/handlers/publish.js:41)',
    ]);
    expect(summary.top[0]).toMatchObject({ selfMs: 2, percent: 50 });
  });

  it('profiles this process over a window', async () => {
    const stop = await startProfile();
    const until = Date.now() + 50;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const summary = await stop(3);
    expect(x).toBeGreaterThan(0);
    expect(summary.windowMs).toBeGreaterThanOrEqual(40);
    expect(summary.top.length).toBeGreaterThan(0);
  });
});
