import { afterEach, describe, expect, it } from 'vitest';
import { GoogleAdapter } from './google';
import type { TtsError } from './errors';
import { FAST, sendJson, startFakeVendor, testAudio, wavMs, type FakeHandler, type FakeVendor } from './test-support';

let fake: FakeVendor | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

async function fakeGoogle(handler: FakeHandler): Promise<FakeVendor> {
  fake = await startFakeVendor((req, res) => {
    if (req.headers['x-goog-api-key'] !== 'gk') {
      return sendJson(res, 403, {
        error: { code: 403, message: 'API key not valid. Please pass a valid API key.', status: 'PERMISSION_DENIED' },
      });
    }
    if (req.method === 'POST' && req.url === '/v1/text:synthesize') return handler(req, res);
    if (req.method === 'GET' && req.url === '/v1/voices?languageCode=vi-VN') {
      return sendJson(res, 200, {
        voices: [
          { name: 'vi-VN-Standard-A', languageCodes: ['vi-VN'], ssmlGender: 'FEMALE', naturalSampleRateHertz: 24000 },
        ],
      });
    }
    sendJson(res, 404, { error: { code: 404, message: 'not found' } });
  });
  return fake;
}

const ok: FakeHandler = (_req, res) => sendJson(res, 200, { audioContent: testAudio().wav.toString('base64') });

describe('GoogleAdapter (Cloud Text-to-Speech)', () => {
  it('requests LINEAR16 for vi-VN with the key in X-Goog-Api-Key and decodes audioContent', async () => {
    const f = await fakeGoogle(ok);
    const tts = new GoogleAdapter({ apiKey: 'gk', voice: 'vi-VN-Wavenet-A', baseUrl: f.url, ...FAST });
    const r = await tts.synthesize({ text: 'Xin chào', speed: 1.1 });
    expect(JSON.parse(f.requests[0]!.body.toString())).toEqual({
      input: { text: 'Xin chào' },
      voice: { languageCode: 'vi-VN', name: 'vi-VN-Wavenet-A' },
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 24000, speakingRate: 1.1 },
    });
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect(await tts.voices()).toEqual([
      { id: 'vi-VN-Standard-A', name: 'vi-VN-Standard-A (female)', language: 'vi-VN' },
    ]);
    expect((await tts.health()).ok).toBe(true);
  });

  it('reports an invalid key with Google’s message, once', async () => {
    const f = await fakeGoogle(ok);
    const tts = new GoogleAdapter({ apiKey: 'nope', baseUrl: f.url, ...FAST });
    const err = (await tts.synthesize({ text: 'Xin chào' }).catch((e: unknown) => e)) as TtsError;
    expect(err.message).toBe('Google Cloud TTS: 403 API key not valid. Please pass a valid API key.');
    expect(f.requests).toHaveLength(1);
    expect((await tts.health()).ok).toBe(false);
  });

  it('retries 429/503 (honouring Retry-After), times out on silence', async () => {
    let n = 0;
    const f = await fakeGoogle((req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { code: 429, message: 'Quota exceeded' } }));
      }
      if (n === 2) return sendJson(res, 503, { error: { code: 503, message: 'unavailable' } });
      return ok(req, res);
    });
    await new GoogleAdapter({ apiKey: 'gk', baseUrl: f.url, ...FAST }).synthesize({ text: 'Xin chào' });
    expect(f.hits('/v1/text:synthesize')).toHaveLength(3);
    await f.close();
    const g = await fakeGoogle(() => {});
    await expect(
      new GoogleAdapter({ apiKey: 'gk', baseUrl: g.url, ...FAST, timeoutMs: 100, retries: 0 }).synthesize({
        text: 'Xin chào',
      }),
    ).rejects.toThrow('Google Cloud TTS: no answer within 100 ms (timeout)');
  });
});
