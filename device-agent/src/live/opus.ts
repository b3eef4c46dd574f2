/**
 * Opus decoding for live frames, with packet-loss concealment and in-band FEC.
 * `@evan/opus`'s Decoder only offers `decode(buf)`, which cannot ask libopus for
 * concealment (a null packet) or for the FEC copy a packet carries of the one
 * before it; both need `opus_decode(…, frame_size, decode_fec)` with an exact
 * frame size. So this loads the package's own libopus WebAssembly build and
 * calls it directly. WebAssembly rather than the native addon: it runs the same
 * on every Pi (the addon has no 32-bit ARM build) and exposes the raw C API.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LIVE_FRAME_SAMPLES, LIVE_SAMPLE_RATE } from '@loaxa/protocol';

interface OpusExports {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_strerror(code: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(decoder: number, sampleRate: number, channels: number): number;
  opus_decode(decoder: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
}

/** A module with one SIMD instruction (v128.const + drop): validates only where SIMD is supported. */
const SIMD_PROBE = Uint8Array.of(
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
  3,
  2,
  1,
  0,
  10,
  9,
  1,
  7,
  0,
  65,
  0,
  253,
  15,
  26,
  11,
);
/** libopus refuses larger packets anyway (1275 bytes is its maximum for one frame). */
const MAX_PACKET_BYTES = 1500;

let opus: OpusExports | undefined;

/**
 * One instance for the process, compiled on first use: every decoder lives in its
 * memory, so a simulated fleet of thousands of loudspeakers pays for it once.
 */
function libopus(): OpusExports {
  if (opus) return opus;
  const build = WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'opus';
  const path = createRequire(import.meta.url).resolve(`@evan/opus/wasm/${build}.wasm`);
  const module = new WebAssembly.Module(readFileSync(path));
  const ignore = () => 0;
  const instance = new WebAssembly.Instance(module, {
    // libopus never writes to files; the C runtime links these all the same.
    wasi_snapshot_preview1: { fd_seek: ignore, fd_write: ignore, fd_close: ignore, proc_exit: ignore },
    // Views over memory are made per call, so a grown memory needs no notice.
    env: { emscripten_notify_memory_growth: ignore },
  });
  opus = instance.exports as unknown as OpusExports;
  return opus;
}

function opusError(lib: OpusExports, code: number): Error {
  const bytes = new Uint8Array(lib.memory.buffer, lib.opus_strerror(code));
  const end = bytes.indexOf(0);
  return new Error(`opus: ${Buffer.from(bytes.subarray(0, end < 0 ? 64 : end)).toString('latin1')}`);
}

/**
 * Decodes one live session's frames (20 ms, 48 kHz mono) in order. Each slot of
 * the session goes through exactly one of `decode`, `recover` or `conceal`, so
 * libopus' state follows the stream; after `recover(next)` the next slot still
 * calls `decode(next)`. Call `close` when the session ends: the state lives
 * outside the JavaScript heap.
 */
export class LiveDecoder {
  private readonly lib = libopus();
  private state: number;
  private readonly packet: number;
  private readonly pcm: number;

  constructor() {
    const lib = this.lib;
    this.state = lib.malloc(lib.opus_decoder_get_size(1));
    this.packet = lib.malloc(MAX_PACKET_BYTES);
    this.pcm = lib.malloc(LIVE_FRAME_SAMPLES * 2);
    const code = lib.opus_decoder_init(this.state, LIVE_SAMPLE_RATE, 1);
    if (code < 0) {
      this.close();
      throw opusError(lib, code);
    }
  }

  /** The frame's 960 samples; throws on a corrupt packet or one that is not 20 ms (conceal instead). */
  decode(packet: Uint8Array): Int16Array {
    if (packet.byteLength === 0) throw new Error('opus: empty packet');
    return this.run(packet, 0);
  }

  /** 20 ms guessed from what came before, for a frame that never arrived. */
  conceal(): Int16Array {
    return this.run(undefined, 0);
  }

  /**
   * The lost frame rebuilt from the low-bitrate copy that `nextPacket` (the frame
   * after it) carries; libopus falls back to concealment when it carries none.
   */
  recover(nextPacket: Uint8Array): Int16Array {
    return this.run(nextPacket, 1);
  }

  close(): void {
    if (this.state === 0) return;
    this.lib.free(this.state);
    this.lib.free(this.packet);
    this.lib.free(this.pcm);
    this.state = 0;
  }

  private run(packet: Uint8Array | undefined, decodeFec: 0 | 1): Int16Array {
    const lib = this.lib;
    if (this.state === 0) throw new Error('opus: decoder closed');
    const length = packet?.byteLength ?? 0;
    if (length > MAX_PACKET_BYTES) throw new Error(`opus: packet of ${length} bytes`);
    if (packet) new Uint8Array(lib.memory.buffer, this.packet, length).set(packet);
    // frame_size is exact for FEC and concealment (the duration to produce) and a maximum for decoding.
    const samples = lib.opus_decode(
      this.state,
      packet ? this.packet : 0,
      length,
      this.pcm,
      LIVE_FRAME_SAMPLES,
      decodeFec,
    );
    if (samples < 0) throw opusError(lib, samples);
    if (samples !== LIVE_FRAME_SAMPLES)
      throw new Error(`opus: a packet of ${samples} samples, not ${LIVE_FRAME_SAMPLES}`);
    return new Int16Array(lib.memory.buffer, this.pcm, LIVE_FRAME_SAMPLES).slice();
  }
}
