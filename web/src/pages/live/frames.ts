/**
 * The officer's voice cut into what the server takes: 20 ms frames of 960
 * samples at 48 kHz, one Opus packet each (protocol: LIVE_FRAME_SAMPLES).
 * Imported by the capture worklet, so nothing here may reach for the page.
 */
export const LIVE_SAMPLE_RATE = 48_000;
export const FRAME_SAMPLES = 960;
/**
 * The Opus stream the server takes, whichever encoder makes it (WebCodecs in
 * capture.ts, the WASM one in opus-encoder.ts): 24 kbit/s, 20 ms packets,
 * in-band FEC sized for 10 % loss, and complexity 5, light on a cheap phone.
 */
export const LIVE_OPUS = { bitrate: 24_000, complexity: 5, packetLossPercent: 10 } as const;
/** The name the worklet registers its processor under. */
export const CAPTURE_PROCESSOR = 'loaxa-live-capture';

/**
 * Collects the audio graph's render quanta (128 samples at the context's rate)
 * into whole frames at 48 kHz. A context that is not at 48 kHz (a browser that
 * ignored the asked rate) is resampled by linear interpolation: speech over
 * loudspeakers does not need better, and it keeps the worklet tiny.
 */
export class FrameChunker {
  /** Input samples per output sample. */
  private readonly step: number;
  /** Where the next output sample falls, in input samples from the start of the next block (−1: the last sample kept). */
  private position = 0;
  private last = 0;
  private started = false;
  private frame: Float32Array;
  private filled = 0;

  constructor(
    inputRate: number,
    private readonly frameSamples = FRAME_SAMPLES,
    outputRate = LIVE_SAMPLE_RATE,
  ) {
    if (!(inputRate > 0) || !(outputRate > 0)) throw new RangeError('sample rates must be positive');
    this.step = inputRate / outputRate;
    this.frame = new Float32Array(frameSamples);
  }

  /** The frames completed by this block (often none). */
  push(input: Float32Array): Float32Array[] {
    const out: Float32Array[] = [];
    if (input.length === 0) return out;
    if (this.step === 1) {
      for (let i = 0; i < input.length; i++) this.put(input[i]!, out);
      return out;
    }
    if (!this.started) {
      this.started = true;
      this.last = input[0]!;
    }
    const n = input.length;
    let p = this.position;
    // Sample at p lies between index floor(p) and the next; index −1 is the previous block's last sample.
    while (p < n - 1) {
      const i = Math.floor(p);
      const frac = p - i;
      const a = i < 0 ? this.last : input[i]!;
      const b = input[i + 1]!;
      this.put(a + (b - a) * frac, out);
      p += this.step;
    }
    this.position = p - n;
    this.last = input[n - 1]!;
    return out;
  }

  private put(sample: number, out: Float32Array[]): void {
    this.frame[this.filled++] = sample;
    if (this.filled === this.frameSamples) {
      out.push(this.frame);
      this.frame = new Float32Array(this.frameSamples);
      this.filled = 0;
    }
  }
}

/** Root mean square of a frame (0 for silence, about 0.7 for a full-scale sine). */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}
