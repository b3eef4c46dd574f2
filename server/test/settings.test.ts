/**
 * The settings API over HTTP against the real server (real SQLite, espeak-ng
 * and ffmpeg): the loudness target reaches new renders, the engine order and
 * keys reach the fallback chain without a restart (FPT.AI as a local fake),
 * keys never come back out, and everything survives a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendBytes, sendJson, startFakeVendor, testAudio, type FakeVendor } from '../src/tts/adapters/test-support';
import { startTestServer, type TestServer } from './helpers';

const GOOD_KEY = 'fpt-key-0f3a9c-very-secret';
const OTHER_SECRET = 'zalo-key-77d1-also-secret';

let server: TestServer;
let restarted: TestServer | null = null;
let fpt: FakeVendor;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // FPT.AI answers with an async link that is ready at once; a wrong key gets 401.
  fpt = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/hmi/tts/v5') {
      if (req.headers['api_key'] !== GOOD_KEY) return sendJson(res, 401, { message: 'invalid api key' });
      return sendJson(res, 200, { async: `${fpt.url}/audio/a.mp3`, error: 0, request_id: 'r' });
    }
    if (req.method === 'GET' && req.url === '/audio/a.mp3') return sendBytes(res, 'audio/mpeg', testAudio().mp3);
    sendJson(res, 404, { message: 'no route' });
  });
  // The server reads the TTS environment from process.env; this file runs in its own process.
  delete process.env.LOAXA_TTS_ENGINES;
  process.env.LOAXA_TTS_FPT_BASE_URL = fpt.url;
  process.env.LOAXA_TTS_FPT_RETRIES = '0';
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
  await restarted?.close();
  await fpt?.close();
  process.env = savedEnv;
});

interface View {
  loudness: { integratedLufs: number; truePeakDb: number; source: string; updatedBy: string | null };
  engines: { order: string[]; source: string; available: { id: string; ready: boolean; problem: string | null }[] };
  credentials: Record<string, Record<string, { set?: boolean; value?: string | null; source: string | null }>>;
}
interface Preview {
  sha256: string;
  engine: string;
  fallback: boolean;
  cached: boolean;
  integratedLufs: number;
}
interface ErrorBody {
  message: string;
  field?: string;
}

const preview = async (target: TestServer, text: string) => {
  const res = await target.api<Preview>('POST', '/api/v1/tts/preview', { text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

describe('settings', () => {
  it('shows the defaults: built-in loudness, the environment’s engines, no keys', async () => {
    const { status, body } = await server.api<View>('GET', '/api/v1/settings');
    expect(status).toBe(200);
    expect(body.loudness).toMatchObject({ integratedLufs: -16, truePeakDb: -1.5, source: 'default', updatedBy: null });
    expect(body.engines).toMatchObject({ order: ['espeak'], source: 'default' });
    expect(body.engines.available.find((e) => e.id === 'espeak')).toEqual({ id: 'espeak', ready: true, problem: null });
    expect(body.engines.available.find((e) => e.id === 'fpt')).toMatchObject({
      ready: false,
      problem: expect.stringMatching(/apiKey: is required/),
    });
    expect(body.credentials.fpt!.apiKey).toMatchObject({ set: false, source: null });
    expect(body.credentials.azure!.region).toMatchObject({ value: null, source: null });
  });

  it('renders new audio at a new loudness target, not the cached render of the old one', async () => {
    const text = 'Thông báo: chiều nay họp thôn lúc 14 giờ.';
    const before = await preview(server, text);
    expect(Math.abs(before.integratedLufs + 16)).toBeLessThanOrEqual(1);

    const put = await server.api<View>('PUT', '/api/v1/settings', { loudness: { integratedLufs: -20 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.loudness).toMatchObject({
      integratedLufs: -20,
      truePeakDb: -1.5,
      source: 'saved',
      updatedBy: 'admin',
    });

    const after = await preview(server, text);
    expect(after.cached).toBe(false);
    expect(after.sha256).not.toBe(before.sha256);
    expect(Math.abs(after.integratedLufs + 20)).toBeLessThanOrEqual(1);
    expect((await preview(server, text)).cached).toBe(true);
  });

  it('puts FPT.AI first once its key is saved, and falls back to espeak when the key is wrong', async () => {
    const put = await server.api<View>('PUT', '/api/v1/settings', {
      engines: ['fpt', 'espeak'],
      credentials: { fpt: { apiKey: GOOD_KEY }, zalo: { apiKey: OTHER_SECRET } },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'saved' });
    expect(put.body.credentials.fpt!.apiKey).toMatchObject({ set: true, source: 'saved' });

    const engines = await server.api<{ engines: { id: string; primary: boolean }[] }>('GET', '/api/v1/tts/engines');
    expect(engines.body.engines.map((e) => [e.id, e.primary])).toEqual([
      ['fpt', true],
      ['espeak', false],
    ]);
    const spoken = await preview(server, 'Bà con chú ý nghe thông báo.');
    expect(spoken).toMatchObject({ engine: 'fpt', fallback: false, cached: false });
    expect(fpt.hits('/hmi/tts/v5').at(-1)!.headers['api_key']).toBe(GOOD_KEY);

    const tested = await server.api('POST', '/api/v1/tts/engines/fpt/test');
    expect(tested.body).toMatchObject({ engine: 'fpt', ok: true, error: null });

    await server.api('PUT', '/api/v1/settings', { credentials: { fpt: { apiKey: 'wrong-key' } } });
    const fellBack = await preview(server, 'Bà con chú ý nghe thông báo lần hai.');
    expect(fellBack).toMatchObject({ engine: 'espeak', fallback: true });
    const failed = await server.api('POST', '/api/v1/tts/engines/fpt/test');
    expect(failed.body).toMatchObject({
      engine: 'fpt',
      ok: false,
      durationMs: null,
      error: 'FPT.AI: 401 invalid api key',
    });
    const missing = await server.api('POST', '/api/v1/tts/engines/google/test');
    expect(missing.body).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not configured: apiKey: is required/),
    });
    expect((await server.api('POST', '/api/v1/tts/engines/nope/test')).status).toBe(404);

    expect((await server.api('PUT', '/api/v1/settings', { credentials: { fpt: { apiKey: GOOD_KEY } } })).status).toBe(
      200,
    );
  });

  it('never gives a key back: not in GET, not in the audit log', async () => {
    const view = await server.api('GET', '/api/v1/settings');
    const audit = await server.api<{ action: string; detail: Record<string, unknown> }[]>(
      'GET',
      '/api/v1/audit?action=settings.update',
    );
    const csv = await fetch(`${server.url}/api/v1/audit?format=csv`, { headers: { cookie: server.cookie } });
    for (const text of [JSON.stringify(view.body), JSON.stringify(audit.body), await csv.text()]) {
      expect(text).not.toContain(GOOD_KEY);
      expect(text).not.toContain(OTHER_SECRET);
      expect(text).not.toContain('wrong-key');
    }
    expect(audit.body.map((e) => e.detail)).toContainEqual({
      engines: ['fpt', 'espeak'],
      'credentials.fpt.apiKey': 'set',
      'credentials.zalo.apiKey': 'set',
    });
    expect(audit.body.map((e) => e.detail)).toContainEqual({ loudness: { integratedLufs: -20, truePeakDb: -1.5 } });
    // Keys are stored in clear in the database: the SQLite file is for the server's user only
    // (PostgreSQL's data directory is its own server's, mode 0700).
    if (!server.services.config.databaseUrl) {
      expect(fs.statSync(path.join(server.dataDir, 'loaxa.sqlite')).mode & 0o777).toBe(0o600);
    }
  });

  it('names the wrong field, and saves nothing', async () => {
    const before = await server.api<View>('GET', '/api/v1/settings');
    const cases: [unknown, string, RegExp][] = [
      [{ loudness: { integratedLufs: -40 } }, 'loudness.integratedLufs', /must be >= -30/],
      [{ loudness: { integratedLufs: -5 } }, 'loudness.integratedLufs', /must be <= -10/],
      [{ loudness: { truePeakDb: 1 } }, 'loudness.truePeakDb', /must be <= 0/],
      [{ loudness: { integratedLufs: 'loud' } }, 'loudness.integratedLufs', /number/],
      [{ engines: [] }, 'engines', /fewer than 1/],
      [{ engines: ['espeak', 'nope'] }, 'engines.1', /not a TTS engine/],
      [
        { engines: ['google', 'espeak'] },
        'credentials.google.apiKey',
        /is required while google is in the engine order/,
      ],
      [{ credentials: { fpt: { apiKey: '   ' } } }, 'credentials.fpt.apiKey', /blank/],
      [{ credentials: { fpt: { apiKey: null } } }, 'credentials.fpt.apiKey', /is required while fpt/],
      [{ credentials: { azure: { region: 'South East' } } }, 'credentials.azure.region', /pattern/],
      [{ credentials: { piper: { apiKey: 'x' } } }, 'piper', /not a known field/],
      [{ volume: 3 }, 'volume', /not a known field/],
    ];
    for (const [body, field, message] of cases) {
      const res = await server.api<ErrorBody>('PUT', '/api/v1/settings', body);
      expect([res.status, res.body.field], JSON.stringify(body)).toEqual([400, field]);
      expect(res.body.message, JSON.stringify(body)).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: `));
      expect(res.body.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await server.api<View>('GET', '/api/v1/settings')).body).toEqual(before.body);
  });

  it('lets only leaders read or change settings, and editors keep the dictionary', async () => {
    const password = 'password-123';
    for (const role of ['viewer', 'technician', 'editor'] as const) {
      await server.api('POST', '/api/v1/users', { username: `s-${role}`, password, role });
      const login = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `s-${role}`, password }),
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const call = (method: string, url: string, body?: unknown) =>
        fetch(`${server.url}${url}`, {
          method,
          headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }).then((r) => r.status);
      // Engines, keys and loudness are the leaders' (admin, approver); an editor keeps the dictionary.
      const dictionary = role === 'editor' ? [200, 204] : [403, 403];
      expect(
        [
          await call('GET', '/api/v1/settings'),
          await call('PUT', '/api/v1/settings', { loudness: { truePeakDb: -1.5 } }),
          await call('POST', '/api/v1/tts/engines/espeak/test'),
          await call('PUT', `/api/v1/dictionary/UB${role}`, { expansion: 'ủy ban' }),
          await call('DELETE', `/api/v1/dictionary/UB${role}`),
        ],
        role,
      ).toEqual([403, 403, 403, ...dictionary]);
    }
  });

  it('keeps the settings across a restart, and clearing them brings back the environment’s', async () => {
    await server.close();
    restarted = await startTestServer({ LOAXA_DATA: server.dataDir });
    const view = await restarted.api<View>('GET', '/api/v1/settings');
    expect(view.body.loudness).toMatchObject({ integratedLufs: -20, source: 'saved' });
    expect(view.body.engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'saved' });
    expect(view.body.credentials.fpt!.apiKey).toMatchObject({ set: true, source: 'saved' });
    const spoken = await preview(restarted, 'Sau khi khởi động lại, bà con chú ý.');
    expect(spoken).toMatchObject({ engine: 'fpt', fallback: false });
    expect(Math.abs(spoken.integratedLufs + 20)).toBeLessThanOrEqual(1);

    const cleared = await restarted.api<View>('PUT', '/api/v1/settings', {
      loudness: null,
      engines: null,
      credentials: { fpt: { apiKey: null }, zalo: { apiKey: null } },
    });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body.loudness).toMatchObject({ integratedLufs: -16, source: 'default' });
    expect(cleared.body.engines).toMatchObject({ order: ['espeak'], source: 'default' });
    expect(cleared.body.credentials.fpt!.apiKey).toMatchObject({ set: false, source: null });
    expect((await preview(restarted, 'Sau khi khởi động lại, bà con chú ý.')).engine).toBe('espeak');
  });
});
