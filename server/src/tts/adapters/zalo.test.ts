import { afterEach, describe, expect, it } from 'vitest';
import { ZaloAdapter } from './zalo';
import type { TtsError } from './errors';
import {
  FAST,
  sendBytes,
  sendJson,
  startFakeVendor,
  testAudio,
  wavMs,
  type FakeHandler,
  type FakeVendor,
} from './test-support';

let fake: FakeVendor | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

async function fakeZalo(handler: FakeHandler): Promise<FakeVendor> {
  fake = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/tts/synthesize') return handler(req, res);
    if (req.method === 'GET' && req.url === '/files/a.mp3') return sendBytes(res, 'audio/mpeg', testAudio().mp3);
    if (req.method === 'GET' && req.url === '/files/a.wav') return sendBytes(res, 'audio/wav', testAudio().stereoWav);
    sendJson(res, 404, {});
  });
  return fake;
}

const ok: FakeHandler = (req, res) => {
  const form = new URLSearchParams(req.body.toString());
  const file = form.get('encode_type') === '1' ? 'a.mp3' : 'a.wav';
  sendJson(res, 200, { error_code: 0, error_message: 'Successful.', data: { url: `${fake!.url}/files/${file}` } });
};

describe('ZaloAdapter (Zalo AI TTS)', () => {
  it('posts the documented form fields with the apikey header, downloads data.url and returns mono WAV', async () => {
    const f = await fakeZalo(ok);
    const r = await new ZaloAdapter({ apiKey: 'zk', voice: '4', baseUrl: f.url, ...FAST }).synthesize({
      text: 'Mưa lớn',
      speed: 0.5,
    });
    const post = f.hits('/v1/tts/synthesize')[0]!;
    expect(post.headers['apikey']).toBe('zk');
    expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(post.body.toString()))).toEqual({
      input: 'Mưa lớn',
      speaker_id: '4',
      speed: '0.8',
      encode_type: '0',
    });
    // The stereo 24 kHz WAV was folded to mono by ffmpeg.
    expect(r.sampleRate).toBe(24000);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
  });

  it('converts MP3 (encode_type 1) to WAV', async () => {
    const f = await fakeZalo(ok);
    const r = await new ZaloAdapter({ apiKey: 'zk', format: 'mp3', baseUrl: f.url, ...FAST }).synthesize({
      text: 'Mưa lớn',
    });
    expect(r.sampleRate).toBe(16000);
  });

  it('reports a bad key (HTTP 401 or error_code in a 200) without retrying', async () => {
    const f = await fakeZalo((_req, res) => sendJson(res, 401, { error_code: -1, error_message: 'Invalid apikey' }));
    const err = (await new ZaloAdapter({ apiKey: 'bad', baseUrl: f.url, ...FAST })
      .synthesize({ text: 'Mưa lớn' })
      .catch((e: unknown) => e)) as TtsError;
    expect(err.message).toBe('Zalo AI: 401 Invalid apikey');
    expect(f.requests).toHaveLength(1);
    await f.close();
    const g = await fakeZalo((_req, res) => sendJson(res, 200, { error_code: -2, error_message: 'Quota exceeded' }));
    await expect(
      new ZaloAdapter({ apiKey: 'k', baseUrl: g.url, ...FAST }).synthesize({ text: 'Mưa lớn' }),
    ).rejects.toThrow('Zalo AI: error -2: Quota exceeded');
  });

  it('retries a 503, then succeeds; times out on silence', async () => {
    let n = 0;
    const f = await fakeZalo((req, res) => (n++ === 0 ? sendJson(res, 503, {}) : ok(req, res)));
    await new ZaloAdapter({ apiKey: 'zk', baseUrl: f.url, ...FAST }).synthesize({ text: 'Mưa lớn' });
    expect(f.hits('/v1/tts/synthesize')).toHaveLength(2);
    await f.close();
    const g = await fakeZalo(() => {});
    await expect(
      new ZaloAdapter({ apiKey: 'zk', baseUrl: g.url, ...FAST, timeoutMs: 100, retries: 0 }).synthesize({
        text: 'Mưa lớn',
      }),
    ).rejects.toThrow(/timeout/);
  });
});
