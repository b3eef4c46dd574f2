/**
 * Settings, the abbreviation dictionary and TTS rendering with two communes on
 * one server (real SQLite, espeak-ng and ffmpeg; FPT.AI as a local fake): each
 * commune's loudness target, engines and dictionary are its own, reach only its
 * own renders, and another commune's cannot be read or written.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../src/audio/ffmpeg';
import { sendBytes, sendJson, startFakeVendor, testAudio, type FakeVendor } from '../src/tts/adapters/test-support';
import { communeWithUser, signInProvince, startTestServer, type TestServer } from './helpers';

const FPT_KEY = 'fpt-key-of-commune-a';

let server: TestServer;
let fpt: FakeVendor;
let a: { id: string; api: TestServer['api'] };
let b: { id: string; api: TestServer['api'] };
let province: TestServer['api'];
const savedEnv = { ...process.env };

beforeAll(async () => {
  fpt = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/hmi/tts/v5') {
      if (req.headers['api_key'] !== FPT_KEY) return sendJson(res, 401, { message: 'invalid api key' });
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
  a = await communeWithUser(server, 'Xã Thuận An', 'admin');
  b = await communeWithUser(server, 'Xã Bình Minh', 'admin');
  province = await signInProvince(server);
});
afterAll(async () => {
  await server?.close();
  await fpt?.close();
  process.env = savedEnv;
});

interface View {
  loudness: { integratedLufs: number; source: string; updatedBy: string | null };
  engines: { order: string[]; source: string };
  credentials: Record<string, Record<string, { set?: boolean; source: string | null }>>;
}
interface Entries {
  entries: { abbreviation: string; expansion: string; source: string }[];
}
interface Preview {
  sha256: string;
  engine: string;
  cached: boolean;
  integratedLufs: number;
}
interface ErrorBody {
  message: string;
  field?: string;
}
interface AuditEntry {
  action: string;
  target: string | null;
  communeId: string | null;
  detail: Record<string, unknown> | null;
}

const normalize = async (api: TestServer['api'], text: string) => {
  const res = await api<{ text: string }>('POST', '/api/v1/tts/normalize', { text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.text;
};
const preview = async (api: TestServer['api'], body: Record<string, unknown>) => {
  const res = await api<Preview>('POST', '/api/v1/tts/preview', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const expectNoCommune = (res: { status: number; body: unknown }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(404);
  expect((res.body as ErrorBody).field).toBe('commune');
};

describe('settings per commune', () => {
  it('a change in one commune leaves the others’ settings as they were', async () => {
    const put = await a.api<View>('PUT', '/api/v1/settings', { loudness: { integratedLufs: -20 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.loudness).toMatchObject({ integratedLufs: -20, source: 'saved', updatedBy: `admin-${a.id}` });

    for (const api of [b.api, server.api]) {
      const view = await api<View>('GET', '/api/v1/settings');
      expect(view.status).toBe(200);
      expect(view.body.loudness).toMatchObject({ integratedLufs: -16, source: 'default', updatedBy: null });
    }
    expect((await a.api<View>('GET', '/api/v1/settings')).body.loudness.integratedLufs).toBe(-20);
  });

  it('renders each commune’s notice at its own loudness target, never from the other’s cached render', async () => {
    const text = 'Chiều nay họp thôn lúc 14 giờ.';
    const inA = await preview(a.api, { text });
    const inB = await preview(b.api, { text });
    expect(inB.sha256).not.toBe(inA.sha256);
    expect(inB.cached).toBe(false);
    expect(Math.abs(inA.integratedLufs + 20)).toBeLessThanOrEqual(1);
    expect(Math.abs(inB.integratedLufs + 16)).toBeLessThanOrEqual(1);
    // The renderer's entry points take the commune: its key differs with the target.
    const renderer = server.services.renderer;
    expect(await renderer.cacheKey({ text }, a.id)).not.toBe(await renderer.cacheKey({ text }, b.id));
    // B agrees with the default commune on everything: they share renders.
    expect(await renderer.cacheKey({ text }, b.id)).toBe(await renderer.cacheKey({ text }));
  });

  it('speaks with each commune’s own engines and keys', async () => {
    const put = await a.api<View>('PUT', '/api/v1/settings', {
      engines: ['fpt', 'espeak'],
      credentials: { fpt: { apiKey: FPT_KEY } },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'saved' });

    const bView = await b.api<View>('GET', '/api/v1/settings');
    expect(bView.body.engines).toMatchObject({ order: ['espeak'], source: 'default' });
    expect(bView.body.credentials.fpt!.apiKey).toMatchObject({ set: false, source: null });

    const enginesOf = async (api: TestServer['api']) =>
      (await api<{ engines: { id: string }[] }>('GET', '/api/v1/tts/engines')).body.engines.map((e) => e.id);
    expect(await enginesOf(a.api)).toEqual(['fpt', 'espeak']);
    expect(await enginesOf(b.api)).toEqual(['espeak']);
    expect(await enginesOf(server.api)).toEqual(['espeak']);

    const text = 'Bà con chú ý nghe thông báo.';
    expect(await preview(a.api, { text })).toMatchObject({ engine: 'fpt', cached: false });
    expect(fpt.hits('/hmi/tts/v5').at(-1)!.headers['api_key']).toBe(FPT_KEY);
    const hits = fpt.hits('/hmi/tts/v5').length;
    expect(await preview(b.api, { text })).toMatchObject({ engine: 'espeak', cached: false });
    expect(fpt.hits('/hmi/tts/v5')).toHaveLength(hits);
    // B has no FPT.AI engine to ask for.
    const refused = await b.api<ErrorBody>('POST', '/api/v1/tts/preview', { text, engine: 'fpt' });
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('engine');

    expect((await a.api('POST', '/api/v1/tts/engines/fpt/test')).body).toMatchObject({ ok: true, error: null });
    expect((await b.api('POST', '/api/v1/tts/engines/fpt/test')).body).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not configured: apiKey: is required/),
    });
  });
});

describe('dictionary per commune', () => {
  const text = 'Họp HTXTA lúc 8 giờ.';

  it('uses a commune’s entry for its own notices only', async () => {
    const before = await normalize(b.api, text);
    const put = await a.api<{ created: boolean }>('PUT', '/api/v1/dictionary/HTXTA', {
      expansion: 'hợp tác xã Thuận An',
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.created).toBe(true);

    expect(await normalize(a.api, text)).toContain('hợp tác xã Thuận An');
    expect(await normalize(b.api, text)).toBe(before);
    expect(await normalize(b.api, text)).not.toContain('Thuận An');
    expect(await normalize(server.api, text)).toBe(before);

    const own = (await a.api<Entries>('GET', '/api/v1/dictionary')).body.entries;
    expect(own).toContainEqual(expect.objectContaining({ abbreviation: 'HTXTA', source: 'commune' }));
    const others = (await b.api<Entries>('GET', '/api/v1/dictionary')).body.entries;
    expect(others.some((e) => e.abbreviation === 'HTXTA')).toBe(false);

    const renderer = server.services.renderer;
    expect(await renderer.spokenText(text, a.id)).toContain('Thuận An');
    expect(await renderer.spokenText(text, b.id)).toBe(before);
  });

  it('renders the same text differently in each commune, and B’s render does not say A’s words', async () => {
    // Both on espeak, so only the dictionary differs.
    expect((await a.api('PUT', '/api/v1/settings', { engines: null })).status).toBe(200);
    const inA = await preview(a.api, { text, engine: 'espeak' });
    const inB = await preview(b.api, { text, engine: 'espeak' });
    expect(inB.sha256).not.toBe(inA.sha256);
    expect(inB.cached).toBe(false);
    const renderer = server.services.renderer;
    expect(await renderer.cacheKey({ text }, a.id)).not.toBe(await renderer.cacheKey({ text }, b.id));
  });

  it('an entry of the same spelling in two communes keeps its own expansion in each', async () => {
    const put = await b.api('PUT', '/api/v1/dictionary/HTXTA', { expansion: 'hội tương xá tân an' });
    expect(put.status).toBe(200);
    expect(await normalize(a.api, text)).toContain('hợp tác xã Thuận An');
    expect(await normalize(b.api, text)).toContain('hội tương xá tân an');
    expect((await b.api('DELETE', '/api/v1/dictionary/HTXTA')).status).toBe(204);
    expect(await normalize(a.api, text)).toContain('hợp tác xã Thuận An');
    // B no longer has one: removing it again is 404, and A's stays.
    const again = await b.api<ErrorBody>('DELETE', '/api/v1/dictionary/HTXTA');
    expect(again.status).toBe(404);
    expect(again.body.field).toBe('abbreviation');
    expect(await normalize(a.api, text)).toContain('hợp tác xã Thuận An');
  });
});

describe('another commune’s settings and dictionary', () => {
  it('cannot be read or written by a commune user: 404 on `commune`', async () => {
    expectNoCommune(await b.api('GET', `/api/v1/settings?commune=${a.id}`));
    expectNoCommune(await b.api('PUT', '/api/v1/settings', { commune: a.id, loudness: { integratedLufs: -12 } }));
    expectNoCommune(await b.api('POST', `/api/v1/tts/engines/espeak/test?commune=${a.id}`));
    expectNoCommune(await b.api('GET', `/api/v1/dictionary?commune=${a.id}`));
    expectNoCommune(await b.api('PUT', '/api/v1/dictionary/HTXTA', { commune: a.id, expansion: 'bị đổi' }));
    expectNoCommune(await b.api('DELETE', `/api/v1/dictionary/HTXTA?commune=${a.id}`));
    expectNoCommune(await b.api('GET', `/api/v1/tts/engines?commune=${a.id}`));
    expectNoCommune(await b.api('POST', '/api/v1/tts/normalize', { text: 'HTXTA', commune: a.id }));
    expectNoCommune(await b.api('POST', '/api/v1/tts/preview', { text: 'HTXTA', commune: a.id }));
    // A commune that does not exist answers the same.
    const missing = await b.api<ErrorBody>('GET', '/api/v1/settings?commune=no-such-commune');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(
      (await b.api<ErrorBody>('GET', `/api/v1/settings?commune=${a.id}`)).body.message.replace(a.id, 'no-such-commune'),
    );

    // Naming one's own commune is fine.
    expect((await b.api('GET', `/api/v1/settings?commune=${b.id}`)).status).toBe(200);
    // Nothing of A's changed.
    expect((await a.api<View>('GET', '/api/v1/settings')).body.loudness.integratedLufs).toBe(-20);
    expect(await normalize(a.api, 'HTXTA')).toContain('hợp tác xã Thuận An');
  });

  it('each commune’s audit log holds its own changes, with the commune recorded', async () => {
    const mine = await a.api<AuditEntry[]>('GET', '/api/v1/audit');
    const theirs = await b.api<AuditEntry[]>('GET', '/api/v1/audit');
    expect(mine.body.filter((e) => e.action === 'dictionary.put')).toEqual([
      expect.objectContaining({ target: 'HTXTA', communeId: a.id }),
    ]);
    expect(mine.body.filter((e) => e.action === 'settings.update').every((e) => e.communeId === a.id)).toBe(true);
    expect(mine.body.filter((e) => e.action === 'settings.update')).toHaveLength(3);
    expect(theirs.body.filter((e) => e.action === 'settings.update')).toEqual([]);
    expect(theirs.body.filter((e) => e.action.startsWith('dictionary.')).map((e) => [e.action, e.communeId])).toEqual([
      ['dictionary.delete', b.id],
      ['dictionary.put', b.id],
    ]);
  });
});

/** The session cookie of `username` (signed in once more, for a multipart upload). */
async function cookieOf(username: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: `${username}-password` }),
  });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

async function upload(cookie: string, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  // 2 s of a tone, well off the target, so normalisation shows.
  const tone = 'sine=frequency=440:duration=2,volume=-12dB';
  const wav = execFileSync(resolveFfmpeg().path, [
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    tone,
    '-f',
    'wav',
    'pipe:1',
  ]);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'tone.wav');
  const res = await fetch(`${server.url}/api/v1/audio${query}`, { method: 'POST', headers: { cookie }, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('audio upload', () => {
  it('is normalised to the uploader’s commune’s target and audited in that commune', async () => {
    const cookie = await cookieOf(`admin-${a.id}`);
    const uploaded = await upload(cookie);
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    expect(Math.abs((uploaded.body.integratedLufs as number) + 20)).toBeLessThanOrEqual(1);
    const audit = await a.api<AuditEntry[]>('GET', '/api/v1/audit?action=audio.upload');
    expect(audit.body[0]).toMatchObject({ target: uploaded.body.sha256, communeId: a.id });
    expect((await b.api<AuditEntry[]>('GET', '/api/v1/audit?action=audio.upload')).body).toEqual([]);

    const elsewhere = await upload(cookie, `?commune=${b.id}`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.field).toBe('commune');
  });
});

describe('a province user', () => {
  it('names the commune once the province has several, and changes only that one', async () => {
    const unnamed = await province<ErrorBody>('GET', '/api/v1/settings');
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.field).toBe('commune');
    expect((await province<ErrorBody>('PUT', '/api/v1/dictionary/XYZ', { expansion: 'ích zét' })).body.field).toBe(
      'commune',
    );

    const put = await province<View>('PUT', '/api/v1/settings', { commune: b.id, loudness: { integratedLufs: -18 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.loudness).toMatchObject({ integratedLufs: -18, updatedBy: 'tinh' });
    expect((await b.api<View>('GET', '/api/v1/settings')).body.loudness.integratedLufs).toBe(-18);
    expect((await province<View>('GET', `/api/v1/settings?commune=${a.id}`)).body.loudness.integratedLufs).toBe(-20);
    expect((await server.api<View>('GET', '/api/v1/settings')).body.loudness.integratedLufs).toBe(-16);

    const entry = await province('PUT', '/api/v1/dictionary/XYZ', { commune: b.id, expansion: 'ích zét' });
    expect(entry.status).toBe(200);
    expect(await normalize(b.api, 'XYZ')).toContain('ích zét');
    expect(await normalize(a.api, 'XYZ')).not.toContain('ích zét');
    const asProvince = await province<{ text: string }>('POST', '/api/v1/tts/normalize', {
      text: 'XYZ',
      commune: b.id,
    });
    expect(asProvince.body.text).toContain('ích zét');
    expect((await province('DELETE', `/api/v1/dictionary/XYZ?commune=${b.id}`)).status).toBe(204);

    const audit = await province<AuditEntry[]>('GET', '/api/v1/audit?action=settings.update');
    expect(audit.body[0]).toMatchObject({ communeId: b.id, detail: { loudness: { integratedLufs: -18 } } });
  });
});
