import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { resolveFfmpeg } from './ffmpeg';

export interface EncodeOptions {
  /** Opus bitrate in kbit/s; 24 keeps a minute of speech near 180 KB for 4G. */
  bitrateKbps?: number;
}

/** Encodes a WAV buffer to Opus in Ogg, mono 48 kHz, written to `outPath`. */
export function encodeWavToOpus(wav: Uint8Array, outPath: string, options: EncodeOptions = {}): Promise<void> {
  const bitrate = options.bitrateKbps ?? 24;
  return new Promise((resolve, reject) => {
    ffmpeg(Readable.from([Buffer.from(wav)]))
      .setFfmpegPath(resolveFfmpeg().path)
      .inputFormat('wav')
      .audioChannels(1)
      .audioFrequency(48_000)
      .audioCodec('libopus')
      .audioBitrate(`${bitrate}k`)
      .format('ogg')
      .outputOptions(['-application', 'voip', '-map_metadata', '-1'])
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) =>
        reject(new Error(`ffmpeg failed to encode Opus: ${err.message}${stderr ? `\n${stderr.slice(-800)}` : ''}`)),
      )
      .on('end', () => resolve())
      .save(outPath);
  });
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
