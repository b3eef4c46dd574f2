/** The one interface every text-to-speech engine implements. */
export interface SynthesisRequest {
  text: string;
  voice?: string;
  /** 1.0 is the engine's normal rate. */
  speed?: number;
  pitch?: number;
}

export interface SynthesisResult {
  /** RIFF/WAVE PCM bytes. */
  wav: Uint8Array;
  sampleRate: number;
}

export interface TtsVoice {
  id: string;
  name: string;
  language: string;
}

export interface TtsAdapter {
  readonly id: string;
  synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult>;
  voices(): Promise<TtsVoice[]>;
  health(): Promise<{ ok: boolean; detail?: string }>;
}
