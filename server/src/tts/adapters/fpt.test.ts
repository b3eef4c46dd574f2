import { afterEach, describe, expect, it } from 'vitest';
import { FptAdapter, fptSpeed } from './fpt';
import { TtsError } from './errors';
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

async function fakeFpt(onSynth: FakeHandler, audioMisses = 0): Promise<FakeVendor> {
  let misses = 0;
  fake = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/hmi/tts/v5') return onSynth(req, res);
    if (req.method === 'GET' && req.url === '/text2speech-v5/short/abc.mp3') {
      if (misses++ < audioMisses) return sendJson(res, 404, { message: 'Not Found' });
      return sendBytes(res, 'audio/mpeg', testAudio().mp3);
    }
    sendJson(res, 404, { message: 'no route' });
  });
  return fake;
}

const accepted: FakeHandler = (_req, res) =>
  sendJson(res, 200, {
    async: `${fake!.url}/text2speech-v5/short/abc.mp3`,
    error: 0,
    message: 'The content will be returned after a few seconds under the async link.',
    request_id: 'r-1',
  });

describe('FptAdapter (FPT.AI TTS v5)', () => {
  it('posts the text with the documented headers, polls the async link (404 first) and returns WAV', async () => {
    const f = await fakeFpt(accepted, 2);
    const tts = new FptAdapter({ apiKey: 'k-123', voice: 'leminh', baseUrl: f.url, ...FAST });
    const r = await tts.synthesize({ text: 'Xin chào bà con', speed: 1.5 });

    const [post] = f.hits('/hmi/tts/v5');
    expect(post!.headers['api_key']).toBe('k-123');
    expect(post!.headers['voice']).toBe('leminh');
    expect(post!.headers['speed']).toBe('3');
    expect(post!.headers['format']).toBe('mp3');
    expect(post!.body.toString('utf8')).toBe('Xin chào bà con');
    expect(f.hits('/text2speech-v5/short/abc.mp3')).toHaveLength(3); // 404, 404, audio
    expect(Buffer.from(r.wav).toString('ascii', 0, 4)).toBe('RIFF');
    expect(r.sampleRate).toBe(16000);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
  });

  it('reports a wrong key once, clearly, without retrying', async () => {
    const f = await fakeFpt((_req, res) => sendJson(res, 401, { message: 'invalid api key' }));
    const tts = new FptAdapter({ apiKey: 'bad', baseUrl: f.url, ...FAST });
    const err = (await tts.synthesize({ text: 'Xin chào' }).catch((e: unknown) => e)) as TtsError;
    expect(err).toBeInstanceOf(TtsError);
    expect(err.message).toBe('FPT.AI: 401 invalid api key');
    expect(err).toMatchObject({ vendor: 'FPT.AI', status: 401, retryable: false });
    expect(f.hits('/hmi/tts/v5')).toHaveLength(1);
  });

  it('retries a 503 and then succeeds', async () => {
    let calls = 0;
    const f = await fakeFpt((req, res) =>
      calls++ === 0 ? sendJson(res, 503, { message: 'busy' }) : accepted(req, res),
    );
    const tts = new FptAdapter({ apiKey: 'k', baseUrl: f.url, ...FAST });
    const r = await tts.synthesize({ text: 'Xin chào' });
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect(f.hits('/hmi/tts/v5')).toHaveLength(2);
  });

  it('gives up on a vendor that never answers with a timeout error', async () => {
    const f = await fakeFpt(() => {}); // never responds
    const tts = new FptAdapter({ apiKey: 'k', baseUrl: f.url, ...FAST, timeoutMs: 150, retries: 1 });
    const err = (await tts.synthesize({ text: 'Xin chào' }).catch((e: unknown) => e)) as TtsError;
    expect(err.message).toMatch(/^FPT\.AI: no answer within 150 ms \(timeout\) \(after 2 attempts\)$/);
    expect(err.retryable).toBe(true);
    expect(f.hits('/hmi/tts/v5')).toHaveLength(2);
  });

  it('reports an application error (error ≠ 0) and an audio link that never appears', async () => {
    const f = await fakeFpt((_req, res) => sendJson(res, 200, { error: 1, message: 'Text too short' }));
    const tts = new FptAdapter({ apiKey: 'k', baseUrl: f.url, ...FAST });
    await expect(tts.synthesize({ text: 'Xin chào' })).rejects.toThrow('FPT.AI: error 1: Text too short');

    await f.close();
    const g = await fakeFpt(accepted, 1_000);
    const slow = new FptAdapter({ apiKey: 'k', baseUrl: g.url, ...FAST, pollTimeoutMs: 150 });
    await expect(slow.synthesize({ text: 'Xin chào' })).rejects.toThrow(/FPT\.AI: audio not ready after 150 ms/);
  });

  it('maps speed onto FPT steps and refuses text FPT would reject', async () => {
    expect([0.5, 0.8, 1, 1.2, 2].map(fptSpeed)).toEqual([-3, -1, 0, 1, 3]);
    const tts = new FptAdapter({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9' });
    await expect(tts.synthesize({ text: 'a' })).rejects.toThrow(/at least 3 characters/);
  });
});
