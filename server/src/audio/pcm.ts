/**
 * Mono 16-bit PCM in memory. Speech pieces from one engine share a sample rate
 * and format, so joining, padding and trimming happen here, exactly and
 * without spawning ffmpeg; ffmpeg only sees the finished program.
 */

export interface Pcm {
  sampleRate: number;
  /** Mono signed 16-bit samples. */
  samples: Int16Array;
}

/** Reads a mono 16-bit PCM RIFF/WAVE buffer (espeak streams may leave the data size at 0xffffffff). */
export function decodeWav(wav: Uint8Array): Pcm {
  const buf = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE buffer');
  }
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      const audioFormat = buf.readUInt16LE(offset + 8);
      const channels = buf.readUInt16LE(offset + 10);
      const bits = buf.readUInt16LE(offset + 22);
      if (audioFormat !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`WAV must be mono 16-bit PCM (got format ${audioFormat}, ${channels} ch, ${bits} bit)`);
      }
      sampleRate = buf.readUInt32LE(offset + 12);
    }
    if (id === 'data') {
      if (!sampleRate) throw new Error('WAV data before fmt chunk');
      size = Math.min(size, buf.length - offset - 8);
      const count = Math.floor(size / 2);
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = buf.readInt16LE(offset + 8 + i * 2);
      return { sampleRate, samples };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}

/** A canonical 44-byte-header WAV of the given PCM. */
export function encodeWav(pcm: Pcm): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(pcm.sampleRate, 24);
  buf.writeUInt32LE(pcm.sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, dataBytes).copy(buf, 44);
  return buf;
}

export function pcmDurationMs(pcm: Pcm): number {
  return Math.round((pcm.samples.length / pcm.sampleRate) * 1000);
}

export function silence(sampleRate: number, ms: number): Pcm {
  return { sampleRate, samples: new Int16Array(Math.round((sampleRate * Math.max(0, ms)) / 1000)) };
}

/** A sine tone at `amplitude` (0–1 of full scale) with 20 ms fades, so it starts and stops without a click. */
export function sine(sampleRate: number, hz: number, ms: number, amplitude: number): Pcm {
  const samples = new Int16Array(Math.round((sampleRate * ms) / 1000));
  const fade = Math.round(sampleRate * 0.02);
  for (let i = 0; i < samples.length; i++) {
    const edge = Math.min(1, i / fade, (samples.length - 1 - i) / fade);
    samples[i] = Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * amplitude * edge * 32767);
  }
  return { sampleRate, samples };
}

/** Joins pieces end to end; all must share one sample rate. */
export function concatPcm(pieces: readonly Pcm[]): Pcm {
  if (pieces.length === 0) throw new Error('nothing to join');
  const sampleRate = pieces[0]!.sampleRate;
  const bad = pieces.find((p) => p.sampleRate !== sampleRate);
  if (bad) throw new Error(`cannot join ${bad.sampleRate} Hz audio to ${sampleRate} Hz audio`);
  const samples = new Int16Array(pieces.reduce((n, p) => n + p.samples.length, 0));
  let at = 0;
  for (const p of pieces) {
    samples.set(p.samples, at);
    at += p.samples.length;
  }
  return { sampleRate, samples };
}

/** Pieces with `gapMs` of silence between them (none before the first or after the last). */
export function joinWithGaps(pieces: readonly Pcm[], gapMs: number): Pcm {
  if (pieces.length === 0) throw new Error('nothing to join');
  const gap = silence(pieces[0]!.sampleRate, gapMs);
  return concatPcm(pieces.flatMap((p, i) => (i === 0 ? [p] : [gap, p])));
}

export interface TrimOptions {
  /** Level below which audio counts as silence; -50 dBFS sits under espeak's breath noise floor. */
  thresholdDb?: number;
  /** Silence kept at each end so consonant onsets and decays are not clipped. */
  keepMs?: number;
}

/**
 * Removes leading and trailing silence. Done per sentence in PCM (rather than
 * once with ffmpeg's silenceremove on the joined speech) so the pause between
 * sentences is exactly the configured gap, whatever padding an engine adds.
 */
export function trimSilence(pcm: Pcm, options: TrimOptions = {}): Pcm {
  const threshold = 32768 * 10 ** ((options.thresholdDb ?? -50) / 20);
  const keep = Math.round((pcm.sampleRate * (options.keepMs ?? 30)) / 1000);
  const s = pcm.samples;
  let first = 0;
  while (first < s.length && Math.abs(s[first]!) <= threshold) first++;
  if (first === s.length) return { sampleRate: pcm.sampleRate, samples: new Int16Array(0) };
  let last = s.length - 1;
  while (last > first && Math.abs(s[last]!) <= threshold) last--;
  return {
    sampleRate: pcm.sampleRate,
    samples: s.slice(Math.max(0, first - keep), Math.min(s.length, last + 1 + keep)),
  };
}
