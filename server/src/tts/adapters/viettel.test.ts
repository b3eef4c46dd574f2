import { afterEach, describe, expect, it } from 'vitest';
import { ViettelAdapter } from './viettel';
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

async function fakeViettel(handler: FakeHandler): Promise<FakeVendor> {
  fake = await startFakeVendor((req, res) =>
    req.method === 'POST' && req.url === '/tts/speech_synthesis' ? handler(req, res) : sendJson(res, 404, {}),
  );
  return fake;
}

const audioReply: FakeHandler = (req, res) => {
  const body = JSON.parse(req.body.toString()) as { tts_return_option: number };
  if (body.tts_return_option === 3) sendBytes(res, 'audio/mpeg', testAudio().mp3);
  else sendBytes(res, 'audio/wav', testAudio().wav);
};

describe('ViettelAdapter (Viettel AI)', () => {
  it('posts the documented JSON body with the token and returns the WAV it answers with', async () => {
    const f = await fakeViettel(audioReply);
    const tts = new ViettelAdapter({ apiKey: 'tok', voice: 'hcm-minhquan', baseUrl: f.url, ...FAST });
    const r = await tts.synthesize({ text: 'Thông báo lịch tiêm phòng', speed: 2 });
    const req = f.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['token']).toBe('tok');
    expect(JSON.parse(req.body.toString())).toMatchObject({
      text: 'Thông báo lịch tiêm phòng',
      voice: 'hcm-minhquan',
      speed: 1.3,
      tts_return_option: 2,
      without_filter: true,
      token: 'tok',
    });
    expect(r.sampleRate).toBe(22050);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
  });

  it('converts MP3 to WAV when asked for mp3', async () => {
    const f = await fakeViettel(audioReply);
    const r = await new ViettelAdapter({ apiKey: 'tok', format: 'mp3', baseUrl: f.url, ...FAST }).synthesize({
      text: 'Xin chào',
    });
    expect(r.sampleRate).toBe(16000);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
  });

  it('reports a rejected token without retrying', async () => {
    const f = await fakeViettel((_req, res) => sendJson(res, 401, { code: 401, message: 'Token is invalid' }));
    const err = (await new ViettelAdapter({ apiKey: 'bad', baseUrl: f.url, ...FAST })
      .synthesize({ text: 'Xin chào' })
      .catch((e: unknown) => e)) as TtsError;
    expect(err.message).toBe('Viettel AI: 401 Token is invalid');
    expect(err.retryable).toBe(false);
    expect(f.requests).toHaveLength(1);
  });

  it('retries a 503, then succeeds', async () => {
    let n = 0;
    const f = await fakeViettel((req, res) => (n++ === 0 ? sendJson(res, 503, {}) : audioReply(req, res)));
    const r = await new ViettelAdapter({ apiKey: 'tok', baseUrl: f.url, ...FAST }).synthesize({ text: 'Xin chào' });
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect(f.requests).toHaveLength(2);
  });

  it('times out, and treats a 200 JSON reply as an error', async () => {
    const f = await fakeViettel(() => {});
    await expect(
      new ViettelAdapter({ apiKey: 'tok', baseUrl: f.url, ...FAST, timeoutMs: 100, retries: 0 }).synthesize({
        text: 'Xin chào',
      }),
    ).rejects.toThrow('Viettel AI: no answer within 100 ms (timeout)');
    await f.close();
    const g = await fakeViettel((_req, res) => sendJson(res, 200, { message: 'voice not found' }));
    await expect(
      new ViettelAdapter({ apiKey: 'tok', baseUrl: g.url, ...FAST }).synthesize({ text: 'Xin chào' }),
    ).rejects.toThrow('Viettel AI: voice not found');
  });
});
