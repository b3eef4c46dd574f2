/**
 * Uploaded audio → a broadcast asset: probed with ffmpeg (the static build has
 * no ffprobe, so we read `ffmpeg -i`'s report), leading and trailing silence
 * trimmed, mastered exactly like rendered notices (master.ts) and stored in
 * the MediaStore by sha256. The caller hands a file it wrote under a name of
 * its own; the uploader's file name never reaches the file system.
 */
import fs from 'node:fs';
import type { MediaStore } from '../media/store';
import {
  DEFAULT_LOUDNESS_TARGET,
  EBUR128_FILTER,
  parseEbur128Summary,
  parseProcessedMs,
  type LoudnessTarget,
} from './loudness';
import { masterAudio } from './master';
import { ffmpegFrom, runFfmpeg } from './run';

export const DEFAULT_UPLOAD_MAX_BYTES = 50 * 1024 * 1024;
export const MAX_UPLOAD_DURATION_MS = 2 * 60 * 60 * 1000;

/**
 * Demuxers ffmpeg may pick for an upload: the formats the console promises
 * (mp3, wav, m4a, ogg, flac) plus the WebM/Matroska a browser records. Playlist
 * and concat demuxers are never on it, so a crafted "audio" file cannot make
 * ffmpeg open other files or URLs.
 */
const FORMAT_WHITELIST = 'mp3,wav,ogg,flac,mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,aac';

/** A rejected upload: HTTP status, a message naming the problem, and the form field (`file`). */
export class UploadError extends Error {
  readonly field = 'file';
  constructor(
    readonly statusCode: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

export interface AudioProbe {
  /** ffmpeg's name for the container, e.g. "mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  codec: string;
  sampleRate: number | null;
  channels: string | null;
  /** From the container's header; may be missing or an estimate. */
  durationMs: number | null;
}

/** Reads what `ffmpeg -i` says about a file (pure; exported for tests). */
export function parseProbe(stderr: string): AudioProbe | null {
  const input = /Input #0, ([^,]+(?:,[^,\s]+)*), from/.exec(stderr);
  const audio =
    /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([^\s,]+)[^,\n]*(?:, (\d+) Hz)?(?:, ([^,\n]+))?/.exec(stderr);
  if (!input || !audio) return null;
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  return {
    container: input[1]!,
    codec: audio[1]!,
    sampleRate: audio[2] ? Number(audio[2]) : null,
    channels: audio[3]?.trim() ?? null,
    durationMs: d ? Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000) : null,
  };
}

/** Probes `file`; null when ffmpeg finds no audio stream in a format we accept. */
export async function probeAudio(file: string): Promise<AudioProbe | null> {
  // `ffmpeg -i` with no output exits non-zero after printing its report; the report is what we want.
  const stderr = await new Promise<string>((resolve) => {
    ffmpegFrom(file)
      .inputOptions(['-format_whitelist', FORMAT_WHITELIST])
      .on('error', (_err: Error, _out: string | null, err: string | null) => resolve(err ?? ''))
      .on('end', (_out: string | null, err: string | null) => resolve(err ?? ''))
      .format('null')
      .outputOptions(['-t', '0'])
      .save('-');
  });
  return parseProbe(stderr);
}

/** Silences ffmpeg's silencedetect found, in seconds ([start, end]; end null when it runs to the end). */
export function parseSilences(stderr: string): [number, number | null][] {
  const out: [number, number | null][] = [];
  for (const m of stderr.matchAll(/silence_(start|end): (-?[\d.]+)/g)) {
    const t = Number(m[2]);
    if (m[1] === 'start') out.push([Math.max(0, t), null]);
    else if (out.length && out.at(-1)![1] === null) out.at(-1)![1] = t;
  }
  return out;
}

/** Seconds of sound between leading and trailing silence (keeping `keepS` of each), or null if all silent. */
export function soundSpan(
  silences: [number, number | null][],
  totalS: number,
  keepS = 0.03,
): { start: number; end: number } | null {
  let start = 0;
  let end = totalS;
  const first = silences[0];
  if (first && first[0] <= 0.01) {
    if (first[1] === null || first[1] >= totalS - 0.01) return null;
    start = Math.max(0, first[1] - keepS);
  }
  const last = silences.at(-1);
  if (last && last !== first && (last[1] === null || last[1] >= totalS - 0.01)) end = Math.min(totalS, last[0] + keepS);
  else if (last && last === first && first[0] > 0.01 && (first[1] === null || first[1] >= totalS - 0.01)) {
    end = Math.min(totalS, first[0] + keepS);
  }
  return end - start > 0.05 ? { start, end } : null;
}

export interface ImportOptions {
  loudnessTarget?: LoudnessTarget;
  /** libopus complexity 0–10. */
  complexity?: number;
  /** Longest audio accepted; default 2 h. */
  maxDurationMs?: number;
}

export interface ImportedAudio {
  sha256: string;
  durationMs: number;
  bytes: number;
  integratedLufs: number;
  truePeakDbtp: number;
}

function seconds(s: number): string {
  return s.toFixed(3);
}

/**
 * Probes, trims, masters and stores the audio file at `input` (a temporary
 * file the caller owns and removes). Throws UploadError for anything that is
 * not usable audio; nothing is stored then.
 */
export async function importAudio(
  media: MediaStore,
  input: string,
  options: ImportOptions = {},
): Promise<ImportedAudio> {
  const maxMs = options.maxDurationMs ?? MAX_UPLOAD_DURATION_MS;
  const size = (await fs.promises.stat(input)).size;
  if (size === 0) throw new UploadError(400, 'file: the file is empty');
  const probe = await probeAudio(input);
  if (!probe) {
    throw new UploadError(400, 'file: not an audio file we can read (mp3, wav, m4a, ogg, flac or webm)');
  }
  if (probe.durationMs !== null && probe.durationMs > maxMs) {
    throw new UploadError(400, `file: the audio is ${formatMs(probe.durationMs)} long; at most ${formatMs(maxMs)}`);
  }

  // One decode finds the silences and measures loudness; -t stops a file that lied about its length.
  let stderr: string;
  try {
    stderr = await runFfmpeg(
      ffmpegFrom(input)
        .inputOptions(['-format_whitelist', FORMAT_WHITELIST])
        .noVideo()
        .audioFilters(['silencedetect=n=-50dB:d=0.05', EBUR128_FILTER])
        .outputOptions(['-t', seconds(maxMs / 1000 + 1)])
        .format('null'),
      '-',
      'decode the upload',
    );
  } catch (err) {
    throw new UploadError(400, `file: the audio could not be decoded (${lastLine((err as Error).message)})`);
  }
  const decodedMs = parseProcessedMs(stderr);
  if (!decodedMs) throw new UploadError(400, 'file: the audio has no samples');
  if (decodedMs > maxMs) throw new UploadError(400, `file: the audio is longer than ${formatMs(maxMs)}`);
  const span = soundSpan(parseSilences(stderr), decodedMs / 1000);
  if (!span) throw new UploadError(400, 'file: the audio is silent');
  const loudness = parseEbur128Summary(stderr);
  if (!Number.isFinite(loudness.integratedLufs)) throw new UploadError(400, 'file: the audio is silent');

  const out = media.tempPath('ogg');
  try {
    const mastered = await masterAudio(input, out, {
      format: 'ogg',
      loudnessTarget: { ...DEFAULT_LOUDNESS_TARGET, ...options.loudnessTarget },
      complexity: options.complexity,
      // Silence trimmed off does not change the gated loudness, so the measurement above still holds.
      preFilters: [`atrim=start=${seconds(span.start)}:end=${seconds(span.end)}`, 'asetpts=PTS-STARTPTS'],
      measured: loudness,
      inputOptions: ['-format_whitelist', FORMAT_WHITELIST],
    });
    const durationMs = mastered.decodedMs ?? Math.round((span.end - span.start) * 1000);
    const asset = await media.adopt(out, 'ogg', durationMs);
    return {
      sha256: asset.sha256,
      durationMs: asset.durationMs,
      bytes: asset.bytes,
      integratedLufs: mastered.loudness.integratedLufs,
      truePeakDbtp: mastered.loudness.truePeakDbtp,
    };
  } finally {
    fs.rmSync(out, { force: true });
  }
}

function lastLine(message: string): string {
  const lines = message.trim().split('\n');
  return (lines.at(-1) ?? message).slice(0, 200);
}

function formatMs(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}
