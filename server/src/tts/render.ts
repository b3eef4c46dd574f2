/**
 * Notice text → broadcast audio in the media store: sentences rendered in
 * parallel, joined with pauses, framed by the chime, repeated, normalised to
 * the loudness target and encoded (audio/pipeline.ts). Renders are cached by
 * every input that changes the audio, so the same notice is rendered once.
 *
 * A notice is rendered for its commune: that commune's dictionary, loudness
 * target and TTS engines. The cache key holds what they change (the spoken
 * text after the dictionary, the target, the engine chain), so communes whose
 * settings differ never share a render, and those whose settings agree do.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SqlDb } from '../db/sql';
import type { MediaAsset, MediaFormat, MediaStore } from '../media/store';
import { DEFAULT_OPUS_COMPLEXITY } from '../audio/defaults';
import { DEFAULT_LOUDNESS_TARGET, measureLoudness, type Loudness } from '../audio/loudness';
import { produceNoticeAudio, synthesizeSentences } from '../audio/pipeline';
import { DEFAULT_LAYOUT, validateLayout } from '../audio/program';
import type { ChimeKind } from '../audio/chime';
import type { TtsAdapter } from './adapter';
import { normalizeVietnamese } from './normalize';

/** Bump when the pipeline's output changes for the same inputs, so old renders are not reused. */
const PIPELINE_VERSION = 3;

export interface RenderRequest {
  text: string;
  voice?: string;
  speed?: number;
  /** Intro and outro chime; default true (the notice chime); an alert names its tone (audio/chime.ts). */
  chime?: boolean | ChimeKind;
  /** Times the notice is read; default 1. */
  repeat?: number;
  /** Pause between readings, ms; default 3000. */
  gapMs?: number;
  /** Loudness target; default the renderer's (the commune's setting), else I=-16 LUFS, TP=-1.5 dBTP. */
  loudnessTarget?: { i: number; tp: number };
  /** 'ogg' (Opus, default) or 'mp3' for devices that ask for it. */
  format?: MediaFormat;
  /** Engine to try first (the others follow as fallbacks); default: the configured order. */
  engine?: string;
}

/** Each of these is asked with the id of the commune whose notice is rendered. */
export interface RendererOptions {
  /** The commune's abbreviation dictionary (extends and overrides the defaults); read at every render. */
  abbreviations?: (communeId: string) => Readonly<Record<string, string>>;
  /** Whether a notice is framed by the chime unless its request says (config LOAXA_CHIME); default true. */
  chime?: boolean;
  /** libopus complexity, 0–10 (config LOAXA_OPUS_COMPLEXITY). */
  opusComplexity?: number;
  /** The commune's loudness target (settings); read at every render, a request's own target wins. */
  loudnessTarget?: (communeId: string) => { i: number; tp: number };
  /** The commune's TTS engines (its order and keys); default: the adapter given to the renderer, for every commune. */
  ttsFor?: (communeId: string) => TtsAdapter;
}

export interface RenderResult extends MediaAsset {
  /** The engine that spoke ("fpt", "espeak"; "fpt+espeak" when sentences came from both). */
  engine: string;
  /**
   * The preferred engine failed and a fallback spoke. Such a render is stored as
   * media but not cached: the next render of the same notice tries the preferred engine again.
   */
  fallback: boolean;
  cached: boolean;
  /** Measured on the encoded file. */
  loudness: Loudness;
}

interface RenderRow {
  sha256: string;
  engine: string;
  i: number | null;
  tp: number | null;
}

/**
 * The entry points take a trailing optional `communeId`: the commune whose
 * notice it is. Left out, it is the commune the install started with
 * (CommuneService.defaultId()).
 */
export class NoticeRenderer {
  private defaultId: Promise<string> | undefined;

  constructor(
    private readonly sqlDb: SqlDb,
    private readonly media: MediaStore,
    private readonly tts: TtsAdapter,
    private readonly options: RendererOptions = {},
  ) {}

  /** The commune the install started with (meta 'default_commune'): it never changes, so it is read once. */
  private defaultCommuneId(): Promise<string> {
    if (!this.defaultId) {
      const reading = this.sqlDb.db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'default_commune')
        .executeTakeFirst()
        .then((row: { value: string } | undefined) => row?.value ?? 'default');
      // A failed read is tried again by the next render.
      reading.catch(() => {
        if (this.defaultId === reading) this.defaultId = undefined;
      });
      this.defaultId = reading;
    }
    return this.defaultId;
  }

  /** The commune's engines. */
  private ttsOf(communeId: string): TtsAdapter {
    return this.options.ttsFor?.(communeId) ?? this.tts;
  }

  /** The text the engine gets: numbers, dates and abbreviations in words (the commune's dictionary applied). */
  async spokenText(text: string, communeId?: string): Promise<string> {
    return this.spokenIn(text, communeId ?? (await this.defaultCommuneId()));
  }

  private spokenIn(text: string, communeId: string): string {
    return normalizeVietnamese(text, { abbreviations: this.options.abbreviations?.(communeId) });
  }

  /** The cache key of `request` rendered for the commune: every input that changes the audio. */
  async cacheKey(request: RenderRequest, communeId?: string): Promise<string> {
    const commune = communeId ?? (await this.defaultCommuneId());
    return this.keyOf(this.settle(request, commune), this.spokenIn(request.text, commune), this.ttsOf(commune));
  }

  private keyOf(settled: ReturnType<NoticeRenderer['settle']>, spoken: string, tts: TtsAdapter): string {
    // The commune itself is not in the key: its dictionary is in `spoken`, its target in
    // `settled`, its engines in `tts.id`; communes that agree on all three share renders.
    return crypto
      .createHash('sha256')
      .update(JSON.stringify([PIPELINE_VERSION, tts.id, settled, spoken]))
      .digest('hex');
  }

  /** The settled options of `request` for the commune, defaults filled in: what the cache key is made of. */
  private settle(request: RenderRequest, communeId: string) {
    // Part of the cache key: a new target makes new renders rather than reusing the old ones.
    const loudnessTarget = {
      ...DEFAULT_LOUDNESS_TARGET,
      ...this.options.loudnessTarget?.(communeId),
      ...request.loudnessTarget,
    };
    if (!Number.isFinite(loudnessTarget.i) || loudnessTarget.i < -40 || loudnessTarget.i > -5) {
      throw new Error(`loudnessTarget.i must be between -40 and -5 LUFS, got ${loudnessTarget.i}`);
    }
    if (!Number.isFinite(loudnessTarget.tp) || loudnessTarget.tp < -9 || loudnessTarget.tp > 0) {
      throw new Error(`loudnessTarget.tp must be between -9 and 0 dBTP, got ${loudnessTarget.tp}`);
    }
    const settled = {
      voice: request.voice ?? null,
      speed: request.speed ?? 1,
      chime: request.chime ?? this.options.chime ?? true,
      repeat: request.repeat ?? DEFAULT_LAYOUT.repeat,
      gapMs: request.gapMs ?? DEFAULT_LAYOUT.gapMs,
      loudnessTarget,
      format: request.format ?? 'ogg',
      engine: request.engine ?? null,
      opusComplexity: this.options.opusComplexity ?? DEFAULT_OPUS_COMPLEXITY,
    };
    validateLayout(settled);
    return settled;
  }

  /** Loudness stored with the render; renders made before it was stored are measured again. */
  private async cachedLoudness(hit: RenderRow, asset: MediaAsset): Promise<Loudness> {
    if (hit.i != null && hit.tp != null) return { integratedLufs: hit.i, truePeakDbtp: hit.tp };
    const m = await measureLoudness(path.join(this.media.root, this.media.relativePath(asset.sha256, asset.format)));
    return { integratedLufs: m.integratedLufs, truePeakDbtp: m.truePeakDbtp };
  }

  /** Renders `request` as a notice of the commune: its dictionary, loudness target and engines. */
  async render(request: RenderRequest, communeId?: string): Promise<RenderResult> {
    const commune = communeId ?? (await this.defaultCommuneId());
    const settled = this.settle(request, commune);
    // Engines read digits and acronyms badly; they get the words a person would say.
    const spoken = this.spokenIn(request.text, commune);
    const tts = this.ttsOf(commune);
    const key = this.keyOf(settled, spoken, tts);
    const hit: RenderRow | undefined = await this.sqlDb.db
      .selectFrom('renders')
      .select(['sha256', 'engine', 'integrated_lufs as i', 'true_peak_dbtp as tp'])
      .where('cache_key', '=', key)
      .executeTakeFirst();
    const stored = hit ? await this.media.get(hit.sha256) : null;
    if (hit && stored) {
      return {
        ...stored,
        engine: hit.engine,
        fallback: false,
        cached: true,
        loudness: await this.cachedLoudness(hit, stored),
      };
    }

    const spokeBy: string[] = [];
    let fallback = false;
    const sentences = await synthesizeSentences(
      tts,
      { text: spoken, voice: request.voice, speed: request.speed, engine: request.engine },
      {
        onSynthesized: (result, index) => {
          spokeBy[index] = result.engineId ?? tts.id;
          fallback ||= result.fallback === true;
        },
      },
    );
    const engine = [...new Set(spokeBy)].join('+');
    const temp = this.media.tempPath(settled.format);
    try {
      const audio = await produceNoticeAudio(sentences, temp, { ...settled, complexity: settled.opusComplexity });
      const asset = await this.media.adopt(temp, settled.format, audio.durationMs);
      if (fallback) return { ...asset, engine, fallback, cached: false, loudness: audio.loudness };
      await this.sqlDb.db
        .insertInto('renders')
        .values({
          cache_key: key,
          sha256: asset.sha256,
          engine,
          created_at: Date.now(),
          integrated_lufs: audio.loudness.integratedLufs,
          true_peak_dbtp: audio.loudness.truePeakDbtp,
        })
        .onConflict((oc) =>
          oc.column('cache_key').doUpdateSet((eb) => ({
            sha256: eb.ref('excluded.sha256'),
            engine: eb.ref('excluded.engine'),
            integrated_lufs: eb.ref('excluded.integrated_lufs'),
            true_peak_dbtp: eb.ref('excluded.true_peak_dbtp'),
          })),
        )
        .execute();
      return { ...asset, engine, fallback, cached: false, loudness: audio.loudness };
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
}
