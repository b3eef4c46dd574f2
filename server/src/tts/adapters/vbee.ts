/**
 * Vbee AIVoice (asynchronous job: create, then the result arrives by callback or by polling).
 *
 * Documented API (https://api-docs.vbee.vn/dac-ta-api, …/text-to-speech/get-request,
 * …/text-to-speech-lagacy/callback-api):
 *   POST https://vbee.vn/api/v1/tts   Authorization: Bearer <token>, Content-Type: application/json
 *     body: {"app_id", "callback_url" (required), "input_text", "voice_code",
 *            "audio_type" (mp3 | wav), "speed_rate" ("0.1" … "1.9"), "response_type": "indirect"}
 *     reply: {"status": 1, "result": {"request_id", "status": "IN_PROGRESS", ...}}; status 0 +
 *            error_code/error_message on failure.
 *   GET  https://vbee.vn/api/v1/tts/{request_id}   Authorization: Bearer <token>
 *     reply: {"status": 1, "result": {"status": "IN_PROGRESS" | "SUCCESS" | "FAILURE", "audio_link", ...}}
 *   Callback: Vbee POSTs {"request_id", "status", "audio_link", ...} to callback_url.
 * We poll. A callback handed to `acceptCallback` (by the server route that receives it) only
 * makes us poll at once: the audio link always comes from the authenticated GET, never from
 * the callback body, which anyone could forge.
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
  type PollOutcome,
  boundedText,
} from './http';

export interface VbeeConfig extends HttpAdapterOptions {
  /** The app's Bearer token (a JWT made when the app is created in Vbee's console). */
  apiKey: string;
  appId: string;
  /** Vbee requires a webhook; point it at the server's public URL (see acceptCallback). */
  callbackUrl: string;
  voice?: string;
  format?: 'wav' | 'mp3';
}

const VENDOR = 'Vbee';
const BASE_URL = 'https://vbee.vn';

export const VBEE_VOICES: TtsVoice[] = [
  { id: 'hn_female_ngochuyen_full_48k-fhg', name: 'HN - Ngọc Huyền', language: 'vi' },
  { id: 'hn_female_maiphuong_vdts_48k-fhg', name: 'HN - Mai Phương', language: 'vi' },
  { id: 'hn_male_manhdung_news_48k-fhg', name: 'HN - Mạnh Dũng', language: 'vi' },
  { id: 'hn_male_thanhlong_talk_48k-fhg', name: 'HN - Thanh Long', language: 'vi' },
  { id: 'hue_female_huonggiang_full_48k-fhg', name: 'Huế - Hương Giang', language: 'vi' },
  { id: 'hue_male_duyphuong_full_48k-fhg', name: 'Huế - Duy Phương', language: 'vi' },
  { id: 'sg_female_thaotrinh_full_48k-fhg', name: 'SG - Thảo Trinh', language: 'vi' },
  { id: 'sg_female_lantrinh_vdts_48k-fhg', name: 'SG - Lan Trinh', language: 'vi' },
  { id: 'sg_male_trungkien_vdts_48k-fhg', name: 'SG - Trung Kiên', language: 'vi' },
  { id: 'sg_male_minhhoang_full_48k-fhg', name: 'SG - Minh Hoàng', language: 'vi' },
];

interface VbeeJob {
  status?: unknown;
  audio_link?: unknown;
  request_id?: unknown;
}

export class VbeeAdapter implements TtsAdapter {
  readonly id = 'vbee';
  /** Jobs being waited on, by request_id, with the controller that cuts the current poll wait short. */
  private readonly waiting = new Map<string, AbortController>();

  constructor(private readonly config: VbeeConfig) {}

  async voices(): Promise<TtsVoice[]> {
    return VBEE_VOICES;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.config.apiKey) return { ok: false, detail: 'no api token' };
    if (!this.config.appId) return { ok: false, detail: 'no app id' };
    return { ok: true, detail: 'token configured (not probed)' };
  }

  /**
   * Hands over a callback body Vbee POSTed to callback_url. Returns true when it
   * names a job this adapter is waiting for; that job is then polled at once.
   */
  acceptCallback(body: unknown): boolean {
    const id = (body as VbeeJob | null)?.request_id;
    const wake = typeof id === 'string' ? this.waiting.get(id) : undefined;
    wake?.abort();
    return wake !== undefined;
  }

  private base(): string {
    return this.config.baseUrl ?? BASE_URL;
  }

  private authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.config.apiKey}` };
  }

  private parse(raw: string): { status?: unknown; result?: VbeeJob } {
    try {
      return JSON.parse(raw) as { status?: unknown; result?: VbeeJob };
    } catch {
      throw new TtsError(VENDOR, `unexpected reply (not JSON): ${raw.slice(0, 120)}`);
    }
  }

  /** The job's audio link once it succeeded, or "not ready". */
  private jobOutcome(job: VbeeJob | undefined): PollOutcome<string> {
    const status = String(job?.status ?? '');
    if (status === 'SUCCESS') {
      if (typeof job?.audio_link !== 'string') throw new TtsError(VENDOR, 'job succeeded without an audio_link');
      return { ready: true, value: job.audio_link };
    }
    if (status === 'FAILURE') throw new TtsError(VENDOR, 'synthesis job failed (status FAILURE)');
    return { ready: false };
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text);
    const retry = retryPolicyOf(this.config);
    const body = JSON.stringify({
      app_id: this.config.appId,
      callback_url: this.config.callbackUrl,
      response_type: 'indirect',
      input_text: text,
      voice_code: request.voice ?? this.config.voice ?? 'hn_female_ngochuyen_full_48k-fhg',
      audio_type: this.config.format ?? 'wav',
      speed_rate: Math.max(0.1, Math.min(1.9, request.speed ?? 1)).toFixed(1),
    });
    const requestId = await withRetry(VENDOR, retry, signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.base(), '/api/v1/tts'), {
          method: 'POST',
          headers: { ...this.authHeaders(), 'content-type': 'application/json' },
          body,
          signal: s,
        }),
      );
      const raw = await res.text();
      const reply = this.parse(raw);
      if (reply.status !== 1 || typeof reply.result?.request_id !== 'string') {
        throw new TtsError(VENDOR, vendorMessage(raw) || 'job was not created');
      }
      return reply.result.request_id;
    });

    const nextWake = () => {
      const controller = new AbortController();
      this.waiting.set(requestId, controller);
      return controller.signal;
    };
    try {
      const link = await pollUntilReady(
        VENDOR,
        `job ${requestId}`,
        retry,
        pollPolicyOf(this.config),
        signal,
        async (s) => {
          const res = await fetch(joinUrl(this.base(), `/api/v1/tts/${encodeURIComponent(requestId)}`), {
            headers: this.authHeaders(),
            signal: s,
          });
          // Just created: the job may not be visible yet.
          if (res.status === 404) {
            await res.body?.cancel().catch(() => {});
            return { ready: false };
          }
          await expectOk(VENDOR, res);
          const raw = await res.text();
          const reply = this.parse(raw);
          if (reply.status !== 1) throw new TtsError(VENDOR, vendorMessage(raw) || 'job lookup failed');
          return this.jobOutcome(reply.result);
        },
        nextWake,
      );
      const audio = await pollUntilReady(VENDOR, 'audio', retry, pollPolicyOf(this.config), signal, (s) =>
        fetchAudioIfReady(VENDOR, link, s),
      );
      return await toWav(VENDOR, audio, { signal });
    } finally {
      this.waiting.delete(requestId);
    }
  }
}
