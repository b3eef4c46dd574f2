import { describe, expect, it } from 'vitest';
import {
  addLanguage,
  checkVersions,
  checkZoneLanguages,
  emptyVersion,
  inSentence,
  isLanguageCode,
  languageKey,
  languageName,
  moveLanguage,
  newZoneLanguages,
  normalizeLanguageCode,
  removeLanguage,
  versionErrorAt,
  versionLanguageChoices,
  versionReach,
  versionsField,
  versionsValid,
  zoneLanguagesPatch,
  zonesPlaying,
  type VersionDraft,
} from '../src/pages/languages';
import vi from '../src/lib/i18n/vi.json';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const version = (key: number, extra: Partial<VersionDraft> = {}): VersionDraft => ({
  ...emptyVersion(key),
  ...extra,
});
const audio = (sha256: string) => ({ sha256, durationMs: 12_000, url: `/media/${sha256}.opus` });

describe('language codes and names', () => {
  it.each([
    [' HMN ', 'hmn'],
    ['km_KH', 'km-kh'],
    ['Vi', 'vi'],
  ])('normalises %j to %j', (typed, code) => {
    expect(normalizeLanguageCode(typed)).toBe(code);
  });

  it.each([
    ['vi', true],
    ['hmn', true],
    ['km-kh', true],
    ['x', false],
    ['hmong', false],
    ['h1', false],
    ['vi-', false],
    ['HMN', false],
    [`abc-${'c'.repeat(8)}-${'d'.repeat(8)}`, false], // over the schema's 20 characters
  ])('%j is a code the server accepts: %s', (code, ok) => {
    expect(isLanguageCode(code)).toBe(ok);
  });

  it('names the known languages from the catalogue and shows other codes as they are', () => {
    const t = (key: string): string =>
      key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], vi) as string;
    expect(languageKey('hmn')).toBe('languages.names.hmn');
    expect(languageName('hmn', t)).toBe('Tiếng H’Mông');
    expect(languageName('blt', t)).toBe('Tiếng Thái');
    expect(languageKey('xyz')).toBeNull();
    expect(languageName('xyz', t)).toBe('xyz');
  });

  it('puts a Vietnamese name in lower case inside a sentence, never an English one', () => {
    expect(inSentence('Tiếng H’Mông', 'vi')).toBe('tiếng H’Mông');
    expect(inSentence('Hmong', 'en')).toBe('Hmong');
    expect(inSentence('xyz', 'vi')).toBe('xyz');
  });
});

describe("a zone's languages", () => {
  it('adds a chosen or typed code at the end', () => {
    expect(addLanguage(['vi'], 'hmn')).toEqual({ languages: ['vi', 'hmn'], error: null });
    expect(addLanguage(['vi', 'hmn'], ' KM ')).toEqual({ languages: ['vi', 'hmn', 'km'], error: null });
  });

  it.each([
    [['vi'], '', 'languages.errors.codeRequired'],
    [['vi'], 'Hmong', 'languages.errors.codeInvalid'],
    [['vi', 'hmn'], 'HMN', 'languages.errors.duplicate'],
    [['vi', 'hmn', 'blt', 'km', 'rad', 'jra', 'bdq', 'tyz'], 'nut', 'languages.errors.tooMany'],
  ])('refuses to add to %j the code %j', (list, typed, key) => {
    const change = addLanguage(list, typed);
    expect(change.error?.key).toBe(key);
    expect(change.languages).toEqual(list);
  });

  it('removes a language but never the last', () => {
    expect(removeLanguage(['vi', 'hmn', 'km'], 1)).toEqual({ languages: ['vi', 'km'], error: null });
    expect(removeLanguage(['hmn'], 0).error?.key).toBe('languages.errors.lastOne');
    expect(removeLanguage(['hmn'], 0).languages).toEqual(['hmn']);
  });

  it('moves a language up or down, and not past an end', () => {
    expect(moveLanguage(['vi', 'hmn', 'km'], 1, -1)).toEqual(['hmn', 'vi', 'km']);
    expect(moveLanguage(['vi', 'hmn', 'km'], 1, 1)).toEqual(['vi', 'km', 'hmn']);
    expect(moveLanguage(['vi', 'hmn'], 0, -1)).toEqual(['vi', 'hmn']);
    expect(moveLanguage(['vi', 'hmn'], 1, 1)).toEqual(['vi', 'hmn']);
  });

  it.each([
    [['vi'], null],
    [['hmn', 'vi'], null],
    [[], 'languages.errors.lastOne'],
    [['vi', 'VI'], 'languages.errors.codeInvalid'],
    [['vi', 'hmn', 'vi'], 'languages.errors.duplicate'],
    [['vi', 'hmn', 'blt', 'km', 'rad', 'jra', 'bdq', 'tyz', 'nut'], 'languages.errors.tooMany'],
  ])('checks %j before saving', (list, key) => {
    expect(checkZoneLanguages(list)?.key ?? null).toBe(key);
  });

  it('sends PATCH { languages } in the new order, nothing when unchanged', () => {
    const zone = { languages: ['vi', 'hmn'] };
    expect(zoneLanguagesPatch(zone, ['hmn', 'vi'])).toEqual({ languages: ['hmn', 'vi'] });
    expect(zoneLanguagesPatch(zone, ['vi', 'hmn', 'km'])).toEqual({ languages: ['vi', 'hmn', 'km'] });
    expect(zoneLanguagesPatch(zone, ['vi'])).toEqual({ languages: ['vi'] });
    expect(zoneLanguagesPatch(zone, ['vi', 'hmn'])).toBeNull();
  });

  it("leaves `languages` out of a new zone's body for Vietnamese only (the server's default)", () => {
    expect(newZoneLanguages(['vi'])).toEqual({});
    expect(newZoneLanguages(['vi', 'hmn'])).toEqual({ languages: ['vi', 'hmn'] });
    expect(newZoneLanguages(['hmn'])).toEqual({ languages: ['hmn'] });
  });
});

describe("a broadcast's versions", () => {
  it('sends no `versions` for a notice in Vietnamese only', () => {
    expect(versionsField([])).toEqual({});
  });

  it('sends each version with its language, file and, when written, its trimmed title and text', () => {
    const drafts = [
      version(1, { language: 'hmn', audio: audio(SHA_A), title: '  Tiêm chủng  ', text: ' Cov menyuam… ' }),
      version(2, { language: 'km', audio: audio(SHA_B), title: '   ', text: '' }),
    ];
    expect(versionsValid(checkVersions(drafts))).toBe(true);
    expect(versionsField(drafts)).toEqual({
      versions: [
        { language: 'hmn', audio: SHA_A, title: 'Tiêm chủng', text: 'Cov menyuam…' },
        { language: 'km', audio: SHA_B },
      ],
    });
  });

  it('says what is missing or wrong in each version', () => {
    const errors = checkVersions([
      version(1),
      version(2, { language: 'vi', audio: audio(SHA_A) }),
      version(3, { language: 'hmn', audio: audio(SHA_A) }),
      version(4, { language: 'hmn', uploading: true }),
      version(5, { language: 'km', audio: audio(SHA_B), title: 'x'.repeat(201), text: 'y'.repeat(5001) }),
    ]);
    expect(errors[0]).toEqual({
      language: { key: 'languages.versions.errors.languageRequired' },
      audio: { key: 'languages.versions.errors.audioRequired' },
    });
    expect(errors[1]).toEqual({ language: { key: 'languages.versions.errors.vietnamese' } });
    expect(errors[2]).toEqual({});
    expect(errors[3]?.language?.key).toBe('languages.errors.duplicate');
    expect(errors[3]?.audio?.key).toBe('languages.versions.errors.uploading');
    expect(errors[4]?.title?.key).toBe('errors.tooLong');
    expect(errors[4]?.text?.key).toBe('errors.tooLong');
    expect(versionsValid(errors)).toBe(false);
  });

  it("offers the known languages and the zones' own codes, not Vietnamese nor another version's", () => {
    const a = version(1, { language: 'hmn' });
    const b = version(2, { language: 'km' });
    const choices = versionLanguageChoices([a, b], b, ['vi', 'hmn', 'xyz']);
    expect(choices).toContain('km');
    expect(choices).toContain('xyz');
    expect(choices).not.toContain('hmn');
    expect(choices).not.toContain('vi');
    expect(choices.slice(0, 3)).toEqual(['blt', 'km', 'rad']);
  });

  it.each([
    ['versions[1].language', { index: 1, part: 'language' }],
    ['versions[0].audio', { index: 0, part: 'audio' }],
    ['/versions/2/title', { index: 2, part: 'title' }],
    ['body.versions.3.text', { index: 3, part: 'text' }],
    ['versions[4]', { index: 4, part: 'language' }],
    ['text', null],
    ['zones', null],
    [undefined, null],
  ])("places the server's field %j", (field, at) => {
    expect(versionErrorAt(field)).toEqual(at);
  });

  it('counts the loudspeakers of each version sent, none for one the reply leaves out', () => {
    const sent = {
      versions: [
        { language: 'hmn', audio: SHA_A },
        { language: 'km', audio: SHA_B },
      ],
    };
    const reply = { versions: [{ language: 'hmn', occurrenceId: 'o2', devices: 12 }] };
    expect(versionReach(sent, reply)).toEqual([
      { language: 'hmn', devices: 12 },
      { language: 'km', devices: 0 },
    ]);
    expect(versionReach({}, { versions: [] })).toEqual([]);
  });

  it('finds the chosen zones that list a language', () => {
    const zones = [
      { id: 'z1', name: 'Thôn 1', languages: ['vi'] },
      { id: 'z2', name: 'Thôn 2', languages: ['vi', 'hmn'] },
      { id: 'z3', name: 'Bản Mông', languages: ['hmn', 'vi'] },
    ];
    expect(zonesPlaying(zones, ['z1', 'z2'], 'hmn').map((z) => z.id)).toEqual(['z2']);
    expect(zonesPlaying(zones, 'all', 'hmn').map((z) => z.id)).toEqual(['z2', 'z3']);
    expect(zonesPlaying(zones, ['z1'], 'hmn')).toEqual([]);
  });
});
