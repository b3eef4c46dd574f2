/**
 * Notice text → finished broadcast audio: sentences synthesised in parallel
 * (bounded), trimmed and joined in PCM, framed by the chime, repeated, brought
 * to the loudness target, encoded and measured again (master.ts).
 */
import type { MediaFormat } from '../media/store';
import type { SynthesisRequest, SynthesisResult, TtsAdapter } from '../tts/adapter';
import { chime, type ChimeKind } from './chime';
import { type Loudness, type LoudnessTarget } from './loudness';
import { masterAudio } from './master';
import { decodeWav, encodeWav, pcmDurationMs, type Pcm } from './pcm';
import { layOutProgram, validateLayout, type ProgramLayout } from './program';
import { splitSentences } from './sentences';

export interface NoticeAudioOptions extends ProgramLayout {
  /** Intro and outro chime (true: the notice chime, or an alert's tone); default on. */
  chime?: boolean | ChimeKind;
  loudnessTarget?: LoudnessTarget;
  format?: MediaFormat;
  bitrateKbps?: number;
  /** Opus encoder complexity 0–10; default in encode.ts. */
  complexity?: number;
  /** Synthesis calls in flight at once; 3 keeps a cloud engine's rate limit and 2 cores happy. */
  concurrency?: number;
  /** Longest piece handed to the engine in one call. */
  maxChars?: number;
}

export interface SynthesisOptions extends Pick<NoticeAudioOptions, 'concurrency' | 'maxChars'> {
  /** Told about each sentence's engine result (which engine spoke, whether it was a fallback). */
  onSynthesized?: (result: SynthesisResult, index: number) => void;
}

export interface NoticeAudio {
  /** Length of the encoded program (from its PCM, which encoding keeps). */
  durationMs: number;
  /** Measured on the encoded file, as a device decodes it. */
  loudness: Loudness;
  /** 'linear': one fixed gain (after conditioning where peaks needed it); null for silence. */
  normalization: 'linear' | null;
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
  options: SynthesisOptions = {},
  signal?: AbortSignal,
): Promise<Pcm[]> {
  const texts = splitSentences(request.text, options.maxChars ?? 400);
  if (texts.length === 0) throw new Error('the notice has nothing to say');
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort);
  try {
    return await mapWithLimit(texts, options.concurrency ?? 3, async (text, index) => {
      try {
        const result = await tts.synthesize({ ...request, text }, controller.signal);
        options.onSynthesized?.(result, index);
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
  const format = options.format ?? 'ogg';
  const rate = sentences[0]?.sampleRate;
  if (!rate) throw new Error('no speech to lay out');
  const program = layOutProgram(
    sentences,
    options.chime === false
      ? null
      : await chime(rate, options.chime === true || options.chime === undefined ? 'notice' : options.chime),
    options,
  );
  const mastered = await masterAudio(encodeWav(program), outPath, {
    format,
    loudnessTarget: options.loudnessTarget,
    bitrateKbps: options.bitrateKbps,
    complexity: options.complexity,
  });
  return {
    durationMs: pcmDurationMs(program),
    loudness: mastered.loudness,
    normalization: mastered.normalization,
    sentences: sentences.length,
  };
}
