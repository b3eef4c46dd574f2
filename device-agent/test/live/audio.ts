/** Test audio: signals made by the tests, encoded with @evan/opus the way the server's encoder is set up. */
import { Encoder } from '@evan/opus';
import { LIVE_FRAME_SAMPLES, LIVE_SAMPLE_RATE } from '@loaxa/protocol';

/** Speech-like settings: SILK (or hybrid) with in-band FEC, which libopus only adds when told to expect loss. */
export function voiceEncoder(): Encoder {
  const encoder = new Encoder({ channels: 1, sample_rate: LIVE_SAMPLE_RATE, application: 'voip' });
  encoder.inband_fec = true;
  encoder.packet_loss = 10;
  encoder.bitrate = 24_000;
  return encoder;
}

/** The encoder's lookahead: decoded audio comes out this much later than it went in (6.5 ms for 'voip'). */
export function codecDelayMs(encoder: Encoder): number {
  // lib.d.ts spells the getter `lookhead`; the library's is `lookahead`.
  const samples = (encoder as unknown as { lookahead: number }).lookahead;
  return (samples / LIVE_SAMPLE_RATE) * 1000;
}

/** `frames` frames of `sample(t)` (t in seconds from the start), clipped to 16 bits. */
export function synthesise(frames: number, sample: (t: number) => number): Int16Array[] {
  return Array.from({ length: frames }, (_, frame) => {
    const pcm = new Int16Array(LIVE_FRAME_SAMPLES);
    for (let i = 0; i < pcm.length; i++) {
      const value = sample((frame * LIVE_FRAME_SAMPLES + i) / LIVE_SAMPLE_RATE);
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(value)));
    }
    return pcm;
  });
}

export function encodeAll(encoder: Encoder, frames: readonly Int16Array[]): Uint8Array[] {
  return frames.map((pcm) => encoder.encode(pcm));
}

/** Normalised correlation of two equally long signals: 1 identical, 0 unrelated (or one silent). */
export function correlation(a: Int16Array, b: Int16Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}
