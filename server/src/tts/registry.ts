/**
 * The configured TTS engines, in fallback order. A notice is spoken by the
 * preferred (or first) engine; when it fails the next one is tried, down to
 * the embedded espeak-ng, and the result says which engine spoke and why the
 * others did not.
 *
 * Environment (loadTtsConfig):
 *   LOAXA_TTS_ENGINES            engine ids in fallback order, e.g. "fpt,espeak" (default "espeak")
 *                                ids: fpt, viettel, vbee, zalo, google, azure, piper, espeak
 *   LOAXA_TTS_SAMPLE_RATE        rate the fallback adapter resamples to when engines differ (default 24000)
 *   LOAXA_TTS_<ID>_API_KEY       FPT / VIETTEL (token) / VBEE (app token) / ZALO / GOOGLE / AZURE
 *   LOAXA_TTS_<ID>_VOICE         default voice of that engine
 *   LOAXA_TTS_<ID>_BASE_URL      override the vendor's endpoint (proxy, test fake)
 *   LOAXA_TTS_<ID>_TIMEOUT_MS    per-request timeout;  LOAXA_TTS_<ID>_RETRIES  extra attempts
 *   LOAXA_TTS_FPT_FORMAT, LOAXA_TTS_VIETTEL_FORMAT, LOAXA_TTS_ZALO_FORMAT, LOAXA_TTS_VBEE_FORMAT   mp3 | wav
 *   LOAXA_TTS_VBEE_APP_ID        Vbee app id
 *   LOAXA_TTS_VBEE_CALLBACK_URL  Vbee webhook (default <LOAXA_PUBLIC_URL>/api/tts/vbee/callback)
 *   LOAXA_TTS_GOOGLE_LANGUAGE_CODE, LOAXA_TTS_AZURE_LANGUAGE_CODE   default vi-VN
 *   LOAXA_TTS_AZURE_REGION       Speech resource region, e.g. southeastasia
 *   LOAXA_TTS_PIPER_MODEL        path to the .onnx voice (its .onnx.json beside it)
 *   LOAXA_TTS_PIPER_BIN          piper executable (default "piper" on PATH)
 */
import { spawn } from 'node:child_process';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler';
import { resolveFfmpeg } from '../audio/ffmpeg';
import { decodeWav, encodeWav } from '../audio/pcm';
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from './adapter';
import { EspeakAdapter } from './espeak';
import { AzureAdapter } from './adapters/azure';
import { FptAdapter } from './adapters/fpt';
import { GoogleAdapter } from './adapters/google';
import { PiperAdapter } from './adapters/piper';
import { VbeeAdapter } from './adapters/vbee';
import { ViettelAdapter } from './adapters/viettel';
import { ZaloAdapter } from './adapters/zalo';

export { TtsError } from './adapters/errors';

// ---------------------------------------------------------------- schema

const Common = {
  voice: Type.Optional(Type.String({ minLength: 1 })),
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  backoffMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  pollIntervalMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
  pollTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 900_000 })),
};
const ApiKey = Type.String({ minLength: 1 });
const Format = Type.Optional(Type.Union([Type.Literal('mp3'), Type.Literal('wav')]));

export const ENGINE_SCHEMAS = {
  fpt: Type.Object({ id: Type.Literal('fpt'), apiKey: ApiKey, format: Format, ...Common }),
  viettel: Type.Object({
    id: Type.Literal('viettel'),
    apiKey: ApiKey,
    format: Format,
    withFilter: Type.Optional(Type.Boolean()),
    ...Common,
  }),
  vbee: Type.Object({
    id: Type.Literal('vbee'),
    apiKey: ApiKey,
    appId: Type.String({ minLength: 1 }),
    callbackUrl: Type.String({ pattern: '^https?://' }),
    format: Format,
    ...Common,
  }),
  zalo: Type.Object({ id: Type.Literal('zalo'), apiKey: ApiKey, format: Format, ...Common }),
  google: Type.Object({
    id: Type.Literal('google'),
    apiKey: ApiKey,
    languageCode: Type.Optional(Type.String({ minLength: 2 })),
    sampleRate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 48000 })),
    ...Common,
  }),
  azure: Type.Object({
    id: Type.Literal('azure'),
    apiKey: ApiKey,
    region: Type.Optional(Type.String({ pattern: '^[a-z0-9]+$' })),
    languageCode: Type.Optional(Type.String({ minLength: 2 })),
    ...Common,
  }),
  piper: Type.Object({
    id: Type.Literal('piper'),
    modelPath: Type.String({ minLength: 1 }),
    configPath: Type.Optional(Type.String({ minLength: 1 })),
    binPath: Type.Optional(Type.String({ minLength: 1 })),
    speaker: Type.Optional(Type.Integer({ minimum: 0 })),
    timeoutMs: Common.timeoutMs,
  }),
  espeak: Type.Object({ id: Type.Literal('espeak'), voice: Common.voice }),
} satisfies Record<string, TSchema>;

export type EngineId = keyof typeof ENGINE_SCHEMAS;
export const ENGINE_IDS = Object.keys(ENGINE_SCHEMAS) as EngineId[];
export type EngineConfig = { [K in EngineId]: Static<(typeof ENGINE_SCHEMAS)[K]> }[EngineId];

export const TtsConfigSchema = Type.Object({
  engines: Type.Array(Type.Union(Object.values(ENGINE_SCHEMAS)), { minItems: 1 }),
  /** Rate the fallback adapter brings every engine's audio to, so sentences from different engines join. */
  sampleRate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 48000 })),
});
export type TtsConfig = Static<typeof TtsConfigSchema>;

const engineChecks = Object.fromEntries(
  ENGINE_IDS.map((id) => [id, TypeCompiler.Compile(ENGINE_SCHEMAS[id])]),
) as unknown as Record<EngineId, ReturnType<typeof TypeCompiler.Compile>>;

export class TtsConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid TTS configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'TtsConfigError';
  }
}

function describeError(error: ValueError): string {
  if (error.value === undefined) return 'is required';
  if (error.schema.pattern === '^https?://') return `must be an http(s) URL, got ${JSON.stringify(error.value)}`;
  return `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}, got ${JSON.stringify(error.value)}`;
}

/**
 * Checks `input` against the schema and returns it typed, or throws a
 * TtsConfigError with one line per problem, e.g. "tts.engines[0].apiKey: is required".
 */
export function validateTtsConfig(input: unknown, prefix = 'tts'): TtsConfig {
  const problems: string[] = [];
  const config = input as { engines?: unknown; sampleRate?: unknown } | null;
  if (!config || typeof config !== 'object') throw new TtsConfigError([`${prefix}: must be an object`]);
  if (
    config.sampleRate !== undefined &&
    (!Number.isInteger(config.sampleRate) ||
      (config.sampleRate as number) < 8000 ||
      (config.sampleRate as number) > 48000)
  ) {
    problems.push(
      `${prefix}.sampleRate: must be an integer from 8000 to 48000, got ${JSON.stringify(config.sampleRate)}`,
    );
  }
  if (!Array.isArray(config.engines) || config.engines.length === 0) {
    problems.push(`${prefix}.engines: must list at least one engine (${ENGINE_IDS.join(', ')})`);
    throw new TtsConfigError(problems);
  }
  const seen = new Set<string>();
  config.engines.forEach((engine: unknown, i) => {
    const at = `${prefix}.engines[${i}]`;
    const id = (engine as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !(id in ENGINE_SCHEMAS)) {
      problems.push(`${at}.id: must be one of ${ENGINE_IDS.join(', ')}, got ${JSON.stringify(id)}`);
      return;
    }
    if (seen.has(id)) problems.push(`${at}.id: "${id}" is listed twice`);
    seen.add(id);
    const reported = new Set<string>();
    for (const error of engineChecks[id as EngineId].Errors(engine)) {
      const field = error.path.replace(/^\//, '').replace(/\//g, '.');
      if (reported.has(field)) continue; // one line per field
      reported.add(field);
      problems.push(`${at}${field ? `.${field}` : ''}: ${describeError(error)}`);
    }
    if (id === 'azure' && !(engine as { region?: string }).region && !(engine as { baseUrl?: string }).baseUrl) {
      problems.push(`${at}.region: is required (or give baseUrl)`);
    }
  });
  if (problems.length) throw new TtsConfigError(problems);
  return config as TtsConfig;
}

// ---------------------------------------------------------------- environment

function envKey(id: string, field: string): string {
  return `LOAXA_TTS_${id.toUpperCase()}_${field}`;
}

/** Which environment variable feeds each engine field, for error messages. */
const ENV_FIELDS: Record<string, string> = {
  apiKey: 'API_KEY',
  voice: 'VOICE',
  baseUrl: 'BASE_URL',
  timeoutMs: 'TIMEOUT_MS',
  retries: 'RETRIES',
  format: 'FORMAT',
  appId: 'APP_ID',
  callbackUrl: 'CALLBACK_URL',
  languageCode: 'LANGUAGE_CODE',
  region: 'REGION',
  modelPath: 'MODEL',
  binPath: 'BIN',
};

function intOrRaw(raw: string | undefined): number | string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
}

/** The TTS configuration from the environment (names in the header comment); throws TtsConfigError naming the variable. */
export function loadTtsConfig(env: NodeJS.ProcessEnv = process.env): TtsConfig {
  const ids = (env.LOAXA_TTS_ENGINES ?? 'espeak')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const engines = ids.map((id) => {
    const engine: Record<string, unknown> = { id };
    for (const [field, suffix] of Object.entries(ENV_FIELDS)) {
      const raw = env[envKey(id, suffix)];
      if (raw === undefined || raw === '') continue;
      engine[field] = field === 'timeoutMs' || field === 'retries' ? intOrRaw(raw) : raw;
    }
    if (id === 'vbee' && engine.callbackUrl === undefined && env.LOAXA_PUBLIC_URL) {
      engine.callbackUrl = `${env.LOAXA_PUBLIC_URL.replace(/\/+$/, '')}/api/tts/vbee/callback`;
    }
    if (id === 'espeak' || id === 'piper') {
      // Fields these engines do not have stay out, so they are not reported as unexpected.
      for (const field of Object.keys(engine)) {
        if (!(field in ENGINE_SCHEMAS[id].properties)) delete engine[field];
      }
    }
    return engine;
  });
  const candidate: Record<string, unknown> = { engines };
  const rate = intOrRaw(env.LOAXA_TTS_SAMPLE_RATE);
  if (rate !== undefined) candidate.sampleRate = rate;
  try {
    return validateTtsConfig(candidate);
  } catch (err) {
    if (!(err instanceof TtsConfigError)) throw err;
    // Point at the variable a person sets, not only the config path.
    throw new TtsConfigError(
      err.problems.map((p) => {
        const m = /^tts\.engines\[(\d+)\]\.(\w+):/.exec(p);
        const id = m ? ids[Number(m[1])] : undefined;
        if (m && id && m[2] === 'id') return `${p} (LOAXA_TTS_ENGINES)`;
        if (m && id && ENV_FIELDS[m[2]!]) return `${p} (set ${envKey(id, ENV_FIELDS[m[2]!]!)})`;
        if (p.startsWith('tts.engines:')) return `${p} (LOAXA_TTS_ENGINES)`;
        if (p.startsWith('tts.sampleRate')) return `${p} (LOAXA_TTS_SAMPLE_RATE)`;
        return p;
      }),
    );
  }
}

// ---------------------------------------------------------------- registry

export function createEngine(config: EngineConfig): TtsAdapter {
  switch (config.id) {
    case 'fpt':
      return new FptAdapter(config);
    case 'viettel':
      return new ViettelAdapter(config);
    case 'vbee':
      return new VbeeAdapter(config);
    case 'zalo':
      return new ZaloAdapter(config);
    case 'google':
      return new GoogleAdapter(config);
    case 'azure':
      return new AzureAdapter(config);
    case 'piper':
      return new PiperAdapter(config);
    case 'espeak':
      return new EspeakAdapter();
  }
}

export interface EngineAttempt {
  engineId: string;
  /** Why this engine did not produce the audio. */
  error: string;
}

export interface FallbackResult {
  result: SynthesisResult;
  /** The engine that produced `result`: record it with the notice. */
  engineId: string;
  /** Engines tried before it, in order, with their errors. */
  attempts: EngineAttempt[];
}

export class AllEnginesFailedError extends Error {
  constructor(readonly attempts: EngineAttempt[]) {
    super(`every TTS engine failed: ${attempts.map((a) => `${a.engineId}: ${a.error}`).join('; ')}`);
    this.name = 'AllEnginesFailedError';
  }
}

export interface FallbackOptions {
  /** Engine to try first; the others follow in configured order. */
  engine?: string;
  signal?: AbortSignal;
}

export interface TtsRegistry {
  /** Engine ids in fallback order. */
  readonly engineIds: readonly string[];
  get(id: string): TtsAdapter | undefined;
  /**
   * Speaks `request` with the preferred (or first) engine, falling back in order.
   * `request.voice` may be "engine:voice" (e.g. "fpt:leminh"), which also makes that
   * engine preferred; a plain voice goes to the first engine tried only, because a
   * voice name means nothing to another vendor.
   */
  synthesizeWithFallback(request: SynthesisRequest, options?: FallbackOptions): Promise<FallbackResult>;
  /** Every engine's voices as "engine:voice" ids (an engine that cannot list them is left out). */
  voices(): Promise<TtsVoice[]>;
  health(): Promise<Record<string, { ok: boolean; detail?: string }>>;
  /** One TtsAdapter over the whole chain (for NoticeRenderer); audio is resampled to one rate. */
  asAdapter(): TtsAdapter;
  /** Hands a Vbee webhook body to the Vbee engine; true when it was expected. */
  acceptVbeeCallback(body: unknown): boolean;
  /**
   * The engines of `communeId`: its own order and keys (settings). A registry
   * built from one configuration answers with itself for every commune.
   */
  forCommune(communeId: string): TtsRegistry;
}

function resampleWav(wav: Uint8Array, sampleRate: number, signal?: AbortSignal): Promise<SynthesisResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      resolveFfmpeg().path,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'wav',
        '-i',
        'pipe:0',
        '-ac',
        '1',
        '-ar',
        String(sampleRate),
        '-c:a',
        'pcm_s16le',
        '-f',
        'wav',
        'pipe:1',
      ],
      { signal },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`ffmpeg could not resample: ${Buffer.concat(err).toString().trim().slice(-300)}`));
      const pcm = decodeWav(Buffer.concat(out));
      resolve({ wav: new Uint8Array(encodeWav(pcm)), sampleRate: pcm.sampleRate });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(Buffer.from(wav));
  });
}

/**
 * Builds the engines of `config` (validated first) in fallback order.
 * `overrides` replaces engines by id (tests inject fakes this way).
 */
export function createTtsRegistry(config: unknown, overrides: Partial<Record<string, TtsAdapter>> = {}): TtsRegistry {
  const valid = validateTtsConfig(config);
  const engines = valid.engines.map((c) => ({ id: c.id, adapter: overrides[c.id] ?? createEngine(c as EngineConfig) }));
  const byId = new Map<string, TtsAdapter>(engines.map((e) => [e.id, e.adapter]));
  const sampleRate = valid.sampleRate ?? 24_000;

  function order(preferred: string | undefined): typeof engines {
    if (preferred === undefined) return engines;
    if (!byId.has(preferred)) {
      throw new Error(
        `TTS engine "${preferred}" is not configured (configured: ${engines.map((e) => e.id).join(', ')})`,
      );
    }
    return [...engines.filter((e) => e.id === preferred), ...engines.filter((e) => e.id !== preferred)];
  }

  async function synthesizeWithFallback(
    request: SynthesisRequest,
    options: FallbackOptions = {},
  ): Promise<FallbackResult> {
    let preferred = options.engine;
    let voice = request.voice;
    let voiceFor: string | undefined;
    const qualified = voice ? /^([a-z]+):(.+)$/.exec(voice) : null;
    if (qualified && byId.has(qualified[1]!)) {
      voiceFor = qualified[1]!;
      voice = qualified[2]!;
      preferred ??= voiceFor;
    }
    const chain = order(preferred);
    voiceFor ??= chain[0]!.id;
    const attempts: EngineAttempt[] = [];
    for (const { id, adapter } of chain) {
      if (options.signal?.aborted) break;
      try {
        const result = await adapter.synthesize(
          { ...request, voice: id === voiceFor ? voice : undefined },
          options.signal,
        );
        return { result, engineId: id, attempts };
      } catch (err) {
        attempts.push({ engineId: id, error: (err as Error).message });
      }
    }
    if (options.signal?.aborted) throw new Error('speech synthesis aborted');
    throw new AllEnginesFailedError(attempts);
  }

  const registry: TtsRegistry = {
    engineIds: engines.map((e) => e.id),
    get: (id) => byId.get(id),
    synthesizeWithFallback,
    async voices() {
      const lists = await Promise.all(
        engines.map(async ({ id, adapter }) => {
          try {
            return (await adapter.voices()).map((v) => ({ ...v, id: `${id}:${v.id}` }));
          } catch {
            return [];
          }
        }),
      );
      return lists.flat();
    },
    async health() {
      const entries = await Promise.all(engines.map(async ({ id, adapter }) => [id, await adapter.health()] as const));
      return Object.fromEntries(entries);
    },
    asAdapter() {
      const single = engines.length === 1;
      return {
        // Part of the render cache key: changing the chain re-renders notices.
        id: single ? engines[0]!.id : `fallback:${engines.map((e) => e.id).join('>')}`,
        async synthesize(request, signal) {
          const { engine, ...rest } = request;
          const { result, engineId, attempts } = await synthesizeWithFallback(rest, { signal, engine });
          // Sentences of one notice may come from different engines; they must share a rate to be joined.
          const audio =
            single || result.sampleRate === sampleRate ? result : await resampleWav(result.wav, sampleRate, signal);
          return { ...audio, engineId, fallback: attempts.length > 0 };
        },
        voices: () => registry.voices(),
        async health() {
          const all = await registry.health();
          const ok = Object.values(all).some((h) => h.ok);
          return {
            ok,
            detail: Object.entries(all)
              .map(([id, h]) => `${id}: ${h.ok ? 'ok' : (h.detail ?? 'down')}`)
              .join('; '),
          };
        },
      };
    },
    acceptVbeeCallback(body) {
      const vbee = byId.get('vbee');
      return vbee instanceof VbeeAdapter ? vbee.acceptCallback(body) : false;
    },
    forCommune: () => registry,
  };
  return registry;
}

/** A TtsRegistry whose engines can be replaced while the server runs (a commune changed its settings). */
export interface LiveTtsRegistry extends TtsRegistry {
  /**
   * Builds the engines of `config` (validated first; a bad one throws and changes nothing)
   * and uses them from now on for `communeId`; without it, for the default commune (and
   * for every commune when the registry was made without `communes`).
   */
  reconfigure(config: unknown, communeId?: string): void;
}

/** Where a LiveTtsRegistry finds each commune's engines. */
export interface CommuneTtsConfigs {
  /** The commune the registry itself speaks for (its `config`); CommuneService.defaultId(). */
  defaultId: string;
  /** A commune's configuration (Settings.startupTtsConfig(id).config), read when its engines are first needed. */
  configOf(communeId: string): unknown;
}

/** One chain of engines whose configuration can be swapped; its adapter stays the same object. */
function swappableRegistry(
  config: unknown,
  overrides: Partial<Record<string, TtsAdapter>>,
  forCommune: (communeId: string) => TtsRegistry,
): TtsRegistry & { reconfigure(config: unknown): void } {
  let current = createTtsRegistry(config, overrides);
  let chain = current.asAdapter();
  const adapter: TtsAdapter = {
    get id() {
      return chain.id;
    },
    synthesize: (request, signal) => chain.synthesize(request, signal),
    voices: () => chain.voices(),
    health: () => chain.health(),
  };
  return {
    get engineIds() {
      return current.engineIds;
    },
    get: (id) => current.get(id),
    synthesizeWithFallback: (request, options) => current.synthesizeWithFallback(request, options),
    voices: () => current.voices(),
    health: () => current.health(),
    asAdapter: () => adapter,
    acceptVbeeCallback: (body) => current.acceptVbeeCallback(body),
    forCommune,
    reconfigure(next) {
      const registry = createTtsRegistry(next, overrides);
      current = registry;
      chain = registry.asAdapter();
    },
  };
}

/**
 * One object for the whole run: the renderer, the routes and the Vbee webhook keep
 * it, and it forwards every call to the engines of the latest configuration. Its
 * adapter's id follows the chain, so the render cache key changes with it.
 *
 * With `communes`, each commune has its own chain (`forCommune`), built from its
 * settings at first use and replaced by `reconfigure(config, communeId)`; the
 * object itself is the default commune's. Without it every commune shares `config`.
 */
export function createLiveTtsRegistry(
  config: unknown,
  overrides: Partial<Record<string, TtsAdapter>> = {},
  communes?: CommuneTtsConfigs,
): LiveTtsRegistry {
  const others = new Map<string, ReturnType<typeof swappableRegistry>>();
  const isBase = (communeId: string | undefined) =>
    communeId === undefined || !communes || communeId === communes.defaultId;
  const forCommune = (communeId: string): TtsRegistry => {
    if (isBase(communeId)) return base;
    let live = others.get(communeId);
    if (!live) {
      live = swappableRegistry(communes!.configOf(communeId), overrides, forCommune);
      others.set(communeId, live);
    }
    return live;
  };
  const base = swappableRegistry(config, overrides, forCommune);
  return {
    get engineIds() {
      return base.engineIds;
    },
    get: (id) => base.get(id),
    synthesizeWithFallback: (request, options) => base.synthesizeWithFallback(request, options),
    voices: () => base.voices(),
    health: () => base.health(),
    asAdapter: () => base.asAdapter(),
    // The webhook does not say whose job it is: the engine that is waiting for it takes it.
    acceptVbeeCallback: (body) =>
      base.acceptVbeeCallback(body) || [...others.values()].some((live) => live.acceptVbeeCallback(body)),
    forCommune,
    reconfigure(next, communeId) {
      if (isBase(communeId)) return base.reconfigure(next);
      const live = others.get(communeId!);
      if (live) live.reconfigure(next);
      else others.set(communeId!, swappableRegistry(next, overrides, forCommune));
    },
  };
}
