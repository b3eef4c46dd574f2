/**
 * Disk budget over time: a node with a small `cacheBudgetBytes` gets notice
 * after notice from the real server. Each new download evicts the least
 * recently used audio that no plan item needs any more; a notice planned for
 * later (the oldest file in the cache) is never evicted; telemetry reports
 * what the cache holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { startNode, type TestNode } from './in-process';

const TEXTS = {
  later: 'Thông báo lịch tiêm chủng tuần sau cho trẻ em dưới năm tuổi.',
  a: 'Thông báo thứ nhất về vệ sinh môi trường.',
  b: 'Thông báo thứ hai về phòng chống cháy rừng.',
  c: 'Thông báo thứ ba về lịch họp thôn tối nay.',
  d: 'Thông báo thứ tư về thu gom rác thải.',
};
type Key = keyof typeof TEXTS;

let server: TestServer;
let node: TestNode | undefined;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await node?.agent.stop();
  await server?.close();
});

interface Occurrence {
  sha256: string;
  deliveries: { deviceId: string; stage: string }[];
}

describe('audio cache within its disk budget', () => {
  it('evicts least recently used finished audio, keeps planned audio, reports cache use', async () => {
    // Render first (the server caches renders by text), so the budget can be set from real sizes.
    const assets = {} as Record<Key, { sha256: string; bytes: number }>;
    for (const key of Object.keys(TEXTS) as Key[]) {
      const { sha256, bytes } = await server.services.renderer.render({ text: TEXTS[key] });
      assets[key] = { sha256, bytes };
    }
    const others = (['a', 'b', 'c', 'd'] as const).map((k) => assets[k].bytes).sort((x, y) => x - y);
    // Room for the planned notice and any two others, never three.
    const budget = assets.later.bytes + others[3]! + others[2]!;
    expect(assets.later.bytes + others[0]! + others[1]! + others[2]!).toBeGreaterThan(budget);

    node = await startNode(server, 'loa-budget', { config: { cacheBudgetBytes: budget, telemetryIntervalMs: 1_000 } });
    await waitFor('online', () => node!.agent.online, 15_000);
    const cached = () =>
      new Set(
        fs
          .readdirSync(path.join(node!.dataDir, 'cache'))
          .filter((f) => f.endsWith('.ogg'))
          .map((f) => f.slice(0, 64)),
      );
    const shaOf = (key: Key) => assets[key].sha256;
    const broadcast = async (key: Key, at: number) => {
      const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
        text: TEXTS[key],
        zones: ['thon-1'],
        at: new Date(at).toISOString(),
      });
      expect(res.status).toBe(201);
      return res.body.occurrenceId;
    };
    const stageOf = async (occurrenceId: string) =>
      (await server.api<Occurrence>('GET', `/api/v1/occurrences/${occurrenceId}`)).body.deliveries[0]?.stage;

    // Planned for an hour from now: downloaded at once, then the least recently used file for the whole test.
    const later = await broadcast('later', Date.now() + 3_600_000);
    await waitFor('the later notice ready', async () => (await stageOf(later)) === 'ready', 20_000);
    expect((await server.api<Occurrence>('GET', `/api/v1/occurrences/${later}`)).body.sha256).toBe(shaOf('later'));

    const seen: Set<string>[] = [];
    for (const key of ['a', 'b', 'c', 'd'] as const) {
      const id = await broadcast(key, Date.now() + 2_000);
      await waitFor(`${key} finished`, async () => (await stageOf(id)) === 'finished', 30_000);
      seen.push(cached());
    }
    const has = (set: Set<string>, ...keys: Key[]) => keys.map((k) => set.has(shaOf(k)));
    // After a and b: everything fits.
    expect(has(seen[1]!, 'later', 'a', 'b')).toEqual([true, true, true]);
    // c's arrival evicts a (least recently used, no longer planned), not b, and never the planned notice.
    expect(has(seen[2]!, 'later', 'a', 'b', 'c')).toEqual([true, false, true, true]);
    // d's arrival evicts b.
    expect(has(seen[3]!, 'later', 'b', 'c', 'd')).toEqual([true, false, true, true]);
    expect(node.plays().map((p) => p.sha256)).toEqual((['a', 'b', 'c', 'd'] as const).map(shaOf));
    expect(await stageOf(later)).toBe('ready');

    const expected = assets.later.bytes + assets.c.bytes + assets.d.bytes;
    expect(expected).toBeLessThanOrEqual(budget);
    const telemetry = await waitFor(
      'telemetry with the cache use',
      () => {
        const t = server.services.telemetry.get('loa-budget');
        return t?.cacheBytes === expected ? t : null;
      },
      10_000,
    );
    expect(telemetry.cacheBytes).toBe(expected);
    console.info(
      `cache budget ${budget} B; held ${expected} B (planned ${assets.later.bytes} B + 2 most recent); evicted a then b`,
    );
  }, 120_000);
});
