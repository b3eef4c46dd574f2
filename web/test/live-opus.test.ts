/**
 * The WASM Opus encoder of the live page (live/opus-encoder.ts), in Node with
 * the same libopus build the browser downloads: it is set up as the WebCodecs
 * path is (VOIP, 24 kbit/s, complexity 5, in-band FEC for 10 % loss); a 1 kHz
 * sine comes back from @evan/opus's decoder as a 1 kHz sine in 20 ms packets
 * near 24 kbit/s; and a lost packet is rebuilt from the FEC copy its successor carries.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Decoder } from '@evan/opus';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, LIVE_SAMPLE_RATE } from '../src/pages/live/frames';
import {
  instantiateLibopus,
  OPUS_APPLICATION_VOIP,
  OPUS_CTL,
  WasmOpusEncoder,
  type LibopusExports,
} from '../src/pages/live/opus-encoder';

/** The decoder half of the same module, for what @evan/opus's Decoder cannot ask: decode_fec. */
interface LibopusDecoding {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(decoder: number, sampleRate: number, channels: number): number;
  opus_decode(decoder: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
}

let lib: LibopusExports;
const encoders: WasmOpusEncoder[] = [];

function encoder(): WasmOpusEncoder {
  const opened = new WasmOpusEncoder(lib);
  encoders.push(opened);
  return opened;
}

/** `seconds` of a sine, cut into 20 ms frames; `hz` may change with the frame. */
function sineFrames(seconds: number, hz: (frame: number) => number, amplitude = 0.5): Float32Array[] {
  const frames: Float32Array[] = [];
  let phase = 0;
  for (let f = 0; f < Math.round((seconds * LIVE_SAMPLE_RATE) / FRAME_SAMPLES); f++) {
    const frame = new Float32Array(FRAME_SAMPLES);
    const step = (2 * Math.PI * hz(f)) / LIVE_SAMPLE_RATE;
    for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = amplitude * Math.sin((phase += step));
    frames.push(frame);
  }
  return frames;
}

/** The amplitude of the `hz` component of `pcm`, and the share of the signal's power it holds. */
function tone(pcm: Float32Array, hz: number): { amplitude: number; share: number } {
  let c = 0;
  let s = 0;
  let power = 0;
  for (let i = 0; i < pcm.length; i++) {
    const w = (2 * Math.PI * hz * i) / LIVE_SAMPLE_RATE;
    c += pcm[i]! * Math.cos(w);
    s += pcm[i]! * Math.sin(w);
    power += pcm[i]! * pcm[i]!;
  }
  const amplitude = (2 * Math.hypot(c, s)) / pcm.length;
  return { amplitude, share: power > 0 ? (amplitude * amplitude) / 2 / (power / pcm.length) : 0 };
}

const toFloat = (pcm: Int16Array) => Float32Array.from(pcm, (v) => v / 32768);

beforeAll(async () => {
  const file = createRequire(import.meta.url).resolve('@evan/opus/wasm/opus.wasm');
  lib = await instantiateLibopus(new WebAssembly.Module(fs.readFileSync(file)));
});

afterEach(() => {
  for (const opened of encoders.splice(0)) opened.close();
});

describe('WASM Opus encoder', () => {
  it('is set up as the WebCodecs path: VOIP, 24 kbit/s, complexity 5, in-band FEC for 10 % loss', () => {
    const opus = encoder();
    expect(opus.get(OPUS_CTL.application)).toBe(OPUS_APPLICATION_VOIP);
    expect(opus.get(OPUS_CTL.bitrate)).toBe(24_000);
    expect(opus.get(OPUS_CTL.complexity)).toBe(5);
    expect(opus.get(OPUS_CTL.inbandFec)).toBe(1);
    expect(opus.get(OPUS_CTL.packetLossPercent)).toBe(10);
    expect(opus.get(OPUS_CTL.vbr)).toBe(1);
  });

  it('encodes a 1 kHz sine that decodes back as 1 kHz, in 20 ms packets near 24 kbit/s', () => {
    const opus = encoder();
    const packets = sineFrames(2, () => 1000).map((frame) => opus.encode(frame));
    expect(packets).toHaveLength(100);
    const bitrate = (packets.reduce((sum, p) => sum + p.byteLength, 0) * 8) / 2;
    expect(bitrate).toBeGreaterThan(16_000);
    expect(bitrate).toBeLessThan(32_000);
    // Mono, one frame per packet (TOC code 0); SILK or hybrid, the modes that carry in-band FEC.
    for (const packet of packets) {
      expect(packet[0]! & 0b111).toBe(0);
      expect(packet[0]! >> 3).toBeLessThan(16);
    }

    const decoder = new Decoder({ channels: 1, sample_rate: 48_000 });
    const decoded = packets.map((packet) => {
      const bytes = decoder.decode(packet);
      return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    });
    expect(decoded.every((pcm) => pcm.length === FRAME_SAMPLES)).toBe(true);
    // Past the codec's start-up: 1.6 s, 80 whole periods of 1 kHz.
    const pcm = new Float32Array(80 * FRAME_SAMPLES);
    decoded.slice(20).forEach((frame, i) => pcm.set(toFloat(frame), i * FRAME_SAMPLES));
    const at1k = tone(pcm, 1000);
    expect(at1k.share).toBeGreaterThan(0.9);
    expect(at1k.amplitude).toBeGreaterThan(0.35);
    expect(at1k.amplitude).toBeLessThan(0.65);
    expect(tone(pcm, 440).amplitude).toBeLessThan(0.02);
  });

  it('puts an FEC copy of each frame in the next packet: a lost frame comes back as it was, not guessed', () => {
    // 600 Hz and 1400 Hz by turns every 100 ms; the first frame of a turn is "lost".
    const opus = encoder();
    const hz = (frame: number) => (Math.floor(frame / 5) % 2 ? 1400 : 600);
    const packets = sineFrames(2, hz).map((frame) => opus.encode(frame));
    const raw = lib as unknown as LibopusDecoding;
    const decode = (lost: number, fec: 0 | 1): Float32Array => {
      const state = raw.malloc(raw.opus_decoder_get_size(1));
      const data = raw.malloc(1500);
      const out = raw.malloc(FRAME_SAMPLES * 2);
      expect(raw.opus_decoder_init(state, LIVE_SAMPLE_RATE, 1)).toBe(0);
      let frame = new Float32Array(0);
      for (let i = 0; i <= lost; i++) {
        const packet = i === lost ? (fec ? packets[lost + 1]! : null) : packets[i]!;
        if (packet) new Uint8Array(raw.memory.buffer, data, packet.byteLength).set(packet);
        const length = packet?.byteLength ?? 0;
        const samples = raw.opus_decode(state, packet ? data : 0, length, out, FRAME_SAMPLES, i === lost ? fec : 0);
        expect(samples).toBe(FRAME_SAMPLES);
        frame = toFloat(new Int16Array(raw.memory.buffer, out, FRAME_SAMPLES).slice());
      }
      for (const pointer of [state, data, out]) raw.free(pointer);
      return frame;
    };
    // The last 10 ms of the frame: the first ones still hold the tone before it (the codec's delay).
    const end = (pcm: Float32Array) => pcm.subarray(FRAME_SAMPLES / 2);
    for (const lost of [50, 60, 70]) {
      const wanted = hz(lost);
      const before = hz(lost - 1);
      const recovered = end(decode(lost, 1));
      expect(tone(recovered, wanted).amplitude).toBeGreaterThan(0.25);
      expect(tone(recovered, wanted).amplitude).toBeGreaterThan(5 * tone(recovered, before).amplitude);
      // Without the FEC copy libopus can only carry on the tone it had.
      const concealed = end(decode(lost, 0));
      expect(tone(concealed, wanted).amplitude).toBeLessThan(0.05);
    }
  });

  it('refuses a frame that is not 20 ms, and a closed encoder', () => {
    const opus = encoder();
    expect(() => opus.encode(new Float32Array(480))).toThrow(/480 samples/);
    opus.close();
    opus.close();
    expect(() => opus.encode(new Float32Array(FRAME_SAMPLES))).toThrow(/closed/);
  });
});
