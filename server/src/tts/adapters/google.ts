/**
 * Google Cloud Text-to-Speech (synchronous; audio comes base64 in JSON).
 *
 * Documented API (https://cloud.google.com/text-to-speech/docs/reference/rest/v1/text/synthesize,
 * …/rest/v1/voices/list, …/docs/base64-decoding):
 *   POST https://texttospeech.googleapis.com/v1/text:synthesize
 *   auth: API key in the X-Goog-Api-Key header (Google Cloud's documented alternative to ?key=,
 *         keeps the key out of URLs and logs)
 *   body: {"input": {"text"}, "voice": {"languageCode": "vi-VN", "name"?},
 *          "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz", "speakingRate" (0.25 … 4)}}
 *   reply: {"audioContent": "<base64>"}; "For LINEAR16 audio, we include the WAV header."
 *   errors: {"error": {"code", "message", "status"}}
 *   GET https://texttospeech.googleapis.com/v1/voices?languageCode=vi-VN → {"voices": [{"name", "languageCodes", "ssmlGender", "naturalSampleRateHertz"}]}
 */
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from '../adapter';
import { toWav } from './audio';
import { TtsError } from './errors';
import { expectOk, joinUrl, retryPolicyOf, withRetry, type HttpAdapterOptions, boundedText } from './http';

export interface GoogleConfig extends HttpAdapterOptions {
  apiKey: string;
  /** e.g. vi-VN-Standard-A, vi-VN-Wavenet-A; omitted, Google picks a vi-VN voice. */
  voice?: string;
  languageCode?: string;
  sampleRate?: number;
}

const VENDOR = 'Google Cloud TTS';
const BASE_URL = 'https://texttospeech.googleapis.com';

export class GoogleAdapter implements TtsAdapter {
  readonly id = 'google';

  constructor(private readonly config: GoogleConfig) {}

  private base(): string {
    return this.config.baseUrl ?? BASE_URL;
  }

  private language(): string {
    return this.config.languageCode ?? 'vi-VN';
  }

  async voices(signal?: AbortSignal): Promise<TtsVoice[]> {
    const url = `${joinUrl(this.base(), '/v1/voices')}?languageCode=${encodeURIComponent(this.language())}`;
    const reply = await withRetry(VENDOR, retryPolicyOf(this.config), signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(url, { headers: { 'x-goog-api-key': this.config.apiKey }, signal: s }),
      );
      return (await res.json()) as { voices?: { name: string; languageCodes?: string[]; ssmlGender?: string }[] };
    });
    return (reply.voices ?? []).map((v) => ({
      id: v.name,
      name: `${v.name}${v.ssmlGender ? ` (${v.ssmlGender.toLowerCase()})` : ''}`,
      language: v.languageCodes?.[0] ?? this.language(),
    }));
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    // Listing voices is free and proves the key and the network.
    try {
      const voices = await this.voices(AbortSignal.timeout(10_000));
      return { ok: true, detail: `${voices.length} ${this.language()} voices` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text);
    const voiceName = request.voice ?? this.config.voice;
    const body = JSON.stringify({
      input: { text },
      voice: { languageCode: this.language(), ...(voiceName ? { name: voiceName } : {}) },
      audioConfig: {
        audioEncoding: 'LINEAR16',
        sampleRateHertz: this.config.sampleRate ?? 24_000,
        speakingRate: Math.max(0.25, Math.min(4, request.speed ?? 1)),
      },
    });
    const audio = await withRetry(VENDOR, retryPolicyOf(this.config), signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.base(), '/v1/text:synthesize'), {
          method: 'POST',
          headers: { 'x-goog-api-key': this.config.apiKey, 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: s,
        }),
      );
      const reply = (await res.json()) as { audioContent?: unknown };
      if (typeof reply.audioContent !== 'string' || !reply.audioContent) {
        throw new TtsError(VENDOR, 'reply has no audioContent');
      }
      return new Uint8Array(Buffer.from(reply.audioContent, 'base64'));
    });
    return toWav(VENDOR, audio, { signal });
  }
}
