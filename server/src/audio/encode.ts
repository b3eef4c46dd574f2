import type { MediaFormat } from '../media/store';
import { DEFAULT_OPUS_COMPLEXITY } from './defaults';
import { ffmpegFrom, runFfmpeg } from './run';

export interface EncodeOptions {
  /** Opus bitrate in kbit/s; 24 keeps a minute of speech near 180 KB for 4G. */
  bitrateKbps?: number;
}

export interface EncodeAudioOptions {
  format: MediaFormat;
  /** Defaults: Opus 24 kbit/s, MP3 48 kbit/s (mono speech). */
  bitrateKbps?: number;
  /** ffmpeg audio filters applied before encoding (e.g. the mastering gain). */
  filters?: string[];
  /** Opus encoder complexity 0–10 (libopus `-compression_level`); ignored for MP3. */
  complexity?: number;
  /** ffmpeg input options (an upload's demuxer whitelist). */
  inputOptions?: string[];
}

export { DEFAULT_OPUS_COMPLEXITY };

export const DEFAULT_BITRATE_KBPS: Record<MediaFormat, number> = { ogg: 24, mp3: 48 };

/**
 * ffmpeg input options for decoding a file of the media store (`inputOptions`
 * of encodeAudio). Our Ogg files are all Opus, and they go through libopus'
 * decoder: ffmpeg's own Opus decoder (in the 2018 build @ffmpeg-installer ships)
 * fails on SILK packets that carry in-band FEC ("Error decoding a SILK frame"),
 * which live recordings are full of, and leaves silence and garbled sound in
 * their place. Not for uploads: those are any format, left to ffmpeg's detection.
 */
export function storedMediaInputOptions(format: MediaFormat): string[] {
  return format === 'ogg' ? ['-c:a', 'libopus'] : [];
}

/**
 * Encodes audio (a file path or WAV bytes) to mono 48 kHz Opus-in-Ogg or MP3
 * at `outPath`, through `filters` first; returns ffmpeg's stderr.
 */
export function encodeAudio(input: string | Uint8Array, outPath: string, options: EncodeAudioOptions): Promise<string> {
  const bitrate = options.bitrateKbps ?? DEFAULT_BITRATE_KBPS[options.format];
  // Resample last so every path ends at 48 kHz whatever rate the filters worked at.
  const command = ffmpegFrom(input)
    .inputOptions(options.inputOptions ?? [])
    .noVideo()
    .audioFilters([...(options.filters ?? []), 'aresample=48000'])
    .audioChannels(1)
    .audioFrequency(48_000)
    .audioBitrate(`${bitrate}k`)
    .outputOptions(['-map_metadata', '-1']);
  if (options.format === 'ogg') {
    const complexity = options.complexity ?? DEFAULT_OPUS_COMPLEXITY;
    if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) {
      throw new Error(`complexity must be an integer from 0 to 10, got ${complexity}`);
    }
    command
      .audioCodec('libopus')
      .format('ogg')
      .outputOptions(['-application', 'voip', '-compression_level', String(complexity)]);
  } else {
    command.audioCodec('libmp3lame').format('mp3').outputOptions(['-write_xing', '0', '-id3v2_version', '0']);
  }
  return runFfmpeg(command, outPath, `encode ${options.format === 'ogg' ? 'Opus' : 'MP3'}`);
}

/** Encodes a WAV buffer to Opus in Ogg, mono 48 kHz, written to `outPath`. */
export async function encodeWavToOpus(wav: Uint8Array, outPath: string, options: EncodeOptions = {}): Promise<void> {
  await encodeAudio(wav, outPath, { format: 'ogg', bitrateKbps: options.bitrateKbps });
}

/** Encodes a WAV buffer to MP3, mono 48 kHz (default 48 kbit/s), written to `outPath`. */
export async function encodeWavToMp3(wav: Uint8Array, outPath: string, options: EncodeOptions = {}): Promise<void> {
  await encodeAudio(wav, outPath, { format: 'mp3', bitrateKbps: options.bitrateKbps });
}

/** Duration of a PCM WAV buffer, read from its header (no ffprobe needed). */
export function wavDurationMs(wav: Uint8Array): number {
  const buf = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE buffer');
  }
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') byteRate = buf.readUInt32LE(offset + 16);
    if (id === 'data') {
      // espeak streams may leave the size at 0xffffffff or larger than the buffer.
      size = Math.min(size, buf.length - offset - 8);
      if (!byteRate) throw new Error('WAV data before fmt chunk');
      return Math.round((size / byteRate) * 1000);
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}
