/**
 * Loudness measurement and normalisation with ffmpeg's loudnorm (EBU R128).
 * The static ffmpeg we ship has no ffprobe, so we measure by running loudnorm
 * in analysis mode into the null muxer and reading its JSON from stderr.
 */
import { ffmpegFrom, runFfmpeg } from './run';

export interface LoudnessTarget {
  /** Integrated loudness, LUFS. Outdoor speech: -16 (DESIGN.md, Loudness). */
  i: number;
  /** Maximum true peak, dBTP. */
  tp: number;
  /** Loudness range, LU. */
  lra?: number;
}

export const DEFAULT_LOUDNESS_TARGET: Required<LoudnessTarget> = { i: -16, tp: -1.5, lra: 11 };

/** What loudnorm's analysis pass reports about its input. */
export interface LoudnormMeasurement {
  inputI: number;
  inputTp: number;
  inputLra: number;
  inputThresh: number;
  targetOffset: number;
  normalizationType: string | null;
}

export interface Loudness {
  integratedLufs: number;
  truePeakDbtp: number;
}

function num(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : Number(v);
  // Digital silence measures as "-inf"; keep it as a number the caller can test.
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  if (!Number.isFinite(n)) throw new Error(`loudnorm reported ${field}=${JSON.stringify(v)}`);
  return n;
}

/** Parses the JSON block loudnorm (print_format=json) writes at the end of stderr. */
export function parseLoudnormJson(stderr: string): LoudnormMeasurement {
  const at = stderr.lastIndexOf('[Parsed_loudnorm');
  const open = stderr.indexOf('{', at < 0 ? 0 : at);
  const close = stderr.indexOf('}', open);
  if (at < 0 || open < 0 || close < 0) throw new Error(`no loudnorm report in ffmpeg output: ${stderr.slice(-400)}`);
  const raw = JSON.parse(stderr.slice(open, close + 1)) as Record<string, unknown>;
  return {
    inputI: num(raw.input_i, 'input_i'),
    inputTp: num(raw.input_tp, 'input_tp'),
    inputLra: num(raw.input_lra, 'input_lra'),
    inputThresh: num(raw.input_thresh, 'input_thresh'),
    targetOffset: num(raw.target_offset, 'target_offset'),
    normalizationType: typeof raw.normalization_type === 'string' ? raw.normalization_type : null,
  };
}

/** Duration ffmpeg reports having processed (last `time=` in its progress output), in ms. */
export function parseProcessedMs(stderr: string): number | null {
  const all = [...stderr.matchAll(/time=(\d+):(\d\d):(\d\d(?:\.\d+)?)/g)];
  const last = all.at(-1);
  if (!last) return null;
  return Math.round((Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3])) * 1000);
}

function analysisFilter(target: LoudnessTarget): string {
  const lra = target.lra ?? DEFAULT_LOUDNESS_TARGET.lra;
  return `loudnorm=I=${target.i}:TP=${target.tp}:LRA=${lra}:print_format=json`;
}

/**
 * Runs `filters` (may be empty) then loudnorm analysis over `input` and returns
 * loudnorm's report, plus how much audio ffmpeg decoded.
 */
export async function analyse(
  input: string | Uint8Array,
  filters: string[] = [],
  target: LoudnessTarget = DEFAULT_LOUDNESS_TARGET,
): Promise<LoudnormMeasurement & { processedMs: number | null }> {
  const stderr = await runFfmpeg(
    ffmpegFrom(input)
      .audioFilters([...filters, analysisFilter(target)])
      .format('null'),
    '-',
    'measure loudness',
  );
  return { ...parseLoudnormJson(stderr), processedMs: parseProcessedMs(stderr) };
}

/** Integrated loudness and true peak of a file or WAV buffer, as a listener's device decodes it. */
export async function measureLoudness(input: string | Uint8Array): Promise<Loudness & { durationMs: number | null }> {
  const m = await analyse(input);
  return { integratedLufs: m.inputI, truePeakDbtp: m.inputTp, durationMs: m.processedMs };
}

/**
 * Limiter ceiling below the target true peak. Opus at 24 kbit/s raises the
 * true peak of espeak speech by about 1.5 dB when it decodes, and loudnorm's
 * linear gain adds a little more; 3 dB lands the encoded file under the target.
 */
const LIMITER_HEADROOM_DB = 3;

/**
 * A "phase rotator": four all-pass sections at 300 Hz. It changes no level or
 * tone, only phase, which spreads the sharp glottal pulses of synthetic
 * speech in time and lowers their crest factor (~2 dB on espeak), so the
 * limiter has less to take away. Broadcast voice processors do the same.
 */
const PHASE_ROTATOR = Array.from({ length: 4 }, () => 'allpass=f=300:width_type=q:width=0.707');

/**
 * Filters that make `measured` audio reach `target` in loudnorm's linear mode.
 *
 * Linear mode (one fixed gain, no pumping) only works when the peak-to-loudness
 * ratio fits: measured TP + gain ≤ target TP. espeak speech measures about
 * I=-20.3, TP=-0.4 (PLR 20 dB against the 14.5 dB that -16/-1.5 allows), so
 * loudnorm would silently fall back to its dynamic mode, which lands low on
 * short speech. When the peaks do not fit we rotate phase, bring the audio
 * near the target with a gain and limit the peaks under the ceiling; a second
 * analysis then sees audio that linear mode can finish.
 */
export function conditioningFilters(measured: LoudnormMeasurement, target: LoudnessTarget): string[] {
  if (!Number.isFinite(measured.inputI)) return [];
  const gain = target.i - measured.inputI;
  if (measured.inputTp + gain <= target.tp - LIMITER_HEADROOM_DB / 2) return [];
  const ceilingDb = Math.max(-24, target.tp - LIMITER_HEADROOM_DB);
  const limit = 10 ** (ceilingDb / 20);
  // aresample first so the limiter works on the 48 kHz signal (closer to true peak);
  // level=0: alimiter otherwise re-normalises its output up to the limit.
  return [
    'aresample=48000',
    ...PHASE_ROTATOR,
    `volume=${gain.toFixed(2)}dB`,
    `alimiter=limit=${limit.toFixed(4)}:attack=3:release=60:level=0`,
  ];
}

/** loudnorm's second pass: apply with the measured values, linear gain where possible. */
export function loudnormApplyFilter(measured: LoudnormMeasurement, target: LoudnessTarget): string {
  const lra = target.lra ?? DEFAULT_LOUDNESS_TARGET.lra;
  return [
    `loudnorm=I=${target.i}:TP=${target.tp}:LRA=${lra}`,
    `measured_I=${measured.inputI}`,
    `measured_TP=${measured.inputTp}`,
    `measured_LRA=${measured.inputLra}`,
    `measured_thresh=${measured.inputThresh}`,
    `offset=${measured.targetOffset}`,
    'linear=true:print_format=json',
  ].join(':');
}
