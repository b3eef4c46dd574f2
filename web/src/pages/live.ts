/**
 * The pure parts of live broadcast ("Phát trực tiếp") in the console: the
 * latency profiles, what the page says about a browser that cannot go live
 * and about the encoder it uses, why a session ended, elapsed time, the level
 * meter's scale and the refusals of POST /api/v1/live. Tested in
 * web/test/live.test.ts; the capture itself is live/capture.ts and the
 * session's life live/on-air.svelte.ts.
 */
import { ApiError, type LiveEndReason, type LiveSession } from '../lib/api';
import { describeApiError, type Message } from '../lib/errors';

/** The server's play-out budgets: 400 ms by default, 200 ms for a quick exchange on a good network. */
export const LATENCY_PROFILES = [
  { id: 'normal', ms: 400 },
  { id: 'low', ms: 200 },
] as const;
export type LatencyProfile = (typeof LATENCY_PROFILES)[number]['id'];

export function latencyOf(profile: LatencyProfile): number {
  return LATENCY_PROFILES.find((p) => p.id === profile)!.ms;
}

/** How often the page asks the server whether its session is still on air, and what else is. */
export const SESSION_POLL_MS = 2_000;
export const ON_AIR_LIST_POLL_MS = 5_000;

/** Whether this browser can go live; anything but `ok` is explained by `supportMessage`. */
export type LiveSupport = 'ok' | 'insecure' | 'no-capture' | 'no-encoder';

export function supportMessage(support: Exclude<LiveSupport, 'ok'>): Message {
  return { key: `live.support.${support}` };
}

/** Which Opus encoder this browser goes live with: WebCodecs' own, or libopus in WebAssembly where it has none. */
export type LiveEncoder = 'webcodecs' | 'wasm';

/** The page's note about the encoder in use ("Bộ mã hóa: WebCodecs"). */
export function encoderMessage(encoder: LiveEncoder): Message {
  return { key: `live.encoder.${encoder}` };
}

/** The sentence for how a session ended; `me` tells "you ended it" from "a leader ended it". */
export function endMessage(session: Pick<LiveSession, 'endReason' | 'endedBy'>, me: string): Message {
  const reason: LiveEndReason = session.endReason ?? 'stopped';
  if (reason === 'stopped' && session.endedBy && session.endedBy !== me) {
    return { key: 'live.ended.stoppedBy', values: { user: session.endedBy } };
  }
  return { key: `live.ended.${reason}` };
}

/** "0:07", "12:34", "1:02:03": the time on air, counted in whole seconds. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** The meter's scale: −60 dBFS and below is empty, 0 dBFS full. */
const METER_FLOOR_DB = -60;

/** A frame's RMS as the meter's fill (0–1), on a decibel scale as the ear hears it. */
export function meterLevel(rms: number): number {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
}

/** The meter falls back slowly, so a click or a syllable is seen, not a flicker. */
export function meterStep(shown: number, next: number, decay = 0.9): number {
  return Math.max(next, shown * decay);
}

/** Too quiet for a whole second: the page asks the officer to check the microphone. */
export const QUIET_LEVEL = 0.15;

/** Why going live was refused, for the form (rule breaks are shown apart: see rules.ts). */
export function liveRefusal(cause: unknown): Message {
  if (cause instanceof ApiError && cause.status === 409 && cause.field === 'zones') {
    const current = cause.detail.current as Partial<LiveSession> | undefined;
    return current?.title
      ? { key: 'live.errors.busy', values: { title: current.title, user: current.startedBy ?? '' } }
      : { key: 'live.errors.busyUnknown' };
  }
  if (cause instanceof ApiError && cause.status === 403 && cause.field === 'priority') {
    return { key: 'live.errors.emergencyForbidden' };
  }
  const described = describeApiError(cause, ['zones'], { '400:zones': 'live.errors.zones' });
  return described.zones ?? described.form ?? { key: 'live.errors.notStarted' };
}

/** Why the microphone could not be opened (the browser's DOMException name). */
export function microphoneMessage(cause: unknown): Message {
  const name = cause instanceof DOMException || cause instanceof Error ? cause.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return { key: 'live.mic.denied' };
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return { key: 'live.mic.missing' };
  if (name === 'NotReadableError' || name === 'AbortError') return { key: 'live.mic.busy' };
  return { key: 'live.mic.failed', values: { message: cause instanceof Error ? cause.message : String(cause) } };
}

/** The zones' names, in the order given, "Thôn A, Thôn B". */
export function zoneList(zones: readonly string[], nameOf: (id: string) => string): string {
  return zones.map(nameOf).join(', ');
}
