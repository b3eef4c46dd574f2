/**
 * Lays a notice out in time, in PCM: [chime] speech ([gap] speech)×(repeat-1) [chime].
 * Pure: the chime and the speech come in as PCM of one sample rate.
 */
import { concatPcm, joinWithGaps, silence, trimSilence, type Pcm, type TrimOptions } from './pcm';

export interface ProgramLayout {
  /** Pause between sentences, ms. */
  sentenceGapMs?: number;
  /** Times the whole notice is read. */
  repeat?: number;
  /** Pause between readings, ms. */
  gapMs?: number;
  /** Pause between a chime and the speech, ms. */
  chimeGapMs?: number;
  trim?: TrimOptions;
}

export const DEFAULT_LAYOUT = { sentenceGapMs: 350, repeat: 1, gapMs: 3000, chimeGapMs: 400 } as const;
export const MAX_REPEAT = 10;

export function validateLayout(layout: ProgramLayout): void {
  const { repeat, gapMs, sentenceGapMs } = layout;
  if (repeat !== undefined && (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT)) {
    throw new Error(`repeat must be an integer from 1 to ${MAX_REPEAT}, got ${repeat}`);
  }
  for (const [name, v] of [
    ['gapMs', gapMs],
    ['sentenceGapMs', sentenceGapMs],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > 60_000)) {
      throw new Error(`${name} must be between 0 and 60000 ms, got ${v}`);
    }
  }
}

/**
 * Joins trimmed sentences with natural pauses, reads them `repeat` times and
 * frames the whole with the chime (when given).
 */
export function layOutProgram(sentences: readonly Pcm[], chime: Pcm | null, layout: ProgramLayout = {}): Pcm {
  validateLayout(layout);
  const sentenceGapMs = layout.sentenceGapMs ?? DEFAULT_LAYOUT.sentenceGapMs;
  const repeat = layout.repeat ?? DEFAULT_LAYOUT.repeat;
  const gapMs = layout.gapMs ?? DEFAULT_LAYOUT.gapMs;
  const chimeGapMs = layout.chimeGapMs ?? DEFAULT_LAYOUT.chimeGapMs;

  const trimmed = sentences.map((s) => trimSilence(s, layout.trim)).filter((s) => s.samples.length > 0);
  if (trimmed.length === 0) throw new Error('the speech is silent');
  const speech = joinWithGaps(trimmed, sentenceGapMs);
  const readings = joinWithGaps(
    Array.from({ length: repeat }, () => speech),
    gapMs,
  );
  if (!chime) return readings;
  if (chime.sampleRate !== speech.sampleRate) throw new Error('chime and speech sample rates differ');
  const pause = silence(speech.sampleRate, chimeGapMs);
  return concatPcm([chime, pause, readings, pause, chime]);
}
