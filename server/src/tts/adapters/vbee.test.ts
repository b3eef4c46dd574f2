import { afterEach, describe, expect, it } from 'vitest';
import { VbeeAdapter, type VbeeConfig } from './vbee';
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

const JOB = '9bc63cb3-7c80-4e61-8cda-7c7391a21bbe';

/** A Vbee fake: create → IN_PROGRESS; the job is 404 on the first poll, IN_PROGRESS next, then `final`. */
async function fakeVbee(onCreate: FakeHandler, final: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): Promise<FakeVendor> {
  let polls = 0;
  fake = await startFakeVendor((req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/tts') return onCreate(req, res);
    if (req.method === 'GET' && req.url === `/api/v1/tts/${JOB}`) {
      if (req.headers.authorization !== 'Bearer jwt')
        return sendJson(res, 401, { status: 0, error_message: 'Unauthorized' });
      polls++;
      if (polls === 1) return sendJson(res, 404, { status: 0, error_message: 'Request not found' });
      const status = polls === 2 ? 'IN_PROGRESS' : final;
      return sendJson(res, 200, {
        status: 1,
        result: {
          request_id: JOB,
          status,
          progress: polls === 2 ? 50 : 100,
          audio_link: `${fake!.url}/synthesis/${JOB}.wav`,
        },
      });
    }
    if (req.method === 'GET' && req.url === `/synthesis/${JOB}.wav`)
      return sendBytes(res, 'audio/wav', testAudio().wav);
    sendJson(res, 404, {});
  });
  return fake;
}

const created: FakeHandler = (_req, res) =>
  sendJson(res, 200, { status: 1, result: { request_id: JOB, status: 'IN_PROGRESS', app_id: 'app-1' } });

const config = (f: FakeVendor, extra: Partial<VbeeConfig> = {}): VbeeConfig => ({
  apiKey: 'jwt',
  appId: 'app-1',
  callbackUrl: 'https://loaxa.example/api/tts/vbee/callback',
  baseUrl: f.url,
  ...FAST,
  ...extra,
});

describe('VbeeAdapter (Vbee AIVoice)', () => {
  it('creates a job with the documented body, polls it (404, IN_PROGRESS, SUCCESS) and downloads the audio', async () => {
    const f = await fakeVbee(created);
    const r = await new VbeeAdapter(config(f)).synthesize({ text: 'Thông báo họp thôn', speed: 1.25 });
    const post = f.hits('/api/v1/tts')[0]!;
    expect(post.headers.authorization).toBe('Bearer jwt');
    expect(JSON.parse(post.body.toString())).toEqual({
      app_id: 'app-1',
      callback_url: 'https://loaxa.example/api/tts/vbee/callback',
      response_type: 'indirect',
      input_text: 'Thông báo họp thôn',
      voice_code: 'hn_female_ngochuyen_full_48k-fhg',
      audio_type: 'wav',
      speed_rate: '1.3',
    });
    expect(f.hits(`/api/v1/tts/${JOB}`)).toHaveLength(3);
    expect(r.sampleRate).toBe(22050);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
  });

  it('polls at once when the callback arrives, and never trusts the callback’s audio link', async () => {
    let done = false;
    let releaseFirstPoll!: () => void;
    const firstPollHeld = new Promise<void>((resolve) => (releaseFirstPoll = resolve));
    fake = await startFakeVendor(async (req, res) => {
      if (req.method === 'POST') return created(req, res);
      if (req.url === `/api/v1/tts/${JOB}`) {
        // The first poll's answer ("in progress") is held until the callback has come: the callback
        // lands while a poll is in flight, which once left the adapter sitting out the whole interval.
        const status = done ? 'SUCCESS' : 'IN_PROGRESS';
        if (!done) await firstPollHeld;
        return sendJson(res, 200, {
          status: 1,
          result: { request_id: JOB, status, audio_link: `${fake!.url}/synthesis/${JOB}.wav` },
        });
      }
      if (req.url === `/synthesis/${JOB}.wav`) return sendBytes(res, 'audio/wav', testAudio().wav);
      sendJson(res, 404, {});
    });
    const tts = new VbeeAdapter(config(fake, { pollIntervalMs: 10_000, pollTimeoutMs: 20_000 }));
    const started = Date.now();
    const pending = tts.synthesize({ text: 'Thông báo' });
    await expect.poll(() => fake!.hits(`/api/v1/tts/${JOB}`).length, { timeout: 5_000, interval: 10 }).toBe(1);
    expect(tts.acceptCallback({ request_id: 'someone-else', status: 'SUCCESS' })).toBe(false);
    done = true;
    expect(
      tts.acceptCallback({ request_id: JOB, status: 'SUCCESS', audio_link: 'http://127.0.0.1:9/forged.wav' }),
    ).toBe(true);
    releaseFirstPoll();
    const r = await pending;
    expect(Date.now() - started).toBeLessThan(5_000); // did not sit out the 10 s poll interval
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect(fake.hits(`/api/v1/tts/${JOB}`)).toHaveLength(2);
    expect(fake.hits(`/synthesis/${JOB}.wav`)).toHaveLength(1);
  });

  it('reports a FAILURE job, an expired token (not retried) and retries a 503', async () => {
    const failing = await fakeVbee(created, 'FAILURE');
    await expect(new VbeeAdapter(config(failing)).synthesize({ text: 'x' })).rejects.toThrow(
      'Vbee: synthesis job failed (status FAILURE)',
    );
    await failing.close();

    const auth = await fakeVbee((_req, res) =>
      sendJson(res, 401, { status: 0, error_code: 401, error_message: 'Token expired' }),
    );
    const err = (await new VbeeAdapter(config(auth)).synthesize({ text: 'x' }).catch((e: unknown) => e)) as TtsError;
    expect(err.message).toBe('Vbee: 401 Token expired');
    expect(auth.hits('/api/v1/tts')).toHaveLength(1);
    await auth.close();

    let n = 0;
    const flaky = await fakeVbee((req, res) => (n++ === 0 ? sendJson(res, 503, {}) : created(req, res)));
    await new VbeeAdapter(config(flaky)).synthesize({ text: 'x' });
    expect(flaky.hits('/api/v1/tts')).toHaveLength(2);
  });

  it('times out when Vbee does not answer', async () => {
    const f = await fakeVbee(() => {});
    await expect(new VbeeAdapter(config(f, { timeoutMs: 100, retries: 0 })).synthesize({ text: 'x' })).rejects.toThrow(
      'Vbee: no answer within 100 ms (timeout)',
    );
  });
});
