/** The one interface every text-to-speech engine implements. */
export interface SynthesisRequest {
  text: string;
  voice?: string;
  /** 1.0 is the engine's normal rate. */
  speed?: number;
  pitch?: number;
  /** Engine to try first, for adapters that front several engines (TtsRegistry.asAdapter). */
  engine?: string;
}

export interface SynthesisResult {
  /** RIFF/WAVE PCM bytes. */
  wav: Uint8Array;
  sampleRate: number;
  /** The engine that spoke, when the adapter fronts several. */
  engineId?: string;
  /** True when the preferred engine failed and a later one in the chain spoke. */
  fallback?: boolean;
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
