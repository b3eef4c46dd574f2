/**
 * Notice text → finished broadcast audio: sentences synthesised in parallel
 * (bounded), trimmed and joined in PCM, framed by the chime, repeated, brought
 * to the loudness target with two-pass loudnorm, encoded, then measured again.
 */
import type { MediaFormat } from '../media/store';
import type { SynthesisRequest, TtsAdapter } from '../tts/adapter';
import { chime } from './chime';
import { encodeAudio } from './encode';
import {
  analyse,
  conditioningFilters,
  DEFAULT_LOUDNESS_TARGET,
  loudnormApplyFilter,
  measureLoudness,
  parseLoudnormJson,
  type Loudness,
  type LoudnessTarget,
} from './loudness';
import { decodeWav, encodeWav, pcmDurationMs, type Pcm } from './pcm';
import { layOutProgram, validateLayout, type ProgramLayout } from './program';
import { splitSentences } from './sentences';

export interface NoticeAudioOptions extends ProgramLayout {
  /** Intro and outro chime; default on. */
  chime?: boolean;
  loudnessTarget?: LoudnessTarget;
  format?: MediaFormat;
  bitrateKbps?: number;
  /** Synthesis calls in flight at once; 3 keeps a cloud engine's rate limit and 2 cores happy. */
  concurrency?: number;
  /** Longest piece handed to the engine in one call. */
  maxChars?: number;
}

export interface NoticeAudio {
  /** Length of the encoded program (from its PCM, which encoding keeps). */
  durationMs: number;
  /** Measured on the encoded file, as a device decodes it. */
  loudness: Loudness;
  /** 'linear' when one fixed gain sufficed after conditioning, else loudnorm's dynamic mode. */
  normalization: string | null;
  sentences: number;
}

/** Runs `fn` over `items` with at most `limit` calls pending; results keep input order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Synthesises each sentence of `request.text` (bounded parallelism) into PCM, in order. */
export async function synthesizeSentences(
  tts: TtsAdapter,
  request: SynthesisRequest,
  options: Pick<NoticeAudioOptions, 'concurrency' | 'maxChars'> = {},
  signal?: AbortSignal,
): Promise<Pcm[]> {
  const texts = splitSentences(request.text, options.maxChars ?? 400);
  if (texts.length === 0) throw new Error('the notice has nothing to say');
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    return await mapWithLimit(texts, options.concurrency ?? 3, async (text) => {
      try {
        const result = await tts.synthesize({ ...request, text }, controller.signal);
        return decodeWav(result.wav);
      } catch (err) {
        controller.abort(); // one failed sentence fails the notice; stop the rest early
        throw err;
      }
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Lays out, normalises and encodes `sentences` into `outPath`. */
export async function produceNoticeAudio(
  sentences: readonly Pcm[],
  outPath: string,
  options: NoticeAudioOptions = {},
): Promise<NoticeAudio> {
  validateLayout(options);
  const target = { ...DEFAULT_LOUDNESS_TARGET, ...options.loudnessTarget };
  const format = options.format ?? 'ogg';
  const rate = sentences[0]?.sampleRate;
  if (!rate) throw new Error('no speech to lay out');

  const program = layOutProgram(sentences, options.chime === false ? null : await chime(rate), options);
  const wav = encodeWav(program);

  // Pass 1 measures; if peaks would stop linear gain, condition and measure again.
  const first = await analyse(wav, [], target);
  const pre = conditioningFilters(first, target);
  const measured = pre.length ? await analyse(wav, pre, target) : first;
  const apply = Number.isFinite(measured.inputI) ? [...pre, loudnormApplyFilter(measured, target)] : pre;
  const stderr = await encodeAudio(wav, outPath, { format, bitrateKbps: options.bitrateKbps, filters: apply });
  const normalization = Number.isFinite(measured.inputI) ? parseLoudnormJson(stderr).normalizationType : null;
  let final = await measureLoudness(outPath);
  // The codec can still push a peak over the ceiling; one re-encode a little quieter fixes it.
  const excess = final.truePeakDbtp - target.tp;
  if (excess > 0) {
    const filters = [...apply, `volume=${(-excess - 0.2).toFixed(2)}dB`];
    await encodeAudio(wav, outPath, { format, bitrateKbps: options.bitrateKbps, filters });
    final = await measureLoudness(outPath);
  }
  return {
    durationMs: pcmDurationMs(program),
    loudness: { integratedLufs: final.integratedLufs, truePeakDbtp: final.truePeakDbtp },
    normalization,
    sentences: sentences.length,
  };
}
