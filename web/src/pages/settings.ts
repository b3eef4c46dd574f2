/**
 * The pure parts of the settings page: reading numbers as people type them,
 * the loudness limits, the engine order moves, finding dictionary entries,
 * and placing the server's errors at the setting they name.
 */
import { ApiError, type DictionaryEntry, type SettingsView } from '../lib/api';
import { describeApiError, type Message } from '../lib/errors';

/** The server's limits (server/src/settings/settings.ts LOUDNESS_LIMITS). */
export const LOUDNESS_LIMITS = {
  integratedLufs: { min: -30, max: -10 },
  truePeakDb: { min: -9, max: 0 },
} as const;

export type CloudEngineId = keyof SettingsView['credentials'];
/** The credentials each cloud engine takes from the console, secrets first. */
export const CLOUD_FIELDS: { [K in CloudEngineId]: readonly (keyof SettingsView['credentials'][K])[] } = {
  fpt: ['apiKey'],
  viettel: ['apiKey'],
  vbee: ['apiKey', 'appId'],
  zalo: ['apiKey'],
  google: ['apiKey'],
  azure: ['apiKey', 'region'],
};
export const isCloudEngine = (id: string): id is CloudEngineId => id in CLOUD_FIELDS;

/** "-16", "-1,5" or "-1.5" → a number; anything else → null. */
export function parseDecimal(text: string): number | null {
  const clean = text.trim().replace(',', '.').replace(/^[−–]/, '-');
  if (!/^-?\d+(\.\d+)?$/.test(clean)) return null;
  return Number(clean);
}

export type LoudnessField = 'loudness.integratedLufs' | 'loudness.truePeakDb';

/** The loudness the officer typed, or what is wrong with it, field by field. */
export function readLoudness(
  lufs: string,
  peak: string,
):
  | { ok: true; integratedLufs: number; truePeakDb: number }
  | { ok: false; errors: Partial<Record<LoudnessField, Message>> } {
  const errors: Partial<Record<LoudnessField, Message>> = {};
  const check = (field: LoudnessField, text: string, limits: { min: number; max: number }): number | null => {
    const value = parseDecimal(text);
    if (value === null || value < limits.min || value > limits.max) {
      errors[field] = { key: 'settings.loudness.range', values: { min: limits.min, max: limits.max } };
      return null;
    }
    return value;
  };
  const integratedLufs = check('loudness.integratedLufs', lufs, LOUDNESS_LIMITS.integratedLufs);
  const truePeakDb = check('loudness.truePeakDb', peak, LOUDNESS_LIMITS.truePeakDb);
  if (integratedLufs === null || truePeakDb === null) return { ok: false, errors };
  return { ok: true, integratedLufs, truePeakDb };
}

/** The order with the engine at `index` moved one place up (-1) or down (+1). */
export function moveEngine(order: readonly string[], index: number, delta: -1 | 1): string[] {
  const to = index + delta;
  if (index < 0 || index >= order.length || to < 0 || to >= order.length) return [...order];
  const next = [...order];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}

/** Lower case without Vietnamese marks, so "ubnd", "UBND" and "ủy ban" find what a person means. */
export function searchable(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
}

/** Entries whose abbreviation or expansion contains `query`; the commune's own first, then A–Z. */
export function filterDictionary(entries: readonly DictionaryEntry[], query: string): DictionaryEntry[] {
  const q = searchable(query.trim());
  return entries
    .filter((e) => !q || searchable(e.abbreviation).includes(q) || searchable(e.expansion).includes(q))
    .sort(
      (a, b) =>
        Number(b.source === 'commune') - Number(a.source === 'commune') ||
        a.abbreviation.localeCompare(b.abbreviation, 'vi'),
    );
}

/**
 * The server names the setting it refuses ("loudness.integratedLufs",
 * "credentials.fpt.apiKey", "engines.1"): the message goes to the first of
 * `fields` that is that setting or contains it, else to 'form'.
 */
export function settingsErrors(cause: unknown, fields: readonly string[]): Record<string, Message> {
  if (cause instanceof ApiError && cause.status === 400 && cause.field) {
    const named = cause.field;
    const field = fields.find((f) => named === f || named.startsWith(`${f}.`)) ?? 'form';
    return { [field]: { key: 'errors.invalidField', values: { message: cause.message } } };
  }
  const form = describeApiError(cause, []).form;
  return form ? { form } : {};
}

/** The server's limit for the public page's contact (server/src/settings/settings.ts). */
export const MAX_CONTACT = 300;

/**
 * The public page's contact as typed, for `publicPage.contact`: trimmed, an
 * empty field clears it (null), too long is said at the field.
 */
export function readContact(text: string): { ok: true; contact: string | null } | { ok: false; error: Message } {
  const contact = text.trim();
  if (contact.length > MAX_CONTACT) {
    return { ok: false, error: { key: 'errors.tooLong', values: { count: contact.length, max: MAX_CONTACT } } };
  }
  return { ok: true, contact: contact || null };
}

/** The commune's public page, as the server serves it: `/public/{commune}/`, or the default commune's `/public/`. */
export function publicPageUrl(communeId: string | null | undefined): string {
  return communeId ? `/public/${encodeURIComponent(communeId)}/` : '/public/';
}
