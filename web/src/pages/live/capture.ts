/**
 * The live capture, microphone to Opus packets, in the browser:
 * getUserMedia (echo cancellation, noise suppression, gain control, mono) →
 * an AudioContext at 48 kHz → the capture worklet (20 ms frames and their
 * level) → WebCodecs' AudioEncoder (Opus, 24 kbit/s, 20 ms, in-band FEC) →
 * one packet per frame to `onPacket`. A WASM encoder for browsers without
 * WebCodecs Opus is planned; until then `liveSupport` says who cannot go live.
 */
import workletUrl from './capture-worklet.ts?worker&url';
import { CAPTURE_PROCESSOR, FRAME_SAMPLES, LIVE_SAMPLE_RATE } from './frames';
import type { LiveSupport } from '../live';

export const OPUS_CONFIG: AudioEncoderConfig = {
  codec: 'opus',
  sampleRate: LIVE_SAMPLE_RATE,
  numberOfChannels: 1,
  bitrate: 24_000,
  opus: { frameDuration: 20_000, complexity: 5, useinbandfec: true, packetlossperc: 10, format: 'opus' },
};

const FRAME_US = (FRAME_SAMPLES / LIVE_SAMPLE_RATE) * 1_000_000;

/** Whether this browser can go live (the encoder is asked about our exact configuration). */
export async function liveSupport(): Promise<LiveSupport> {
  if (typeof window === 'undefined' || !window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') return 'no-capture';
  if (typeof AudioEncoder === 'undefined' || typeof AudioData === 'undefined') return 'no-encoder';
  try {
    const { supported } = await AudioEncoder.isConfigSupported(OPUS_CONFIG);
    return supported ? 'ok' : 'no-encoder';
  } catch {
    return 'no-encoder';
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

/**
 * Opens the microphone and starts encoding. Rejects with the browser's own
 * error (NotAllowedError: refused; NotFoundError: no microphone) with nothing left open.
 */
export async function startCapture(handlers: CaptureHandlers): Promise<Capture> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  let context: AudioContext | null = null;
  let encoder: AudioEncoder | null = null;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    if (encoder && encoder.state !== 'closed') encoder.close();
    void context?.close().catch(() => {});
  };
  try {
    context = new AudioContext({ sampleRate: LIVE_SAMPLE_RATE, latencyHint: 'interactive' });
    await context.audioWorklet.addModule(workletUrl);
    encoder = new AudioEncoder({
      output: (chunk) => {
        const packet = new Uint8Array(chunk.byteLength);
        chunk.copyTo(packet);
        handlers.onPacket(packet);
      },
      error: (cause) => {
        if (!stopped) handlers.onError(cause);
      },
    });
    encoder.configure(OPUS_CONFIG);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
    });
    let frames = 0;
    node.port.onmessage = (event: MessageEvent<{ samples: Float32Array<ArrayBuffer>; rms: number }>) => {
      if (stopped || !encoder || encoder.state !== 'configured') return;
      const data = new AudioData({
        format: 'f32',
        sampleRate: LIVE_SAMPLE_RATE,
        numberOfFrames: FRAME_SAMPLES,
        numberOfChannels: 1,
        timestamp: frames++ * FRAME_US,
        data: event.data.samples,
      });
      encoder.encode(data);
      data.close();
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
