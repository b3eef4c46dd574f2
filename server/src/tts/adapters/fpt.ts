/**
 * FPT.AI Text to Speech v5 (asynchronous: answers with a link the audio will appear at).
 *
 * Documented API (https://docs.fpt.ai/docs/en/speech/api/text-to-speech):
 *   POST https://api.fpt.ai/hmi/tts/v5
 *   headers: api_key (required), voice (banmai | lannhi | leminh | myan | thuminh | giahuy | linhsan),
 *            speed (-3 slowest … 0 normal … +3 fastest), format (mp3 | wav, default mp3),
 *            callback_url (optional; not used: we poll)
 *   body:    the text itself, 3 to 5 000 characters
 *   reply:   {"async": "<audio url>", "error": 0, "message": "...", "request_id": "..."}; error ≠ 0 is a failure.
 *   The file at "async" "may not exist right at the time of response. Waiting time will be
 *   from 5 seconds to 2 minutes": we poll it (404/403 = not yet) for pollTimeoutMs (default 120 s).
 * The key is also sent as `api-key`: FPT's console samples use that spelling, and proxies that
 * drop underscore headers (nginx's default) would otherwise lose it.
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

export interface FptConfig extends HttpAdapterOptions {
  apiKey: string;
  voice?: string;
  /** What FPT renders; both become WAV here. Default mp3 (FPT's default). */
  format?: 'mp3' | 'wav';
}

const VENDOR = 'FPT.AI';
const BASE_URL = 'https://api.fpt.ai';
const MIN_CHARS = 3;
const MAX_CHARS = 5_000;

export const FPT_VOICES: TtsVoice[] = [
  { id: 'banmai', name: 'Ban Mai (nữ miền Bắc)', language: 'vi' },
  { id: 'thuminh', name: 'Thu Minh (nữ miền Bắc)', language: 'vi' },
  { id: 'leminh', name: 'Lê Minh (nam miền Bắc)', language: 'vi' },
  { id: 'myan', name: 'Mỹ An (nữ miền Trung)', language: 'vi' },
  { id: 'giahuy', name: 'Gia Huy (nam miền Trung)', language: 'vi' },
  { id: 'lannhi', name: 'Lan Nhi (nữ miền Nam)', language: 'vi' },
  { id: 'linhsan', name: 'Linh San (nữ miền Nam)', language: 'vi' },
];

/** Our speed (1 = normal) on FPT's seven steps; 1.5× and above is +3, 0.5× and below −3. */
export function fptSpeed(speed = 1): number {
  return Math.max(-3, Math.min(3, Math.round((speed - 1) * 6)));
}

export class FptAdapter implements TtsAdapter {
  readonly id = 'fpt';

  constructor(private readonly config: FptConfig) {}

  async voices(): Promise<TtsVoice[]> {
    return FPT_VOICES;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    return configuredKeyHealth(this.config.apiKey);
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text, { min: MIN_CHARS, max: MAX_CHARS });
    const retry = retryPolicyOf(this.config);
    const headers: Record<string, string> = {
      api_key: this.config.apiKey,
      'api-key': this.config.apiKey,
      voice: request.voice ?? this.config.voice ?? 'banmai',
      speed: String(fptSpeed(request.speed)),
      format: this.config.format ?? 'mp3',
      'content-type': 'text/plain; charset=utf-8',
    };
    const asyncUrl = await withRetry(VENDOR, retry, signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.config.baseUrl ?? BASE_URL, '/hmi/tts/v5'), {
          method: 'POST',
          headers,
          body: text,
          signal: s,
        }),
      );
      const raw = await res.text();
      let reply: { async?: unknown; error?: unknown };
      try {
        reply = JSON.parse(raw) as typeof reply;
      } catch {
        throw new TtsError(VENDOR, `unexpected reply (not JSON): ${raw.slice(0, 120)}`);
      }
      if (reply.error !== 0 || typeof reply.async !== 'string' || !reply.async) {
        throw new TtsError(VENDOR, `error ${String(reply.error)}: ${vendorMessage(raw) || 'no audio link in reply'}`);
      }
      return reply.async;
    });
    const audio = await pollUntilReady(VENDOR, 'audio', retry, pollPolicyOf(this.config), signal, (s) =>
      fetchAudioIfReady(VENDOR, asyncUrl, s),
    );
    return toWav(VENDOR, audio, { signal });
  }
}
