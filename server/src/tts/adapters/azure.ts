/**
 * Azure AI Speech, text to speech REST API (synchronous; SSML in, audio out).
 *
 * Documented API (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech):
 *   POST https://<region>.tts.speech.microsoft.com/cognitiveservices/v1
 *   headers: Ocp-Apim-Subscription-Key (the Speech resource key), Content-Type: application/ssml+xml,
 *            X-Microsoft-OutputFormat: riff-24khz-16bit-mono-pcm, User-Agent
 *   body: SSML <speak version="1.0" xml:lang="vi-VN"><voice name="vi-VN-HoaiMyNeural">
 *         <prosody rate="+0%">…</prosody></voice></speak>
 *   reply 200: the audio (RIFF WAV here); 400 bad SSML, 401 bad key, 429 throttled, 502 network.
 *   GET https://<region>.tts.speech.microsoft.com/cognitiveservices/voices/list → [{"ShortName", "LocalName", "Locale", "Gender"}]
 */
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from '../adapter';
import { toWav } from './audio';
import { TtsError } from './errors';
import { expectOk, joinUrl, retryPolicyOf, withRetry, type HttpAdapterOptions, boundedText } from './http';

export interface AzureConfig extends HttpAdapterOptions {
  apiKey: string;
  /** Speech resource region, e.g. southeastasia; builds the base URL unless baseUrl is given. */
  region?: string;
  voice?: string;
  languageCode?: string;
}

const VENDOR = 'Azure Speech';
const OUTPUT_FORMAT = 'riff-24khz-16bit-mono-pcm';

function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

/** Our speed (1 = normal) as an SSML prosody rate, e.g. 1.2 → "+20%". */
export function azureRate(speed = 1): string {
  const percent = Math.round((Math.max(0.5, Math.min(2, speed)) - 1) * 100);
  return `${percent >= 0 ? '+' : ''}${percent}%`;
}

export function buildSsml(text: string, voice: string, languageCode: string, speed?: number): string {
  return (
    `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${escapeXml(languageCode)}">` +
    `<voice name="${escapeXml(voice)}"><prosody rate="${azureRate(speed)}">${escapeXml(text)}</prosody></voice></speak>`
  );
}

export class AzureAdapter implements TtsAdapter {
  readonly id = 'azure';

  constructor(private readonly config: AzureConfig) {
    if (!config.baseUrl && !config.region) throw new TtsError(VENDOR, 'region (or baseUrl) is required');
  }

  private base(): string {
    return this.config.baseUrl ?? `https://${this.config.region}.tts.speech.microsoft.com`;
  }

  private language(): string {
    return this.config.languageCode ?? 'vi-VN';
  }

  async voices(signal?: AbortSignal): Promise<TtsVoice[]> {
    const list = await withRetry(VENDOR, retryPolicyOf(this.config), signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.base(), '/cognitiveservices/voices/list'), {
          headers: { 'ocp-apim-subscription-key': this.config.apiKey },
          signal: s,
        }),
      );
      return (await res.json()) as { ShortName: string; LocalName?: string; Locale?: string; Gender?: string }[];
    });
    return list
      .filter((v) => v.Locale === this.language())
      .map((v) => ({
        id: v.ShortName,
        name: `${v.LocalName ?? v.ShortName}${v.Gender ? ` (${v.Gender})` : ''}`,
        language: v.Locale ?? this.language(),
      }));
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const voices = await this.voices(AbortSignal.timeout(10_000));
      return { ok: true, detail: `${voices.length} ${this.language()} voices` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text);
    const ssml = buildSsml(
      text,
      request.voice ?? this.config.voice ?? 'vi-VN-HoaiMyNeural',
      this.language(),
      request.speed,
    );
    const audio = await withRetry(VENDOR, retryPolicyOf(this.config), signal, async (s) => {
      const res = await expectOk(
        VENDOR,
        await fetch(joinUrl(this.base(), '/cognitiveservices/v1'), {
          method: 'POST',
          headers: {
            'ocp-apim-subscription-key': this.config.apiKey,
            'content-type': 'application/ssml+xml',
            'x-microsoft-outputformat': OUTPUT_FORMAT,
            'user-agent': 'loaxa',
          },
          body: ssml,
          signal: s,
        }),
      );
      return new Uint8Array(await res.arrayBuffer());
    });
    return toWav(VENDOR, audio, { signal });
  }
}
