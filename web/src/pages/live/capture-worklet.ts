/**
 * The live capture's AudioWorklet processor: the microphone's samples, cut
 * into 20 ms frames at 48 kHz (frames.ts), posted to the page with their RMS
 * level. Bundled by Vite on its own (`?worker&url`, see capture.ts).
 */
import { CAPTURE_PROCESSOR, FrameChunker, rms } from './frames';

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly chunker = new FrameChunker(sampleRate);

  process(inputs: Float32Array[][]): boolean {
    // Mono: the first channel (the node mixes its input down to one).
    const channel = inputs[0]?.[0];
    if (channel) {
      for (const frame of this.chunker.push(channel)) {
        this.port.postMessage({ samples: frame, rms: rms(frame) }, [frame.buffer]);
      }
    }
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
