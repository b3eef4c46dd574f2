/**
 * Pure helpers for a notice's language versions (Decree 49/2024: commune
 * stations broadcast in the local ethnic-minority languages too): the ordered
 * list of languages a zone plays notices in, and the `versions` of a new
 * broadcast (the Vietnamese text plus recordings in other languages). Tested
 * by table in web/test/languages.test.ts.
 */
import type { BroadcastCreated, BroadcastRequest, UploadedAudio, Zone } from '../lib/api';
import type { Message } from '../lib/errors';

/** The notice's own text (TTS) is the Vietnamese version; a zone lists it unless told otherwise. */
export const DEFAULT_LANGUAGE = 'vi';
/**
 * Languages with a name in the console (server/src/public/languages.ts), in
 * the order the picker offers them; names are `languages.names.<code>` in the
 * catalogue. Any well-formed ISO 639 code is accepted too, shown as its code.
 */
export const KNOWN_LANGUAGES = ['vi', 'hmn', 'blt', 'km', 'rad', 'jra', 'bdq', 'tyz', 'nut', 'mtq'] as const;
/** server/src/public/languages.ts LANGUAGE_CODE_PATTERN, with the schema's length limit. */
const CODE_PATTERN = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;
const MAX_CODE_LENGTH = 20;
/** A zone lists 1…8 languages; a notice has at most 8 other versions. */
export const MAX_ZONE_LANGUAGES = 8;
export const MAX_VERSIONS = 8;
export const MAX_VERSION_TITLE = 200;
export const MAX_VERSION_TEXT = 5000;

/** The catalogue key of a language's name, or null for a code the console has no name for. */
export function languageKey(code: string): string | null {
  return (KNOWN_LANGUAGES as readonly string[]).includes(code) ? `languages.names.${code}` : null;
}

/** A language's name through `translate` (the catalogue), or its code when it has none. */
export function languageName(code: string, translate: (key: string) => string): string {
  const key = languageKey(code);
  return key ? translate(key) : code;
}

/**
 * A language's name inside a Vietnamese sentence ("Bản {name}"): "Tiếng H’Mông"
 * → "tiếng H’Mông". English names are proper nouns and codes are lower case already.
 */
export function inSentence(name: string, locale: string): string {
  return locale.startsWith('vi') && name.startsWith('Tiếng ') ? `tiếng ${name.slice(6)}` : name;
}

/** " HMN " → "hmn", "km_KH" → "km-kh": what an officer types, as the server spells codes. */
export function normalizeLanguageCode(text: string): string {
  return text.trim().toLowerCase().replace(/_/g, '-');
}

/** Whether the server accepts this (already normalised) code. */
export function isLanguageCode(code: string): boolean {
  return code.length <= MAX_CODE_LENGTH && CODE_PATTERN.test(code);
}

// ---------------------------------------------------------------- a zone's languages

export type ListChange = { languages: string[]; error: null } | { languages: string[]; error: Message };

/** Adds a chosen or typed code at the end of the list, or says why not (the list is then unchanged). */
export function addLanguage(languages: readonly string[], typed: string): ListChange {
  const code = normalizeLanguageCode(typed);
  const same = [...languages];
  if (!code) return { languages: same, error: { key: 'languages.errors.codeRequired' } };
  if (!isLanguageCode(code))
    return { languages: same, error: { key: 'languages.errors.codeInvalid', values: { code } } };
  if (languages.includes(code))
    return { languages: same, error: { key: 'languages.errors.duplicate', values: { code } } };
  if (languages.length >= MAX_ZONE_LANGUAGES) {
    return { languages: same, error: { key: 'languages.errors.tooMany', values: { max: MAX_ZONE_LANGUAGES } } };
  }
  return { languages: [...languages, code], error: null };
}

/** Removes the language at `index`; the last one stays (a zone plays in at least one language). */
export function removeLanguage(languages: readonly string[], index: number): ListChange {
  if (languages.length <= 1) return { languages: [...languages], error: { key: 'languages.errors.lastOne' } };
  return { languages: languages.filter((_, i) => i !== index), error: null };
}

/** Moves the language at `index` one place up (-1) or down (+1); at an end it stays. */
export function moveLanguage(languages: readonly string[], index: number, by: -1 | 1): string[] {
  const to = index + by;
  const list = [...languages];
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return list;
  [list[index], list[to]] = [list[to]!, list[index]!];
  return list;
}

/** Why the server would refuse this list, or null. */
export function checkZoneLanguages(languages: readonly string[]): Message | null {
  if (languages.length === 0) return { key: 'languages.errors.lastOne' };
  if (languages.length > MAX_ZONE_LANGUAGES) {
    return { key: 'languages.errors.tooMany', values: { max: MAX_ZONE_LANGUAGES } };
  }
  const bad = languages.find((code) => !isLanguageCode(code));
  if (bad !== undefined) return { key: 'languages.errors.codeInvalid', values: { code: bad } };
  const twice = languages.find((code, i) => languages.indexOf(code) !== i);
  if (twice !== undefined) return { key: 'languages.errors.duplicate', values: { code: twice } };
  return null;
}

/** The PATCH /zones/{id} body that sets a zone's languages, or null when they are as stored. */
export function zoneLanguagesPatch(
  zone: Pick<Zone, 'languages'>,
  languages: readonly string[],
): { languages: string[] } | null {
  const same = zone.languages.length === languages.length && zone.languages.every((code, i) => code === languages[i]);
  return same ? null : { languages: [...languages] };
}

/** The `languages` part of a POST /zones body: nothing for the server's default (Vietnamese only). */
export function newZoneLanguages(languages: readonly string[]): { languages?: string[] } {
  return languages.length === 1 && languages[0] === DEFAULT_LANGUAGE ? {} : { languages: [...languages] };
}

// ---------------------------------------------------------------- a broadcast's versions

/** One version as the officer writes it in the broadcast form. */
export interface VersionDraft {
  /** A stable key for the form's list (not sent). */
  key: number;
  /** The language code ('' while not chosen). */
  language: string;
  /** The uploaded or recorded file, once the server has it. */
  audio: Pick<UploadedAudio, 'sha256' | 'durationMs' | 'url'> | null;
  /** A file is on its way to the server (the notice waits for it). */
  uploading?: boolean;
  /** The file's name, shown next to the player. */
  fileName: string;
  title: string;
  /** Its transcript or translation (shown on the public page), optional. */
  text: string;
}

export type VersionField = 'language' | 'audio' | 'title' | 'text';
export type VersionErrors = Partial<Record<VersionField, Message>>;

export function emptyVersion(key: number, language = ''): VersionDraft {
  return { key, language, audio: null, fileName: '', title: '', text: '' };
}

/**
 * The languages a version may take: the known ones and any other code the
 * commune's zones list (`listed`), besides Vietnamese and those the other
 * versions already have.
 */
export function versionLanguageChoices(
  drafts: readonly VersionDraft[],
  own: VersionDraft,
  listed: readonly string[] = [],
): string[] {
  const taken = new Set(drafts.filter((d) => d !== own).map((d) => d.language));
  const all = [...new Set<string>([...KNOWN_LANGUAGES, ...listed])];
  return all.filter((code) => code !== DEFAULT_LANGUAGE && !taken.has(code));
}

/** Each version's problems (same order as `drafts`; empty objects when it may be sent). */
export function checkVersions(drafts: readonly VersionDraft[]): VersionErrors[] {
  return drafts.map((draft, i) => {
    const errors: VersionErrors = {};
    const code = normalizeLanguageCode(draft.language);
    if (!code) errors.language = { key: 'languages.versions.errors.languageRequired' };
    else if (code === DEFAULT_LANGUAGE) errors.language = { key: 'languages.versions.errors.vietnamese' };
    else if (!isLanguageCode(code)) errors.language = { key: 'languages.errors.codeInvalid', values: { code } };
    else if (drafts.slice(0, i).some((other) => normalizeLanguageCode(other.language) === code)) {
      errors.language = { key: 'languages.errors.duplicate', values: { code } };
    }
    if (draft.uploading) errors.audio = { key: 'languages.versions.errors.uploading' };
    else if (!draft.audio) errors.audio = { key: 'languages.versions.errors.audioRequired' };
    if (draft.title.trim().length > MAX_VERSION_TITLE) {
      errors.title = { key: 'errors.tooLong', values: { count: draft.title.trim().length, max: MAX_VERSION_TITLE } };
    }
    if (draft.text.trim().length > MAX_VERSION_TEXT) {
      errors.text = { key: 'errors.tooLong', values: { count: draft.text.trim().length, max: MAX_VERSION_TEXT } };
    }
    return errors;
  });
}

/** Whether `checkVersions` found nothing. */
export function versionsValid(errors: readonly VersionErrors[]): boolean {
  return errors.every((e) => Object.keys(e).length === 0);
}

/**
 * The `versions` part of a POST /broadcasts body: each version's language,
 * file and, when written, its title and text; nothing at all without versions
 * (a notice in Vietnamese only, as before). Call after `checkVersions`.
 */
export function versionsField(drafts: readonly VersionDraft[]): Pick<BroadcastRequest, 'versions'> {
  if (drafts.length === 0) return {};
  return {
    versions: drafts.map((draft) => {
      const title = draft.title.trim();
      const text = draft.text.trim();
      return {
        language: normalizeLanguageCode(draft.language),
        audio: draft.audio?.sha256 ?? '',
        ...(title ? { title } : {}),
        ...(text ? { text } : {}),
      };
    }),
  };
}

/**
 * Where the server's field for a version error points: "versions[1].language",
 * "/versions/1/audio" or "body.versions.1.title" → { index: 1, part }; null for
 * any other field. A version-wide problem ("versions[1]") points at its language.
 */
export function versionErrorAt(field: string | undefined): { index: number; part: VersionField } | null {
  const match = /^(?:body)?[./]?versions(?:\[(\d+)\]|[./](\d+))(?:[./](\w+))?/.exec(field ?? '');
  if (!match) return null;
  const index = Number(match[1] ?? match[2]);
  const part = match[3];
  return {
    index,
    part: part === 'audio' || part === 'title' || part === 'text' || part === 'language' ? part : 'language',
  };
}

/**
 * How many loudspeakers play each version sent, in the order written: the
 * reply lists only versions that play somewhere, so one it leaves out plays
 * on none (no zone chosen lists its language).
 */
export function versionReach(
  sent: Pick<BroadcastRequest, 'versions'>,
  reply: Pick<BroadcastCreated, 'versions'>,
): { language: string; devices: number }[] {
  const devices = new Map((reply.versions ?? []).map((v) => [v.language, v.devices]));
  return (sent.versions ?? []).map((v) => ({ language: v.language, devices: devices.get(v.language) ?? 0 }));
}

/**
 * The zones, among those a broadcast goes to (`zones`: ids or 'all'), that
 * list `language`: those where its version plays.
 */
export function zonesPlaying<Z extends Pick<Zone, 'id' | 'languages'>>(
  zones: readonly Z[],
  chosen: readonly string[] | 'all',
  language: string,
): Z[] {
  return zones.filter(
    (zone) =>
      (chosen === 'all' || chosen.includes(zone.id)) && zone.languages.includes(normalizeLanguageCode(language)),
  );
}
