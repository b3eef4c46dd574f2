import { afterEach, describe, expect, it } from 'vitest';
import { AzureAdapter, azureRate, buildSsml } from './azure';
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

async function fakeAzure(handler: FakeHandler): Promise<FakeVendor> {
  fake = await startFakeVendor((req, res) => {
    if (req.headers['ocp-apim-subscription-key'] !== 'az') {
      res.writeHead(401);
      return res.end(); // Azure answers a bad key with an empty 401
    }
    if (req.method === 'POST' && req.url === '/cognitiveservices/v1') return handler(req, res);
    if (req.method === 'GET' && req.url === '/cognitiveservices/voices/list') {
      return sendJson(res, 200, [
        { ShortName: 'vi-VN-HoaiMyNeural', LocalName: 'Hoài My', Locale: 'vi-VN', Gender: 'Female' },
        { ShortName: 'en-US-JennyNeural', LocalName: 'Jenny', Locale: 'en-US', Gender: 'Female' },
      ]);
    }
    sendJson(res, 404, {});
  });
  return fake;
}

const ok: FakeHandler = (_req, res) => sendBytes(res, 'audio/x-wav', testAudio().wav);

describe('AzureAdapter (Speech REST)', () => {
  it('posts escaped SSML with the documented headers and returns the RIFF PCM', async () => {
    const f = await fakeAzure(ok);
    const tts = new AzureAdapter({ apiKey: 'az', baseUrl: f.url, ...FAST });
    const r = await tts.synthesize({ text: 'Giá <5> & "rẻ"', speed: 1.2 });
    const req = f.requests[0]!;
    expect(req.headers['content-type']).toBe('application/ssml+xml');
    expect(req.headers['x-microsoft-outputformat']).toBe('riff-24khz-16bit-mono-pcm');
    expect(req.headers['user-agent']).toBe('loaxa');
    expect(req.body.toString()).toBe(
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="vi-VN"><voice name="vi-VN-HoaiMyNeural">' +
        '<prosody rate="+20%">Giá &lt;5&gt; &amp; &quot;rẻ&quot;</prosody></voice></speak>',
    );
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect((await tts.voices()).map((v) => v.id)).toEqual(['vi-VN-HoaiMyNeural']);
  });

  it('says the key is wrong when Azure answers an empty 401, without retrying', async () => {
    const f = await fakeAzure(ok);
    const err = (await new AzureAdapter({ apiKey: 'x', baseUrl: f.url, ...FAST })
      .synthesize({ text: 'a' })
      .catch((e: unknown) => e)) as TtsError;
    expect(err.message).toBe('Azure Speech: 401 invalid or missing api key');
    expect(f.requests).toHaveLength(1);
  });

  it('retries a 503, times out on silence, needs a region', async () => {
    let n = 0;
    const f = await fakeAzure((req, res) => (n++ === 0 ? sendJson(res, 503, {}) : ok(req, res)));
    await new AzureAdapter({ apiKey: 'az', baseUrl: f.url, ...FAST }).synthesize({ text: 'a' });
    expect(f.requests).toHaveLength(2);
    await f.close();
    const g = await fakeAzure(() => {});
    await expect(
      new AzureAdapter({ apiKey: 'az', baseUrl: g.url, ...FAST, timeoutMs: 100, retries: 0 }).synthesize({ text: 'a' }),
    ).rejects.toThrow(/timeout/);
    expect(() => new AzureAdapter({ apiKey: 'az' })).toThrow('Azure Speech: region (or baseUrl) is required');
    expect([azureRate(0.8), azureRate(1), buildSsml('a', 'v', 'vi-VN').includes('rate="+0%"')]).toEqual([
      '-20%',
      '+0%',
      true,
    ]);
  });
});
