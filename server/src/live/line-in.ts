/**
 * The commune office's microphone or mixer on the server machine's sound card
 * (ALSA line-in or a USB microphone) as a live source: `arecord` captures
 * 48 kHz mono 16-bit PCM, cut into 20 ms frames and encoded to Opus here
 * (voice mode, 24 kbit/s, in-band FEC for the loudspeakers' lost frames), the
 * same packets a browser sends.
 */
import { spawn } from 'node:child_process';
import { Encoder } from '@evan/opus';
import { LIVE_FRAME_SAMPLES } from '@loaxa/protocol';

const FRAME_BYTES = LIVE_FRAME_SAMPLES * 2;

export interface LineIn {
  stop(): void;
}

export function captureLineIn(
  device: string,
  onPacket: (packet: Uint8Array) => void,
  /** The capture ended by itself (the card went away, arecord failed): `error` says why. */
  onEnd: (error: string | null) => void,
): LineIn {
  const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  encoder.bitrate = 24_000;
  encoder.inband_fec = true;
  encoder.packet_loss = 10;
  const child = spawn('arecord', ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '48000', '-c', '1', '-D', device], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stopped = false;
  let pending: Buffer = Buffer.alloc(0);
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= FRAME_BYTES) {
      const frame = pending.subarray(0, FRAME_BYTES);
      pending = pending.subarray(FRAME_BYTES);
      // A copy: the Int16Array must be aligned, and `frame` is a view into the pipe's buffer.
      const pcm = new Int16Array(LIVE_FRAME_SAMPLES);
      Buffer.from(pcm.buffer).set(frame);
      onPacket(encoder.encode(pcm));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString();
  });
  child.on('error', (err) => {
    if (!stopped) onEnd(`arecord could not start: ${err.message}`);
    stopped = true;
  });
  child.on('exit', (code, signal) => {
    if (stopped) return;
    stopped = true;
    onEnd(`arecord ended (${signal ?? `exit ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`);
  });
  return {
    stop() {
      stopped = true;
      // Only a started arecord: before its 'error' event a child that could not run has no pid, and
      // kill() would signal pid 0, this server's whole process group.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
