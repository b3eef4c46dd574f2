/**
 * The live capture, microphone to Opus packets, in the browser:
 * getUserMedia (echo cancellation, noise suppression, gain control, mono) →
 * an AudioContext at 48 kHz → the capture worklet (20 ms frames and their
 * level) → an Opus encoder (24 kbit/s, 20 ms, in-band FEC) → one packet per
 * frame to `onPacket`. The encoder is WebCodecs' AudioEncoder where the
 * browser has Opus in it; elsewhere (older Firefox, some Safari) it is libopus
 * compiled to WebAssembly, running in a worker (opus-worker.ts), which makes
 * the same packets. `liveEncoder` says which one this browser uses (the page
 * shows it), `liveSupport` who cannot go live at all.
 */
import workletUrl from './capture-worklet.ts?worker&url';
import OpusWorker from './opus-worker.ts?worker';
import type { OpusWorkerReply, OpusWorkerRequest } from './opus-worker';
import { CAPTURE_PROCESSOR, FRAME_SAMPLES, LIVE_OPUS, LIVE_SAMPLE_RATE } from './frames';
import type { LiveEncoder, LiveSupport } from '../live';

export const OPUS_CONFIG: AudioEncoderConfig = {
  codec: 'opus',
  sampleRate: LIVE_SAMPLE_RATE,
  numberOfChannels: 1,
  bitrate: LIVE_OPUS.bitrate,
  opus: {
    frameDuration: 20_000,
    complexity: LIVE_OPUS.complexity,
    useinbandfec: true,
    packetlossperc: LIVE_OPUS.packetLossPercent,
    format: 'opus',
  },
};

const FRAME_US = (FRAME_SAMPLES / LIVE_SAMPLE_RATE) * 1_000_000;
/** How long the WASM encoder may take to download (about 150 KB compressed) and compile on a slow phone. */
const WASM_LOAD_MS = 30_000;
/**
 * Frames handed to the WASM encoder and not back yet, at most: 3 s of them
 * (more than a busy page's pause) means the device cannot encode in real time,
 * and the villages would hear the speech later and later; the session ends
 * instead, saying why.
 */
const WASM_BACKLOG_FRAMES = 150;

/** Whether this browser can go live: it can capture, and one of the encoders works. */
export async function liveSupport(): Promise<LiveSupport> {
  if (typeof window === 'undefined' || !window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') return 'no-capture';
  return (await liveEncoder()) ? 'ok' : 'no-encoder';
}

let chosen: Promise<LiveEncoder | null> | null = null;

/**
 * The encoder this browser goes live with: WebCodecs' when it takes our exact
 * configuration, else the WASM one when it loads, else none. Decided once per
 * page load (asked again after a "none", which may have been the network).
 */
export function liveEncoder(): Promise<LiveEncoder | null> {
  if (!chosen) {
    const asked = chooseEncoder();
    chosen = asked;
    void asked.then((encoder) => {
      if (!encoder && chosen === asked) chosen = null;
    });
  }
  return chosen;
}

async function chooseEncoder(): Promise<LiveEncoder | null> {
  if (await webCodecsOpus()) return 'webcodecs';
  if (typeof WebAssembly !== 'object' || typeof Worker === 'undefined') return null;
  try {
    // Loaded as a capture would load it (the browser then has it cached), so that "ok" holds.
    (await openWasmEncoder({ onPacket: () => {}, onError: () => {} })).close();
    return 'wasm';
  } catch {
    return null;
  }
}

async function webCodecsOpus(): Promise<boolean> {
  if (typeof AudioEncoder === 'undefined' || typeof AudioData === 'undefined') return false;
  try {
    return (await AudioEncoder.isConfigSupported(OPUS_CONFIG)).supported === true;
  } catch {
    return false;
  }
}

export interface CaptureHandlers {
  /** One Opus packet (20 ms). */
  onPacket(packet: Uint8Array): void;
  /** The level of each 20 ms frame, as RMS (0–1). */
  onLevel(rms: number): void;
  /** The encoder or the microphone failed while capturing. */
  onError(cause: unknown): void;
}

export interface Capture {
  /** What the browser made of the asked capture (for the report and the test). */
  readonly contextRate: number;
  /** Stops everything and releases the microphone; safe to call twice. */
  stop(): void;
}

/** One capture's encoder: 20 ms frames in, in order; packets (or a failure) out through the handlers. */
interface FrameEncoder {
  encode(samples: Float32Array<ArrayBuffer>): void;
  close(): void;
}
type EncoderHandlers = Pick<CaptureHandlers, 'onPacket' | 'onError'>;

function openWebCodecsEncoder(handlers: EncoderHandlers): FrameEncoder {
  let frames = 0;
  const encoder = new AudioEncoder({
    output: (chunk) => {
      const packet = new Uint8Array(chunk.byteLength);
      chunk.copyTo(packet);
      handlers.onPacket(packet);
    },
    error: (cause) => handlers.onError(cause),
  });
  encoder.configure(OPUS_CONFIG);
  return {
    encode(samples) {
      if (encoder.state !== 'configured') return;
      const data = new AudioData({
        format: 'f32',
        sampleRate: LIVE_SAMPLE_RATE,
        numberOfFrames: FRAME_SAMPLES,
        numberOfChannels: 1,
        timestamp: frames++ * FRAME_US,
        data: samples,
      });
      encoder.encode(data);
      data.close();
    },
    close() {
      if (encoder.state !== 'closed') encoder.close();
    },
  };
}

/**
 * The WASM encoder: a worker of its own (opus-worker.ts), resolved once
 * libopus has loaded in it. Each frame is handed over (transferred, not
 * copied) and its packet comes back; the page only passes them on.
 */
function openWasmEncoder(handlers: EncoderHandlers): Promise<FrameEncoder> {
  return new Promise((resolve, reject) => {
    const worker = new OpusWorker();
    let ready = false;
    let closed = false;
    let waiting = 0;
    const close = () => {
      closed = true;
      clearTimeout(timer);
      worker.terminate();
    };
    const fail = (cause: Error) => {
      if (closed) return;
      close();
      if (ready) handlers.onError(cause);
      else reject(cause);
    };
    const timer = setTimeout(() => fail(new Error('the Opus encoder did not load in time')), WASM_LOAD_MS);
    worker.onmessage = (event: MessageEvent<OpusWorkerReply>) => {
      const reply = event.data;
      if (closed) return;
      if (reply.type === 'packet') {
        waiting--;
        handlers.onPacket(reply.packet);
      } else if (reply.type === 'error') fail(new Error(reply.message));
      else {
        ready = true;
        clearTimeout(timer);
        resolve({
          encode(samples) {
            if (closed) return;
            if (++waiting > WASM_BACKLOG_FRAMES) return fail(new Error('the Opus encoder cannot keep up'));
            const request: OpusWorkerRequest = { type: 'frame', samples };
            worker.postMessage(request, [samples.buffer]);
          },
          close,
        });
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(new Error(event.message || 'the Opus encoder could not start'));
    };
  });
}

/**
 * Opens the microphone and starts encoding. Rejects with the browser's own
 * error (NotAllowedError: refused; NotFoundError: no microphone) with nothing left open.
 */
export async function startCapture(handlers: CaptureHandlers): Promise<Capture> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  let context: AudioContext | null = null;
  let encoder: FrameEncoder | null = null;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    encoder?.close();
    void context?.close().catch(() => {});
  };
  try {
    context = new AudioContext({ sampleRate: LIVE_SAMPLE_RATE, latencyHint: 'interactive' });
    await context.audioWorklet.addModule(workletUrl);
    const encoderHandlers: EncoderHandlers = {
      onPacket: (packet) => handlers.onPacket(packet),
      onError: (cause) => {
        if (!stopped) handlers.onError(cause);
      },
    };
    encoder =
      (await liveEncoder()) === 'wasm' ? await openWasmEncoder(encoderHandlers) : openWebCodecsEncoder(encoderHandlers);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
    });
    node.port.onmessage = (event: MessageEvent<{ samples: Float32Array<ArrayBuffer>; rms: number }>) => {
      if (stopped || !encoder) return;
      encoder.encode(event.data.samples);
      handlers.onLevel(event.data.rms);
    };
    source.connect(node);
    // The node's output is silence; connected so that every browser keeps pulling it.
    node.connect(context.destination);
    for (const track of stream.getAudioTracks()) {
      track.addEventListener('ended', () => {
        if (!stopped) handlers.onError(new DOMException('the microphone was disconnected', 'NotReadableError'));
      });
    }
    if (context.state !== 'running') await context.resume();
    const contextRate = context.sampleRate;
    return { contextRate, stop };
  } catch (cause) {
    stop();
    throw cause;
  }
}
