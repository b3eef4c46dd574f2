/**
 * Mastering: bring any audio (a WAV buffer or a file) to the loudness target
 * and encode it for distribution, then measure what a device will decode.
 * Shared by rendered notices and uploads so both sound the same.
 *
 * Passes (each streams; none writes a large intermediate file):
 *   1. measure the source at its own rate (ebur128, fast);
 *   2. only when its peaks would not fit under one fixed gain: in one more
 *      decode, measure the loudness after the limiter at a few candidate gains
 *      and pick the gain that lands on the target;
 *   3. encode (the expensive pass: libopus is most of a render's time);
 *   4. measure the encoded file (decode + ebur128); if the codec pushed the true
 *      peak over the target, encode once more a little quieter.
 * The old pipeline ran loudnorm three times; loudnorm resamples to 192 kHz
 * internally and was 5-6× slower per pass than ebur128.
 */
import type { MediaFormat } from '../media/store';
import { encodeAudio } from './encode';
import {
  DEFAULT_LOUDNESS_TARGET,
  interpolateGain,
  LIMITER_HEADROOM_DB,
  limiterChain,
  measureBranches,
  measureLoudness,
  needsConditioning,
  type Loudness,
  type LoudnessTarget,
} from './loudness';

export interface MasterOptions {
  loudnessTarget?: LoudnessTarget;
  format?: MediaFormat;
  bitrateKbps?: number;
  /** Opus encoder complexity 0–10 (see encode.ts). */
  complexity?: number;
  /** Filters applied first in every pass (an upload's trim, for example). */
  preFilters?: string[];
  /** ffmpeg input options for every pass that reads `input` (an upload's demuxer whitelist). */
  inputOptions?: string[];
  /** Loudness of `input` after `preFilters`, when the caller measured it already (saves pass 1). */
  measured?: Loudness;
}

export interface MasteredAudio {
  /** Measured on the encoded file, as a device decodes it. */
  loudness: Loudness;
  /** Length of the encoded file as decoded, ms. */
  decodedMs: number | null;
  /** 'linear': one fixed gain (after the limiter where the peaks needed it); null for silence. */
  normalization: 'linear' | null;
  /** Whether the phase rotator + limiter ran before encoding. */
  conditioned: boolean;
}

/** Extra gain candidates (dB over the plain gain) tried through the limiter. */
const CANDIDATE_STEPS_DB = [0, 2, 4, 6];
/** Lossy coding takes a few tenths of a LU away; aim that much above the target. */
const CODEC_LOSS_LU = 0.3;

export async function masterAudio(
  input: string | Uint8Array,
  outPath: string,
  options: MasterOptions = {},
): Promise<MasteredAudio> {
  const target = { ...DEFAULT_LOUDNESS_TARGET, ...options.loudnessTarget };
  const format = options.format ?? 'ogg';
  const pre = options.preFilters ?? [];
  const encode = (filters: string[]) =>
    encodeAudio(input, outPath, {
      format,
      bitrateKbps: options.bitrateKbps,
      complexity: options.complexity,
      inputOptions: options.inputOptions,
      filters,
    });

  const first = options.measured ?? (await measureLoudness(input, pre, options.inputOptions));
  const silent = !Number.isFinite(first.integratedLufs);
  const plainGain = silent ? 0 : target.i - first.integratedLufs;
  const conditioned = needsConditioning(first, target);
  let chain: string[];
  if (conditioned) {
    const gains = CANDIDATE_STEPS_DB.map((step) => plainGain + step);
    const lufs = await measureBranches(
      input,
      pre,
      gains.map((g) => limiterChain(g, target)),
      options.inputOptions,
    );
    const gain = interpolateGain(gains, lufs, target.i + CODEC_LOSS_LU);
    // The limiter works at 48 kHz here, closer to the true peak than a 22 kHz source.
    chain = [...pre, 'aresample=48000', ...limiterChain(gain, target)];
  } else {
    // The peaks fit: one gain, capped so the codec keeps its headroom.
    const gain = silent ? 0 : Math.min(plainGain, target.tp - LIMITER_HEADROOM_DB / 2 - first.truePeakDbtp);
    chain = gain === 0 ? pre : [...pre, `volume=${gain.toFixed(2)}dB`];
  }
  await encode(chain);
  let final = await measureLoudness(outPath);
  const excess = final.truePeakDbtp - target.tp;
  if (excess > 0) {
    await encode([...chain, `volume=${(-excess - 0.2).toFixed(2)}dB`]);
    final = await measureLoudness(outPath);
  }
  return {
    loudness: { integratedLufs: final.integratedLufs, truePeakDbtp: final.truePeakDbtp },
    decodedMs: final.durationMs,
    normalization: silent ? null : 'linear',
    conditioned,
  };
}
