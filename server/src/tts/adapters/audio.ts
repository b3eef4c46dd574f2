/**
 * Vendors answer with MP3, WAV of assorted layouts, or raw containers; the
 * pipeline wants mono 16-bit PCM WAV. Canonical WAV passes through without a
 * process; anything else goes through ffmpeg once.
 */
import { spawn } from 'node:child_process';
import { resolveFfmpeg } from '../../audio/ffmpeg';
import { decodeWav, encodeWav } from '../../audio/pcm';
import type { SynthesisResult } from '../adapter';
import { TtsError } from './errors';

function isRiffWave(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.length >= 12 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WAVE';
}

/** Runs ffmpeg with `bytes` on stdin and returns stdout. */
function ffmpegPipe(args: string[], bytes: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`ffmpeg exited with ${code}: ${Buffer.concat(err).toString().trim().slice(-400)}`));
    });
    // ffmpeg may stop reading early on bad input; that surfaces as its exit code, not EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

/**
 * `bytes` (WAV, MP3 or anything ffmpeg reads) as canonical mono 16-bit WAV.
 * `sampleRate` resamples; omitted, the source rate is kept.
 */
export async function toWav(
  vendor: string,
  bytes: Uint8Array,
  options: { sampleRate?: number; signal?: AbortSignal } = {},
): Promise<SynthesisResult> {
  if (bytes.byteLength === 0) throw new TtsError(vendor, 'returned empty audio');
  if (isRiffWave(bytes)) {
    try {
      const pcm = decodeWav(bytes);
      if (!options.sampleRate || options.sampleRate === pcm.sampleRate) {
        return { wav: new Uint8Array(encodeWav(pcm)), sampleRate: pcm.sampleRate };
      }
    } catch {
      // stereo, 24-bit, float…: let ffmpeg convert it
    }
  }
  let out: Buffer;
  try {
    out = await ffmpegPipe(
      [
        '-i',
        'pipe:0',
        '-ac',
        '1',
        ...(options.sampleRate ? ['-ar', String(options.sampleRate)] : []),
        '-c:a',
        'pcm_s16le',
        '-f',
        'wav',
        'pipe:1',
      ],
      bytes,
      options.signal,
    );
  } catch (err) {
    throw new TtsError(vendor, `returned audio ffmpeg cannot decode (${(err as Error).message})`, { cause: err });
  }
  const pcm = decodeWav(out);
  if (pcm.samples.length === 0) throw new TtsError(vendor, 'returned audio with no samples');
  return { wav: new Uint8Array(encodeWav(pcm)), sampleRate: pcm.sampleRate };
}
