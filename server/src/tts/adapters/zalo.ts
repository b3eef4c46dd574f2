/**
 * Zalo AI Text To Speech.
 *
 * Documented API (https://zalo.ai/docs/api/text-to-audio-converter):
 *   POST https://api.zalo.ai/v1/tts/synthesize
 *   header: apikey
 *   body (application/x-www-form-urlencoded): input (text, ≤ 2 000 characters),
 *          speaker_id (1 nữ miền Nam, 2 nữ miền Bắc, 3 nam miền Nam, 4 nam miền Bắc),
 *          speed (0.8 … 1.2), encode_type (0 = wav, 1 = mp3)
 *   reply: {"error_code": 0, "error_message": "Successful.", "data": {"url": "<audio url>"}}
 *   The audio is then downloaded from data.url (briefly 404 while being written: polled).
 */
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from '../adapter';
import { toWav } from './audio';
import { TtsError } from './errors';
import {
  expectOk,
  fetchAudioIfReady,
  joinUrl,
  pollPolicyOf,
  pollUntilReady,
  retryPolicyOf,
  vendorMessage,
  withRetry,
  type HttpAdapterOptions,
  boundedText,
  configuredKeyHealth,
} from './http';

export interface ZaloConfig extends HttpAdapterOptions {
  apiKey: string;
  voice?: string;
  /** What Zalo renders; both become WAV here. Default wav (lossless). */
  format?: 'wav' | 'mp3';
}

const VENDOR = 'Zalo AI';
const BASE_URL = 'https://api.zalo.ai';
const MAX_CHARS = 2_000;

export const ZALO_VOICES: TtsVoice[] = [
  { id: '1', name: 'Nữ miền Nam', language: 'vi' },
  { id: '2', name: 'Nữ miền Bắc', language: 'vi' },
  { id: '3', name: 'Nam miền Nam', language: 'vi' },
  { id: '4', name: 'Nam miền Bắc', language: 'vi' },
];

export class ZaloAdapter implements TtsAdapter {
  readonly id = 'zalo';

  constructor(private readonly config: ZaloConfig) {}

  async voices(): Promise<TtsVoice[]> {
    return ZALO_VOICES;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    return configuredKeyHealth(this.config.apiKey);
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text, { max: MAX_CHARS });
    const retry = retryPolicyOf(this.config);
    const form = new URLSearchParams({
      input: text,
      speaker_id: request.voice ?? this.config.voice ?? '2',
      speed: String(Math.max(0.8, Math.min(1.2, request.speed ?? 1))),
      encode_type: (this.config.format ?? 'wav') === 'mp3' ? '1' : '0',
    });
    const audioUrl = await withRetry(VENDOR, retry, signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.config.baseUrl ?? BASE_URL, '/v1/tts/synthesize'), {
          method: 'POST',
          headers: { apikey: this.config.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
          signal: s,
        }),
      );
      const raw = await res.text();
      let reply: { error_code?: unknown; data?: { url?: unknown } };
      try {
        reply = JSON.parse(raw) as typeof reply;
      } catch {
        throw new TtsError(VENDOR, `unexpected reply (not JSON): ${raw.slice(0, 120)}`);
      }
      if (reply.error_code !== 0 || typeof reply.data?.url !== 'string') {
        throw new TtsError(
          VENDOR,
          `error ${String(reply.error_code)}: ${vendorMessage(raw) || 'no audio url in reply'}`,
        );
      }
      return reply.data.url;
    });
    const audio = await pollUntilReady(VENDOR, 'audio', retry, pollPolicyOf(this.config), signal, (s) =>
      fetchAudioIfReady(VENDOR, audioUrl, s),
    );
    return toWav(VENDOR, audio, { signal });
  }
}
