/**
 * The speech and audio API over HTTP against the real server (real SQLite,
 * espeak-ng WASM and ffmpeg): the commune's abbreviation dictionary, TTS
 * engines, cached previews and audio uploads.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../src/audio/ffmpeg';
import { row, sql, startTestServer, type TestServer } from './helpers';

/** How many media rows the server's database holds (COUNT is a string on PostgreSQL's driver: Number). */
const mediaCount = async (target: TestServer) =>
  Number((await row<{ n: number | string }>(target, sql`SELECT COUNT(*) AS n FROM media`))?.n);

let server: TestServer;
let small: TestServer | null = null;

beforeAll(async () => {
  // With the chime, as installs have it: the preview below is the notice as villagers hear it.
  server = await startTestServer({ LOAXA_CHIME: 'on' });
});
afterAll(async () => {
  await server?.close();
  await small?.close();
});

interface ErrorBody {
  statusCode: number;
  message: string;
  field?: string;
}

/** Audio made by ffmpeg for the test: 1 s silence, `toneS` of a 440 Hz tone, 1 s silence. */
function paddedTone(args: string[], toneS = 3): Buffer {
  return execFileSync(
    resolveFfmpeg().path,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=44100:duration=${toneS},volume=-12dB,adelay=1000,apad=pad_len=44100`,
      ...args,
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

async function upload(
  target: TestServer,
  bytes: Uint8Array,
  filename: string,
  type: string,
  field = 'file',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), filename);
  const res = await fetch(`${target.url}/api/v1/audio`, {
    method: 'POST',
    headers: { cookie: target.cookie },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

describe('abbreviation dictionary', () => {
  const normalize = async (text: string) =>
    (await server.api<{ text: string }>('POST', '/api/v1/tts/normalize', { text })).body.text;

  it('lists the built-in entries', async () => {
    const { status, body } = await server.api<{ entries: { abbreviation: string; source: string }[] }>(
      'GET',
      '/api/v1/dictionary',
    );
    expect(status).toBe(200);
    expect(body.entries).toContainEqual(expect.objectContaining({ abbreviation: 'UBND', source: 'builtin' }));
    expect(body.entries.length).toBeGreaterThan(50);
  });

  it('a commune entry changes what is said and the render cache key; removing it restores the built-in', async () => {
    const key = (text: string) => server.services.renderer.cacheKey({ text });
    const text = 'HTX và KDC Đông Hòa họp.';
    expect(await normalize(text)).toBe('hợp tác xã và KDC Đông Hòa họp.');
    const keyBefore = await key(text);

    // A new abbreviation, and one that replaces a built-in expansion.
    const added = await server.api<{ entry: Record<string, unknown>; created: boolean }>(
      'PUT',
      '/api/v1/dictionary/KDC',
      { expansion: 'khu dân cư' },
    );
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      created: true,
      entry: { abbreviation: 'KDC', source: 'commune', builtin: null },
    });
    expect(await normalize(text)).toBe('hợp tác xã và khu dân cư Đông Hòa họp.');
    const keyAdded = await key(text);
    expect(keyAdded).not.toBe(keyBefore);

    const replaced = await server.api('PUT', '/api/v1/dictionary/HTX', { expansion: 'hợp tác xã nông nghiệp' });
    expect(replaced.body).toMatchObject({ created: true, entry: { source: 'commune', builtin: 'hợp tác xã' } });
    expect(await normalize(text)).toBe('hợp tác xã nông nghiệp và khu dân cư Đông Hòa họp.');
    expect(await key(text)).not.toBe(keyAdded);
    const changed = await server.api('PUT', '/api/v1/dictionary/HTX', { expansion: 'hợp tác xã dịch vụ' });
    expect(changed.body).toMatchObject({ created: false, entry: { expansion: 'hợp tác xã dịch vụ' } });

    expect((await server.api('DELETE', '/api/v1/dictionary/HTX')).status).toBe(204);
    expect(await normalize(text)).toBe('hợp tác xã và khu dân cư Đông Hòa họp.');
    expect(await key(text)).toBe(keyAdded);

    // Vietnamese letters and a slash travel in the path.
    const slash = await server.api('PUT', `/api/v1/dictionary/${encodeURIComponent('CV/ĐU')}`, {
      expansion: 'công văn đảng ủy',
    });
    expect(slash.status).toBe(200);
    expect(await normalize('Theo CV/ĐU số 5.')).toBe('Theo công văn đảng ủy số năm.');

    const audit = await server.api<{ action: string; target: string; detail: Record<string, unknown> }[]>(
      'GET',
      '/api/v1/audit?limit=20',
    );
    const changes = audit.body.filter((e) => e.action.startsWith('dictionary.')).map((e) => `${e.action} ${e.target}`);
    expect(changes).toEqual([
      'dictionary.put CV/ĐU',
      'dictionary.delete HTX',
      'dictionary.put HTX',
      'dictionary.put HTX',
      'dictionary.put KDC',
    ]);
    expect(audit.body.find((e) => e.action === 'dictionary.put' && e.target === 'KDC')?.detail).toMatchObject({
      expansion: 'khu dân cư',
      previous: null,
    });
  });

  it('names the field that is wrong', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', `/api/v1/dictionary/${encodeURIComponent('A B')}`, { expansion: 'x' }, 400, 'abbreviation'],
      ['PUT', `/api/v1/dictionary/${encodeURIComponent('---')}`, { expansion: 'x' }, 400, 'abbreviation'],
      ['PUT', '/api/v1/dictionary/XYZ', { expansion: '' }, 400, 'expansion'],
      ['PUT', '/api/v1/dictionary/XYZ', { expansion: '123' }, 400, 'expansion'],
      ['PUT', '/api/v1/dictionary/XYZ', {}, 400, 'expansion'],
      ['PUT', '/api/v1/dictionary/XYZ', { expansion: 'x', extra: 1 }, 400, 'extra'],
      ['DELETE', '/api/v1/dictionary/UBND', undefined, 404, 'abbreviation'],
      ['DELETE', '/api/v1/dictionary/NOPE', undefined, 404, 'abbreviation'],
    ];
    for (const [method, url, body, status, field] of cases) {
      const res = await server.api<ErrorBody>(method, url, body);
      expect([res.status, res.body.field], `${method} ${url} ${JSON.stringify(body)}`).toEqual([status, field]);
      expect(res.body.message).toMatch(new RegExp(`^${field}: `));
    }
  });
});

describe('TTS engines and preview', () => {
  it('lists the configured engines with health and voices', async () => {
    const { status, body } = await server.api<{ engines: Record<string, unknown>[] }>('GET', '/api/v1/tts/engines');
    expect(status).toBe(200);
    expect(body.engines).toEqual([
      {
        id: 'espeak',
        primary: true,
        health: { ok: true },
        voices: expect.arrayContaining([expect.objectContaining({ id: 'vi', language: 'vi' })]),
      },
    ]);
  });

  it('renders a preview on target loudness, plays it from /media, and serves it from the cache next time', async () => {
    const text = 'UBND xã thông báo: họp thôn lúc 7h30 ngày 15/3.';
    const first = await server.api<Record<string, unknown>>('POST', '/api/v1/tts/preview', { text, speed: 1.1 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ engine: 'espeak', fallback: false, cached: false });
    expect(first.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.url).toBe(`/media/${String(first.body.sha256)}.ogg`);
    // Two chimes (1.6 s each) and their pauses around the words.
    expect(first.body.durationMs).toBeGreaterThan(4000);
    expect(Math.abs(Number(first.body.integratedLufs) + 16)).toBeLessThanOrEqual(1);
    expect(Number(first.body.truePeakDbtp)).toBeLessThanOrEqual(-1.5);

    const media = await fetch(`${server.url}${String(first.body.url)}`, { headers: { cookie: server.cookie } });
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).toString('ascii', 0, 4)).toBe('OggS');

    const again = await server.api<Record<string, unknown>>('POST', '/api/v1/tts/preview', { text, speed: 1.1 });
    expect(again.body).toMatchObject({ sha256: first.body.sha256, cached: true });

    // A dictionary change reaches the preview: different words, a different render.
    const before = await server.api<Record<string, unknown>>('POST', '/api/v1/tts/preview', { text: 'QLDA họp.' });
    await server.api('PUT', '/api/v1/dictionary/QLDA', { expansion: 'ban quản lý dự án' });
    const after = await server.api<Record<string, unknown>>('POST', '/api/v1/tts/preview', { text: 'QLDA họp.' });
    expect(after.body).toMatchObject({ cached: false });
    expect(after.body.sha256).not.toBe(before.body.sha256);
    expect(Number(after.body.durationMs)).toBeGreaterThan(Number(before.body.durationMs));
  });

  it('names the field that is wrong', async () => {
    const cases: [unknown, string][] = [
      [{ text: 'Chào', engine: 'fpt' }, 'engine'],
      [{ text: 'Chào', voice: 'no-such-voice' }, 'voice'],
      [{ text: 'Chào', speed: 5 }, 'speed'],
      [{ text: '' }, 'text'],
      [{ text: '... !!' }, 'text'],
      [{}, 'text'],
    ];
    for (const [body, field] of cases) {
      const res = await server.api<ErrorBody>('POST', '/api/v1/tts/preview', body);
      expect([res.status, res.body.field], JSON.stringify(body)).toEqual([400, field]);
    }
  });
});

describe('audio upload', () => {
  it('accepts a WAV and an MP3: trimmed, on target loudness, stored as Opus under its sha256', async () => {
    const wav = await upload(
      server,
      paddedTone(['-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav']),
      '../../etc/évil name.wav',
      'audio/wav',
    );
    expect(wav.status, JSON.stringify(wav.body)).toBe(201);
    expect(wav.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    // 1 s of silence trimmed from each end of 5 s, a 30 ms margin kept.
    expect(Math.abs(Number(wav.body.durationMs) - 3000)).toBeLessThanOrEqual(150);
    expect(Math.abs(Number(wav.body.integratedLufs) + 16)).toBeLessThanOrEqual(1);
    expect(Number(wav.body.truePeakDbtp)).toBeLessThanOrEqual(-1.5);
    const stored = path.join(
      server.dataDir,
      'media',
      String(wav.body.sha256).slice(0, 2),
      `${String(wav.body.sha256)}.ogg`,
    );
    expect(fs.statSync(stored).size).toBe(wav.body.bytes);
    expect(fs.readFileSync(stored).toString('ascii', 0, 4)).toBe('OggS');
    const media = await fetch(`${server.url}${String(wav.body.url)}`, { headers: { cookie: server.cookie } });
    expect(media.status).toBe(200);

    const mp3 = await upload(
      server,
      paddedTone(['-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'], 4),
      'bản tin.mp3',
      'audio/mpeg',
    );
    expect(mp3.status, JSON.stringify(mp3.body)).toBe(201);
    expect(Math.abs(Number(mp3.body.durationMs) - 4000)).toBeLessThanOrEqual(200);
    expect(Math.abs(Number(mp3.body.integratedLufs) + 16)).toBeLessThanOrEqual(1);

    // The uploader's names never reach the file system; no temp file is left behind.
    const files = filesUnder(server.dataDir);
    expect(files.filter((f) => /évil|bản tin|etc/.test(f))).toEqual([]);
    expect(fs.readdirSync(path.join(server.dataDir, 'media', 'tmp'))).toEqual([]);
    const audit = await server.api<{ action: string; target: string }[]>('GET', '/api/v1/audit?action=audio.upload');
    expect(audit.body.map((e) => e.target)).toEqual([mp3.body.sha256, wav.body.sha256]);
  });

  it('refuses what is not audio, naming the field file, and stores nothing', async () => {
    const before = await mediaCount(server);
    const cases: [Uint8Array, string, string, RegExp][] = [
      [
        Buffer.from('Kính gửi bà con, đây không phải âm thanh.\n'.repeat(50)),
        'thong-bao.mp3',
        'audio/mpeg',
        /not an audio file/,
      ],
      [Buffer.alloc(0), 'empty.wav', 'audio/wav', /empty/],
      [
        paddedTone(['-ac', '1', '-af', 'volume=0', '-c:a', 'pcm_s16le', '-f', 'wav'], 1),
        'silence.wav',
        'audio/wav',
        /silent/,
      ],
      [
        execFileSync(resolveFfmpeg().path, [
          '-loglevel',
          'error',
          '-f',
          'lavfi',
          '-i',
          'color=c=red:s=16x16',
          '-frames:v',
          '1',
          '-f',
          'image2pipe',
          '-c:v',
          'png',
          'pipe:1',
        ]),
        'picture.ogg',
        'audio/ogg',
        /not an audio file/,
      ],
    ];
    for (const [bytes, name, type, message] of cases) {
      const res = await upload(server, bytes, name, type);
      expect([res.status, res.body.field], name).toEqual([400, 'file']);
      expect(String(res.body.message), name).toMatch(/^file: /);
      expect(String(res.body.message), name).toMatch(message);
    }
    const wrongField = await upload(server, paddedTone(['-f', 'wav'], 1), 'a.wav', 'audio/wav', 'audio');
    expect([wrongField.status, wrongField.body.field]).toEqual([400, 'file']);
    const json = await server.api<ErrorBody>('POST', '/api/v1/audio', { file: 'x' });
    expect([json.status, json.body.field]).toEqual([415, 'file']);
    expect(await mediaCount(server)).toBe(before);
    expect(fs.readdirSync(path.join(server.dataDir, 'media', 'tmp'))).toEqual([]);
  });

  it('refuses an upload over the configured size with 413 and a clear message', async () => {
    small = await startTestServer({ LOAXA_UPLOAD_MAX_MB: '1' });
    const big = paddedTone(['-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', '-f', 'wav'], 10); // ≈ 1.1 MB
    expect(big.byteLength).toBeGreaterThan(1024 * 1024);
    const res = await upload(small, big, 'long.wav', 'audio/wav');
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ field: 'file', message: 'file: larger than the upload limit of 1 MB' });
    expect(fs.readdirSync(path.join(small.dataDir, 'media', 'tmp'))).toEqual([]);
    expect(await mediaCount(small)).toBe(0);
  });
});
