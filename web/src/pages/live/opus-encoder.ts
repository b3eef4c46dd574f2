/**
 * The live capture's Opus encoder for browsers without WebCodecs' AudioEncoder:
 * libopus compiled to WebAssembly, the build `@evan/opus` ships
 * (wasm/opus.wasm, the one device-agent decodes with). The package's own
 * JavaScript reads the file with Node's `fs`, so this calls the C API directly,
 * as device-agent/src/live/opus.ts does. It makes the same packets as the
 * WebCodecs path (frames.ts LIVE_OPUS): 48 kHz mono, 20 ms, 24 kbit/s, in-band
 * FEC for 10 % loss, the VOIP application. Runs in the capture's worker
 * (opus-worker.ts) and in Node for the tests: nothing here touches the page.
 */
import { FRAME_SAMPLES, LIVE_OPUS, LIVE_SAMPLE_RATE } from './frames';

/** The part of the module's exports used here (see `WebAssembly.Module.exports`). */
export interface LibopusExports {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(encoder: number, sampleRate: number, channels: number, application: number): number;
  opus_encode(encoder: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  /** The package's C wrappers around opus_encoder_ctl: set returns an error code, get the value. */
  opus_encoder_ctl_set(encoder: number, request: number, value: number): number;
  opus_encoder_ctl_get(encoder: number, request: number): number;
}

/** opus_defines.h: the requests used here (a getter is its setter + 1) and the application. */
export const OPUS_CTL = {
  application: 4000,
  bitrate: 4002,
  vbr: 4006,
  complexity: 4010,
  inbandFec: 4012,
  packetLossPercent: 4014,
} as const;
export const OPUS_APPLICATION_VOIP = 2048;

/** 1275 bytes is libopus' largest 20 ms packet; at 24 kbit/s they are about 60. */
const MAX_PACKET_BYTES = 1275;

/** What the module imports: libopus never writes to files, but its C runtime links these. */
function imports(): WebAssembly.Imports {
  const ignore = () => 0;
  return {
    wasi_snapshot_preview1: { fd_seek: ignore, fd_write: ignore, fd_close: ignore, proc_exit: ignore },
    // Views over memory are made per call, so a grown memory needs no notice.
    env: { emscripten_notify_memory_growth: ignore },
  };
}

/** An instance of the compiled module (one per worker: each capture has its own). */
export async function instantiateLibopus(module: WebAssembly.Module): Promise<LibopusExports> {
  const instance = await WebAssembly.instantiate(module, imports());
  return instance.exports as unknown as LibopusExports;
}

function opusError(lib: LibopusExports, code: number): Error {
  const bytes = new Uint8Array(lib.memory.buffer, lib.opus_strerror(code));
  const end = bytes.indexOf(0);
  let text = '';
  for (const byte of bytes.subarray(0, end < 0 ? 64 : end)) text += String.fromCharCode(byte);
  return new Error(`opus: ${text}`);
}

/**
 * One session's encoder: `encode` takes each 20 ms frame (960 float samples,
 * −1…1) in order and returns its packet. `close` frees libopus' state, which
 * lives outside the JavaScript heap.
 */
export class WasmOpusEncoder {
  private state: number;
  private readonly pcm: number;
  private readonly packet: number;

  constructor(private readonly lib: LibopusExports) {
    this.state = lib.malloc(lib.opus_encoder_get_size(1));
    this.pcm = lib.malloc(FRAME_SAMPLES * 2);
    this.packet = lib.malloc(MAX_PACKET_BYTES);
    const settings: [number, number][] = [
      [OPUS_CTL.bitrate, LIVE_OPUS.bitrate],
      [OPUS_CTL.complexity, LIVE_OPUS.complexity],
      [OPUS_CTL.inbandFec, 1],
      [OPUS_CTL.packetLossPercent, LIVE_OPUS.packetLossPercent],
    ];
    let code = lib.opus_encoder_init(this.state, LIVE_SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP);
    for (const [request, value] of settings) if (code >= 0) code = lib.opus_encoder_ctl_set(this.state, request, value);
    if (code < 0) {
      const error = opusError(lib, code);
      this.close();
      throw error;
    }
  }

  /** The packet of one 20 ms frame. */
  encode(samples: Float32Array): Uint8Array<ArrayBuffer> {
    const lib = this.lib;
    if (this.state === 0) throw new Error('opus: encoder closed');
    if (samples.length !== FRAME_SAMPLES) throw new Error(`opus: a frame of ${samples.length} samples`);
    const pcm = new Int16Array(lib.memory.buffer, this.pcm, FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const sample = samples[i]!;
      pcm[i] = Math.round((sample > 1 ? 1 : sample < -1 ? -1 : sample) * 32767);
    }
    const bytes = lib.opus_encode(this.state, this.pcm, FRAME_SAMPLES, this.packet, MAX_PACKET_BYTES);
    if (bytes < 0) throw opusError(lib, bytes);
    return new Uint8Array(lib.memory.buffer, this.packet, bytes).slice();
  }

  /** An encoder setting as libopus has it (OPUS_CTL: the setter's request). */
  get(request: number): number {
    if (this.state === 0) throw new Error('opus: encoder closed');
    return this.lib.opus_encoder_ctl_get(this.state, request + 1);
  }

  close(): void {
    if (this.state === 0) return;
    this.lib.free(this.state);
    this.lib.free(this.pcm);
    this.lib.free(this.packet);
    this.state = 0;
  }
}
