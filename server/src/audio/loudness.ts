/**
 * Loudness measurement (EBU R128 / ITU-R BS.1770) and the filters that bring
 * audio to a target. The static ffmpeg we ship has no ffprobe, so we measure
 * with ffmpeg's ebur128 filter into the null muxer and read its summary from
 * stderr. ebur128 works at the audio's own rate (it oversamples only for the
 * true peak); loudnorm, which we used before, resamples everything to 192 kHz
 * and was 5-6× slower for the same numbers.
 */
import { ffmpegFrom, runFfmpeg } from './run';

export interface LoudnessTarget {
  /** Integrated loudness, LUFS. Outdoor speech: -16 (DESIGN.md, Loudness). */
  i: number;
  /** Maximum true peak, dBTP. */
  tp: number;
  /** Loudness range, LU (kept for configuration compatibility; linear gain does not change it). */
  lra?: number;
}

export const DEFAULT_LOUDNESS_TARGET: Required<LoudnessTarget> = { i: -16, tp: -1.5, lra: 11 };

export interface Loudness {
  /** -Infinity for digital silence (nothing passes the -70 LUFS gate). */
  integratedLufs: number;
  /** -Infinity for digital silence. */
  truePeakDbtp: number;
}

export interface LoudnessMeasurement extends Loudness {
  /** How much audio ffmpeg decoded (last `time=` of its progress), ms. */
  durationMs: number | null;
}

/** Duration ffmpeg reports having processed (last `time=` in its progress output), in ms. */
export function parseProcessedMs(stderr: string): number | null {
  const all = [...stderr.matchAll(/time=(\d+):(\d\d):(\d\d(?:\.\d+)?)/g)];
  const last = all.at(-1);
  if (!last) return null;
  return Math.round((Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3])) * 1000);
}

/** Parses the summary the ebur128 filter (peak=true) prints when its input ends. */
export function parseEbur128Summary(stderr: string): Loudness {
  const at = stderr.lastIndexOf('Summary:');
  const summary = at < 0 ? '' : stderr.slice(at);
  const i = /Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS/.exec(summary);
  const tp = /True peak:\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS/.exec(summary);
  if (!i || !tp) throw new Error(`no ebur128 summary in ffmpeg output: ${stderr.slice(-400)}`);
  const integrated = i[1] === '-inf' ? Number.NEGATIVE_INFINITY : Number(i[1]);
  return {
    // ebur128 reports -70 (its absolute gate) when no block passes it: silence.
    integratedLufs: integrated <= -70 ? Number.NEGATIVE_INFINITY : integrated,
    truePeakDbtp: tp[1] === '-inf' ? Number.NEGATIVE_INFINITY : Number(tp[1]),
  };
}

/** The ebur128 filter as we run it: true peak, per-frame log hidden below the default log level. */
export const EBUR128_FILTER = 'ebur128=peak=true:framelog=verbose';

/**
 * Integrated loudness and true peak of a file or WAV buffer (through
 * `filters` first, if any), as a listener's device decodes it.
 */
export async function measureLoudness(
  input: string | Uint8Array,
  filters: string[] = [],
  inputOptions: string[] = [],
): Promise<LoudnessMeasurement> {
  const stderr = await runFfmpeg(
    ffmpegFrom(input)
      .inputOptions(inputOptions)
      .audioFilters([...filters, EBUR128_FILTER])
      .format('null'),
    '-',
    'measure loudness',
  );
  return { ...parseEbur128Summary(stderr), durationMs: parseProcessedMs(stderr) };
}

/**
 * Integrated loudness of `input` through `pre`, then through each of
 * `branches` (filter chains), measured in one decode: ffmpeg splits the audio
 * and runs an ebur128 per branch. Returns one LUFS value per branch, in order.
 */
export async function measureBranches(
  input: string | Uint8Array,
  pre: string[],
  branches: string[][],
  inputOptions: string[] = [],
): Promise<number[]> {
  const n = branches.length;
  if (n === 0) return [];
  const labels = branches.map((_, k) => `b${k}`);
  const head = [...pre, n > 1 ? `asplit=${n}${labels.map((l) => `[${l}]`).join('')}` : 'anull[b0]'].join(',');
  const tails = branches.map((chain, k) => {
    const body = [...chain, 'ebur128=framelog=verbose'].join(',');
    return k === 0 ? `[b0]${body}[out]` : `[${labels[k]}]${body},anullsink`;
  });
  const stderr = await runFfmpeg(
    ffmpegFrom(input)
      .inputOptions(inputOptions)
      .complexFilter([head, ...tails].join(';'), ['out'])
      .format('null'),
    '-',
    'measure loudness',
  );
  // The last summary of each ebur128 instance; instances are numbered in graph order.
  const byInstance = new Map<number, number>();
  for (const m of stderr.matchAll(
    /\[Parsed_ebur128_(\d+) @ [^\]]+\] Summary:\s*Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)/g,
  )) {
    const value = m[2] === '-inf' ? Number.NEGATIVE_INFINITY : Number(m[2]);
    byInstance.set(Number(m[1]), value <= -70 ? Number.NEGATIVE_INFINITY : value);
  }
  const values = [...byInstance.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  if (values.length !== n)
    throw new Error(`expected ${n} ebur128 summaries, found ${values.length}: ${stderr.slice(-400)}`);
  return values;
}

/**
 * Limiter ceiling below the target true peak. Opus at 24 kbit/s raises the
 * true peak of espeak speech by about 1.5 dB when it decodes; 3 dB lands the
 * encoded file under the target.
 */
export const LIMITER_HEADROOM_DB = 3;

/**
 * A "phase rotator": four all-pass sections at 300 Hz. It changes no level or
 * tone, only phase, which spreads the sharp glottal pulses of synthetic
 * speech in time and lowers their crest factor (~2 dB on espeak), so the
 * limiter has less to take away. Broadcast voice processors do the same.
 */
const PHASE_ROTATOR = Array.from({ length: 4 }, () => 'allpass=f=300:width_type=q:width=0.707');

/** Whether one fixed gain to the target would leave the peaks too little headroom for the codec. */
export function needsConditioning(measured: Loudness, target: LoudnessTarget): boolean {
  if (!Number.isFinite(measured.integratedLufs)) return false;
  return measured.truePeakDbtp + (target.i - measured.integratedLufs) > target.tp - LIMITER_HEADROOM_DB / 2;
}

/**
 * Phase rotator, `gainDb`, then a limiter whose ceiling leaves the codec
 * LIMITER_HEADROOM_DB under the target true peak.
 *
 * A fixed gain (no pumping) only works when the peak-to-loudness ratio fits:
 * measured TP + gain ≤ target TP. espeak speech measures about I=-20.3,
 * TP=-0.4 (PLR 20 dB against the 14.5 dB that -16/-1.5 allows). The limiter
 * takes loudness away as it takes peaks, so the gain that lands on the target
 * is found by measuring a few candidates (measureBranches).
 */
export function limiterChain(gainDb: number, target: LoudnessTarget): string[] {
  const ceilingDb = Math.max(-24, target.tp - LIMITER_HEADROOM_DB);
  const limit = 10 ** (ceilingDb / 20);
  // level=0: alimiter otherwise re-normalises its output up to the limit.
  return [
    ...PHASE_ROTATOR,
    `volume=${gainDb.toFixed(2)}dB`,
    `alimiter=limit=${limit.toFixed(4)}:attack=3:release=60:level=0`,
  ];
}

/**
 * The gain at which the measured curve (`gains` → `lufs`, rising) crosses
 * `aim`, by linear interpolation; clamped to the measured range.
 */
export function interpolateGain(gains: readonly number[], lufs: readonly number[], aim: number): number {
  if (gains.length === 0 || gains.length !== lufs.length) throw new Error('gains and lufs must pair up');
  if (aim <= lufs[0]!) return gains[0]!;
  for (let k = 1; k < gains.length; k++) {
    const lo = lufs[k - 1]!;
    const hi = lufs[k]!;
    if (aim <= hi)
      return hi === lo ? gains[k]! : gains[k - 1]! + ((aim - lo) / (hi - lo)) * (gains[k]! - gains[k - 1]!);
  }
  return gains.at(-1)!;
}
