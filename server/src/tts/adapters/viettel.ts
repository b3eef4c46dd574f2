/**
 * Viettel AI text-to-speech (synchronous: the reply body is the audio).
 *
 * Documented API (https://viettelgroup.ai/document/tts, the same service now served at
 * https://viettelai.vn/tts/speech_synthesis):
 *   POST <base>/tts/speech_synthesis, Content-Type: application/json
 *   auth: token (the older viettelgroup.ai endpoint reads it from a `token` header, viettelai.vn
 *         from the `token` body field; we send both)
 *   body: {"text", "voice", "id" (caller's trace id), "without_filter" (bool), "speed" (0.7 … 1.3),
 *          "tts_return_option" (2 = wav, 3 = mp3), "token"}
 *   reply 200: the audio bytes (wav or mp3); errors come back as JSON.
 */
import crypto from 'node:crypto';
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from '../adapter';
import { toWav } from './audio';
import { TtsError } from './errors';
import {
  expectOk,
  joinUrl,
  retryPolicyOf,
  vendorMessage,
  withRetry,
  type HttpAdapterOptions,
  boundedText,
  configuredKeyHealth,
} from './http';

export interface ViettelConfig extends HttpAdapterOptions {
  apiKey: string;
  voice?: string;
  format?: 'wav' | 'mp3';
  /** Viettel's optional quality filter (slower). Default false. */
  withFilter?: boolean;
}

const VENDOR = 'Viettel AI';
const BASE_URL = 'https://viettelai.vn';

export const VIETTEL_VOICES: TtsVoice[] = [
  { id: 'hn-quynhanh', name: 'Quỳnh Anh (nữ miền Bắc)', language: 'vi' },
  { id: 'doanngocle', name: 'Đoàn Ngọc Lê (nữ miền Bắc)', language: 'vi' },
  { id: 'trinhthiviettrinh', name: 'Trịnh Thị Việt Trinh (nữ miền Bắc)', language: 'vi' },
  { id: 'phamtienquan', name: 'Phạm Tiến Quân (nam miền Bắc)', language: 'vi' },
  { id: 'hue-maingoc', name: 'Mai Ngọc (nữ miền Trung)', language: 'vi' },
  { id: 'hue-baoquoc', name: 'Bảo Quốc (nam miền Trung)', language: 'vi' },
  { id: 'lethiyen', name: 'Lê Thị Yến (nữ miền Nam)', language: 'vi' },
  { id: 'nguyenthithuyduyen', name: 'Nguyễn Thị Thùy Duyên (nữ miền Nam)', language: 'vi' },
  { id: 'hcm-minhquan', name: 'Minh Quân (nam miền Nam)', language: 'vi' },
];

export class ViettelAdapter implements TtsAdapter {
  readonly id = 'viettel';

  constructor(private readonly config: ViettelConfig) {}

  async voices(): Promise<TtsVoice[]> {
    return VIETTEL_VOICES;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    return configuredKeyHealth(this.config.apiKey);
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text);
    const body = JSON.stringify({
      text,
      voice: request.voice ?? this.config.voice ?? 'hn-quynhanh',
      id: crypto.randomUUID(),
      without_filter: !(this.config.withFilter ?? false),
      speed: Math.max(0.7, Math.min(1.3, request.speed ?? 1)),
      tts_return_option: (this.config.format ?? 'wav') === 'mp3' ? 3 : 2,
      token: this.config.apiKey,
    });
    const audio = await withRetry(VENDOR, retryPolicyOf(this.config), signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.config.baseUrl ?? BASE_URL, '/tts/speech_synthesis'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', token: this.config.apiKey },
          body,
          signal: s,
        }),
      );
      const bytes = new Uint8Array(await res.arrayBuffer());
      if ((res.headers.get('content-type') ?? '').includes('json')) {
        // A 200 with JSON is an error report, not audio.
        throw new TtsError(VENDOR, vendorMessage(Buffer.from(bytes).toString('utf8')) || 'no audio in reply');
      }
      return bytes;
    });
    return toWav(VENDOR, audio, { signal });
  }
}
