import { afterEach, describe, expect, it } from 'vitest';
import type { SynthesisRequest, TtsAdapter } from './adapter';
import {
  AllEnginesFailedError,
  TtsConfigError,
  createLiveTtsRegistry,
  createTtsRegistry,
  loadTtsConfig,
  validateTtsConfig,
} from './registry';
import { FAST, sendJson, startFakeVendor, testAudio, wavMs, type FakeVendor } from './adapters/test-support';

let fake: FakeVendor | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof TtsConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a TtsConfigError');
}

/** An engine that records what it was asked and answers with a tone (or fails). */
function stubEngine(id: string, behaviour: 'ok' | Error, seen: SynthesisRequest[] = []): TtsAdapter {
  return {
    id,
    async synthesize(request) {
      seen.push(request);
      if (behaviour instanceof Error) throw behaviour;
      return { wav: new Uint8Array(testAudio().wav), sampleRate: 22050 };
    },
    voices: async () => [{ id: 'v1', name: 'V1', language: 'vi' }],
    health: async () => ({ ok: behaviour === 'ok' }),
  };
}

describe('TTS config schema', () => {
  it('names each bad field', () => {
    expect(problemsOf(() => validateTtsConfig({ engines: [{ id: 'fpt' }, { id: 'espeak' }] }))).toEqual([
      'tts.engines[0].apiKey: is required',
    ]);
    expect(
      problemsOf(() =>
        validateTtsConfig({
          engines: [
            { id: 'vbee', apiKey: 'k', appId: 'a', callbackUrl: 'ftp://x' },
            { id: 'azure', apiKey: 'k' },
            { id: 'nuance' },
            { id: 'azure', apiKey: 'k', region: 'x' },
          ],
          sampleRate: 5,
        }),
      ),
    ).toEqual([
      'tts.sampleRate: must be an integer from 8000 to 48000, got 5',
      'tts.engines[0].callbackUrl: must be an http(s) URL, got "ftp://x"',
      'tts.engines[1].region: is required (or give baseUrl)',
      'tts.engines[2].id: must be one of fpt, viettel, vbee, zalo, google, azure, piper, espeak, got "nuance"',
      'tts.engines[3].id: "azure" is listed twice',
    ]);
    expect(problemsOf(() => validateTtsConfig({ engines: [] }))[0]).toMatch(
      /^tts\.engines: must list at least one engine/,
    );
  });

  it('loads from the environment and points at the variable to set', () => {
    expect(
      loadTtsConfig({
        LOAXA_TTS_ENGINES: 'fpt, vbee ,piper,espeak',
        LOAXA_TTS_FPT_API_KEY: 'fk',
        LOAXA_TTS_FPT_VOICE: 'leminh',
        LOAXA_TTS_FPT_RETRIES: '1',
        LOAXA_TTS_VBEE_API_KEY: 'jwt',
        LOAXA_TTS_VBEE_APP_ID: 'app',
        LOAXA_PUBLIC_URL: 'https://xa.example/',
        LOAXA_TTS_PIPER_MODEL: '/models/vi.onnx',
      }),
    ).toEqual({
      engines: [
        { id: 'fpt', apiKey: 'fk', voice: 'leminh', retries: 1 },
        { id: 'vbee', apiKey: 'jwt', appId: 'app', callbackUrl: 'https://xa.example/api/tts/vbee/callback' },
        { id: 'piper', modelPath: '/models/vi.onnx' },
        { id: 'espeak' },
      ],
    });
    expect(loadTtsConfig({})).toEqual({ engines: [{ id: 'espeak' }] });
    expect(
      problemsOf(() => loadTtsConfig({ LOAXA_TTS_ENGINES: 'google,espeak', LOAXA_TTS_GOOGLE_TIMEOUT_MS: 'soon' })),
    ).toEqual([
      'tts.engines[0].apiKey: is required (set LOAXA_TTS_GOOGLE_API_KEY)',
      'tts.engines[0].timeoutMs: expected integer, got "soon" (set LOAXA_TTS_GOOGLE_TIMEOUT_MS)',
    ]);
  });
});

describe('synthesizeWithFallback', () => {
  it('falls back to espeak when FPT.AI answers 500 forever, and records why', async () => {
    fake = await startFakeVendor((_req, res) => sendJson(res, 500, { message: 'Internal Server Error' }));
    const registry = createTtsRegistry({
      engines: [{ id: 'fpt', apiKey: 'k', baseUrl: fake.url, ...FAST, retries: 1 }, { id: 'espeak' }],
    });
    const { result, engineId, attempts } = await registry.synthesizeWithFallback({ text: 'Xin chào bà con' });
    expect(engineId).toBe('espeak');
    expect(wavMs(result.wav)).toBeGreaterThan(500);
    expect(attempts).toEqual([{ engineId: 'fpt', error: 'FPT.AI: 500 Internal Server Error (after 2 attempts)' }]);
    expect(fake.hits('/hmi/tts/v5')).toHaveLength(2);
  });

  it('tries the preferred engine first and gives a qualified voice only to its engine', async () => {
    const seenA: SynthesisRequest[] = [];
    const seenB: SynthesisRequest[] = [];
    const registry = createTtsRegistry(
      {
        engines: [
          { id: 'fpt', apiKey: 'k' },
          { id: 'zalo', apiKey: 'k' },
        ],
      },
      { fpt: stubEngine('fpt', 'ok', seenA), zalo: stubEngine('zalo', new Error('Zalo AI: 503 busy'), seenB) },
    );
    const r = await registry.synthesizeWithFallback({ text: 'a', voice: 'zalo:4' });
    expect(r.engineId).toBe('fpt');
    expect(r.attempts).toEqual([{ engineId: 'zalo', error: 'Zalo AI: 503 busy' }]);
    expect(seenB[0]!.voice).toBe('4');
    expect(seenA[0]!.voice).toBeUndefined();

    const plain = await registry.synthesizeWithFallback({ text: 'a', voice: 'leminh' }, { engine: 'fpt' });
    expect([plain.engineId, seenA[1]!.voice]).toEqual(['fpt', 'leminh']);
    await expect(registry.synthesizeWithFallback({ text: 'a' }, { engine: 'vbee' })).rejects.toThrow(
      'TTS engine "vbee" is not configured (configured: fpt, zalo)',
    );
    expect((await registry.voices()).map((v) => v.id)).toEqual(['fpt:v1', 'zalo:v1']);
  });

  it('says every engine failed, with each reason', async () => {
    const registry = createTtsRegistry(
      { engines: [{ id: 'fpt', apiKey: 'k' }, { id: 'espeak' }] },
      {
        fpt: stubEngine('fpt', new Error('FPT.AI: 401 invalid api key')),
        espeak: stubEngine('espeak', new Error('espeak: text is empty')),
      },
    );
    const err = (await registry
      .synthesizeWithFallback({ text: ' ' })
      .catch((e: unknown) => e)) as AllEnginesFailedError;
    expect(err).toBeInstanceOf(AllEnginesFailedError);
    expect(err.message).toBe(
      'every TTS engine failed: fpt: FPT.AI: 401 invalid api key; espeak: espeak: text is empty',
    );
    expect(err.attempts.map((a) => a.engineId)).toEqual(['fpt', 'espeak']);
  });

  it('as one adapter, resamples to the configured rate so mixed engines can be joined', async () => {
    const registry = createTtsRegistry(
      { engines: [{ id: 'fpt', apiKey: 'k' }, { id: 'espeak' }], sampleRate: 16000 },
      { fpt: stubEngine('fpt', new Error('down')), espeak: stubEngine('espeak', 'ok') },
    );
    const tts = registry.asAdapter();
    expect(tts.id).toBe('fallback:fpt>espeak');
    const r = await tts.synthesize({ text: 'a' });
    expect(r.sampleRate).toBe(16000);
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    expect((await tts.health()).detail).toBe('fpt: down; espeak: ok');
  });
});

describe('createLiveTtsRegistry', () => {
  it('swaps the engines behind one object, its adapter id following the chain; a bad configuration changes nothing', async () => {
    const stubs = { fpt: stubEngine('fpt', 'ok'), zalo: stubEngine('zalo', 'ok') };
    const live = createLiveTtsRegistry({ engines: [{ id: 'fpt', apiKey: 'k' }] }, stubs);
    const adapter = live.asAdapter();
    expect([live.engineIds, adapter.id]).toEqual([['fpt'], 'fpt']);

    live.reconfigure({
      engines: [
        { id: 'zalo', apiKey: 'k' },
        { id: 'fpt', apiKey: 'k' },
      ],
    });
    expect([live.engineIds, adapter.id, live.asAdapter()]).toEqual([['zalo', 'fpt'], 'fallback:zalo>fpt', adapter]);
    expect((await adapter.synthesize({ text: 'a' })).engineId).toBe('zalo');

    expect(() => live.reconfigure({ engines: [{ id: 'fpt' }] })).toThrow(TtsConfigError);
    expect(live.engineIds).toEqual(['zalo', 'fpt']);
  });
});

describe('createLiveTtsRegistry with communes', () => {
  it('gives each commune its own engines, built at first use and replaced by its own changes', async () => {
    const stubs = { fpt: stubEngine('fpt', 'ok'), zalo: stubEngine('zalo', 'ok') };
    const asked: string[] = [];
    const live = createLiveTtsRegistry({ engines: [{ id: 'fpt', apiKey: 'k' }] }, stubs, {
      defaultId: 'default',
      configOf: (communeId) => {
        asked.push(communeId);
        return { engines: [{ id: 'zalo', apiKey: 'k' }] };
      },
    });
    expect(live.forCommune('default')).toBe(live.forCommune('default'));
    expect(live.forCommune('default').engineIds).toEqual(['fpt']);
    expect(asked).toEqual([]);

    const other = live.forCommune('xa-b');
    expect([other.engineIds, other.asAdapter().id]).toEqual([['zalo'], 'zalo']);
    expect(live.forCommune('xa-b')).toBe(other);
    expect(asked).toEqual(['xa-b']);
    expect((await other.asAdapter().synthesize({ text: 'a' })).engineId).toBe('zalo');

    // A change in one commune leaves the others' engines alone.
    const adapter = other.asAdapter();
    live.reconfigure(
      {
        engines: [
          { id: 'fpt', apiKey: 'k' },
          { id: 'zalo', apiKey: 'k' },
        ],
      },
      'xa-b',
    );
    expect([adapter.id, live.engineIds]).toEqual(['fallback:fpt>zalo', ['fpt']]);
    live.reconfigure({ engines: [{ id: 'zalo', apiKey: 'k' }] }, 'default');
    expect([live.engineIds, adapter.id]).toEqual([['zalo'], 'fallback:fpt>zalo']);
    // A commune changed before its first use starts from its change.
    live.reconfigure({ engines: [{ id: 'fpt', apiKey: 'k' }] }, 'xa-c');
    expect(live.forCommune('xa-c').engineIds).toEqual(['fpt']);
    expect(asked).toEqual(['xa-b']);
  });

  it('without communes, or as a plain registry, answers with one configuration for every commune', () => {
    const live = createLiveTtsRegistry({ engines: [{ id: 'espeak' }] });
    expect(live.forCommune('xa-b').engineIds).toEqual(['espeak']);
    live.reconfigure({ engines: [{ id: 'fpt', apiKey: 'k' }] }, 'xa-b');
    expect(live.forCommune('xa-c').engineIds).toEqual(['fpt']);
    const plain = createTtsRegistry({ engines: [{ id: 'espeak' }] });
    expect(plain.forCommune('xa-b')).toBe(plain);
  });
});
