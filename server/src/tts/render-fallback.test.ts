/**
 * A render made by a fallback engine is not cached as the preferred engine's:
 * FPT.AI (a local fake speaking its documented API) fails, espeak speaks, and
 * the next render of the same notice asks FPT.AI again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { sqliteSql } from '../db/sql';
import { MediaStore } from '../media/store';
import { FAST, sendBytes, sendJson, startFakeVendor, testAudio, type FakeVendor } from './adapters/test-support';
import { createTtsRegistry } from './registry';
import { NoticeRenderer } from './render';

let dir: string;
let db: Db;
let fake: FakeVendor;
let fptUp = false;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-render-fallback-'));
  db = openDatabase(dir);
  fake = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/hmi/tts/v5') {
      if (!fptUp) return sendJson(res, 500, { message: 'Internal Server Error' });
      return sendJson(res, 200, { async: `${fake.url}/audio/a.mp3`, error: 0, message: 'ok', request_id: 'r' });
    }
    if (req.method === 'GET' && req.url === '/audio/a.mp3') return sendBytes(res, 'audio/mpeg', testAudio().mp3);
    sendJson(res, 404, { message: 'no route' });
  });
});
afterAll(async () => {
  await fake.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('NoticeRenderer with a fallback chain', () => {
  it('records the engine that spoke and does not cache a fallback render', async () => {
    const registry = createTtsRegistry({
      engines: [{ id: 'fpt', apiKey: 'k', baseUrl: fake.url, ...FAST, retries: 0 }, { id: 'espeak' }],
    });
    const renderer = new NoticeRenderer(sqliteSql(db), new MediaStore(dir, sqliteSql(db)), registry.asAdapter());
    const notice = { text: 'Xin chào bà con.', chime: false };

    const degraded = await renderer.render(notice);
    expect(degraded).toMatchObject({ engine: 'espeak', fallback: true, cached: false });
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(1);
    const rows = () => db.prepare('SELECT engine FROM renders').all() as { engine: string }[];
    expect(rows()).toEqual([]);

    // FPT.AI is still down: asked again (not served from cache), espeak speaks again.
    const stillDown = await renderer.render(notice);
    expect(stillDown).toMatchObject({ engine: 'espeak', fallback: true, cached: false });
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(2);

    fptUp = true;
    const primary = await renderer.render(notice);
    expect(primary).toMatchObject({ engine: 'fpt', fallback: false, cached: false });
    expect(primary.sha256).not.toBe(degraded.sha256);
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(3);
    expect(rows()).toEqual([{ engine: 'fpt' }]);

    // The preferred engine's render is cached; FPT.AI is not asked a fourth time.
    const again = await renderer.render(notice);
    expect(again).toMatchObject({ sha256: primary.sha256, engine: 'fpt', fallback: false, cached: true });
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(3);
  });

  it('tries a requested engine first, and keys the cache on it', async () => {
    fptUp = true;
    const registry = createTtsRegistry({
      engines: [{ id: 'fpt', apiKey: 'k', baseUrl: fake.url, ...FAST, retries: 0 }, { id: 'espeak' }],
    });
    const renderer = new NoticeRenderer(sqliteSql(db), new MediaStore(dir, sqliteSql(db)), registry.asAdapter());
    const before = fake.hits('/hmi/tts/v5').length;
    const viaEspeak = await renderer.render({ text: 'Họp thôn lúc bảy giờ.', chime: false, engine: 'espeak' });
    expect(viaEspeak).toMatchObject({ engine: 'espeak', fallback: false, cached: false });
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(before);
    expect(await renderer.cacheKey({ text: 'Họp thôn lúc bảy giờ.', chime: false, engine: 'espeak' })).not.toBe(
      await renderer.cacheKey({ text: 'Họp thôn lúc bảy giờ.', chime: false }),
    );
    await expect(renderer.render({ text: 'a', engine: 'vbee' })).rejects.toThrow(/"vbee" is not configured/);
  });
});
