/**
 * Pure helpers for the content library page: what the console checks before
 * sending an upload, how an upload or microphone failure reads as a sentence,
 * the stream relay form's numbers, and which items may be public. Tested
 * by table in web/test/content.test.ts.
 */
import { ApiError, type ContentKind } from '../lib/api';
import type { Message } from '../lib/errors';

/** What POST /api/v1/audio accepts (server/src/audio/upload.ts). */
export const AUDIO_EXTENSIONS = ['mp3', 'wav', 'm4a', 'ogg', 'flac', 'webm'] as const;
/** The server's default LOAXA_UPLOAD_MAX_MB; the server does not publish its setting. */
export const DEFAULT_UPLOAD_MAX_MB = 50;
/** A stream relay plays 1 s … 6 h (MAX_STREAM_MS in protocol/src/payloads.ts). */
export const MAX_STREAM_MINUTES = 360;

/** "Bản tin.MP3" → "mp3"; "" when the name has none. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Why a chosen file cannot be sent, or null when it may go to the server. */
export function checkAudioFile(file: { name: string; size: number }, maxMb = DEFAULT_UPLOAD_MAX_MB): Message | null {
  const ext = extensionOf(file.name);
  if (!(AUDIO_EXTENSIONS as readonly string[]).includes(ext)) {
    return { key: 'content.upload.errors.extension', values: { name: file.name, types: AUDIO_EXTENSIONS.join(', ') } };
  }
  if (file.size === 0) return { key: 'content.upload.errors.empty', values: { name: file.name } };
  if (file.size > maxMb * 1024 * 1024) {
    return { key: 'content.upload.errors.tooLarge', values: { size: megabytes(file.size), max: maxMb } };
  }
  return null;
}

/** Megabytes with one decimal; the catalogue formats it per language (`{size, number}`). */
export function megabytes(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

/** The limit the server names in its 413 ("…upload limit of 20 MB"), which may differ from the default. */
export function uploadLimitFrom(message: string): number | null {
  const match = /limit of (\d+(?:\.\d+)?) ?MB/i.exec(message);
  return match ? Number(match[1]) : null;
}

/** A failed upload as one sentence at the drop zone. */
export function describeUploadError(cause: unknown, maxMb = DEFAULT_UPLOAD_MAX_MB): Message {
  if (!(cause instanceof ApiError)) return { key: 'errors.generic', values: { message: String(cause) } };
  if (cause.kind === 'timeout') return { key: 'content.upload.errors.timeout' };
  if (cause.isNetwork) return { key: 'errors.network' };
  const detail = cause.message.replace(/^file: /, '');
  if (cause.status === 413) {
    return { key: 'content.upload.errors.serverTooLarge', values: { max: uploadLimitFrom(cause.message) ?? maxMb } };
  }
  if (cause.status === 415 || (cause.status === 400 && cause.field === 'file')) {
    return { key: 'content.upload.errors.notAudio', values: { message: detail } };
  }
  if (cause.status === 403) return { key: 'errors.forbidden', values: { message: cause.message } };
  if (cause.status >= 500) return { key: 'errors.server', values: { status: cause.status } };
  return { key: 'errors.rejected', values: { message: cause.message } };
}

/** "thong-bao_tiem_chung.mp3" → "thong-bao tiem chung": a first title the officer can change. */
export function titleFromFileName(name: string): string {
  const ext = extensionOf(name);
  const base = ext ? name.slice(0, -(ext.length + 1)) : name;
  return base.replace(/_+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** Containers a browser may record into, best first; Safari only has MP4. */
const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'] as const;

/** The first recording format the browser supports (`isTypeSupported` is MediaRecorder's), or '' for its default. */
export function recordingType(isTypeSupported: (type: string) => boolean): string {
  return RECORDING_TYPES.find((type) => isTypeSupported(type)) ?? '';
}

/** The file name extension for what MediaRecorder produced ("audio/webm;codecs=opus" → "webm"). */
export function recordingExtension(mimeType: string): 'webm' | 'ogg' | 'm4a' {
  if (/^audio\/ogg/.test(mimeType)) return 'ogg';
  if (/^(audio|video)\/mp4/.test(mimeType)) return 'm4a';
  return 'webm';
}

/**
 * Why the microphone could not be used, from getUserMedia's error name
 * (null: the browser offers no getUserMedia or MediaRecorder, which is also
 * what every browser does on a page opened over plain http from another machine).
 */
export function describeMicrophoneError(name: string | null, secureContext = true): Message {
  switch (name) {
    case null:
      return { key: secureContext ? 'content.record.errors.unsupported' : 'content.record.errors.insecure' };
    case 'NotAllowedError':
    case 'SecurityError':
      return { key: 'content.record.errors.denied' };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { key: 'content.record.errors.noMicrophone' };
    case 'NotReadableError':
    case 'AbortError':
      return { key: 'content.record.errors.busy' };
    default:
      return { key: 'content.record.errors.failed', values: { name } };
  }
}

/** "30" or "1,5" minutes → milliseconds, or null outside 1 s … 6 h. */
export function streamDurationMs(minutes: string): number | null {
  const text = minutes.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const ms = Math.round(Number(text) * 60_000);
  return ms >= 1000 && ms <= MAX_STREAM_MINUTES * 60_000 ? ms : null;
}

/** Whether a stream address is one the server relays: an http:// or https:// URL with a host. */
export function isStreamUrl(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Whether a new item of this kind starts out public (shown on the commune's
 * public page once aired), as the server defaults it: a notice yes, uploaded
 * audio no (the recording may not be the commune's to share); null for a
 * stream or silence, which can never be public (the server refuses `public`).
 */
export function publicByDefault(kind: ContentKind): boolean | null {
  if (kind === 'notice') return true;
  if (kind === 'audio') return false;
  return null;
}

/** The `public` part of a create body: the officer's choice for a notice or audio, nothing for the rest. */
export function publicField(kind: ContentKind, chosen: boolean): { public?: boolean } {
  return publicByDefault(kind) === null ? {} : { public: chosen };
}
