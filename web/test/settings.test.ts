import { describe, expect, it } from 'vitest';
import { ApiError, type DictionaryEntry } from '../src/lib/api';
import {
  filterDictionary,
  moveEngine,
  parseDecimal,
  publicPageUrl,
  readContact,
  readLoudness,
  settingsErrors,
} from '../src/pages/settings';

const entry = (abbreviation: string, expansion: string, source: DictionaryEntry['source'] = 'builtin') => ({
  abbreviation,
  expansion,
  source,
  builtin: null,
  updatedAt: null,
  updatedBy: null,
});

describe('settings page helpers', () => {
  it('reads numbers as people type them, with a comma or a point', () => {
    expect([parseDecimal('-16'), parseDecimal(' -1,5 '), parseDecimal('−20'), parseDecimal('-1.5')]).toEqual([
      -16, -1.5, -20, -1.5,
    ]);
    expect([parseDecimal(''), parseDecimal('to'), parseDecimal('-1,5,2')]).toEqual([null, null, null]);
  });

  it('keeps the loudness between the server’s limits, field by field', () => {
    expect(readLoudness('-20', '-1,5')).toEqual({ ok: true, integratedLufs: -20, truePeakDb: -1.5 });
    const bad = readLoudness('-40', 'x');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && Object.keys(bad.errors).sort()).toEqual(['loudness.integratedLufs', 'loudness.truePeakDb']);
    expect(!bad.ok && bad.errors['loudness.integratedLufs']).toEqual({
      key: 'settings.loudness.range',
      values: { min: -30, max: -10 },
    });
  });

  it('moves an engine one place, and not past the ends', () => {
    expect(moveEngine(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(moveEngine(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moveEngine(['a', 'b'], 0, -1)).toEqual(['a', 'b']);
  });

  it('finds entries without caring about case or Vietnamese marks, the commune’s first', () => {
    const entries = [
      entry('UBND', 'ủy ban nhân dân'),
      entry('HTX', 'hợp tác xã'),
      entry('KDC', 'khu dân cư', 'commune'),
      entry('ĐU', 'đảng ủy'),
    ];
    expect(filterDictionary(entries, 'uy ban').map((e) => e.abbreviation)).toEqual(['UBND']);
    expect(filterDictionary(entries, 'dang').map((e) => e.abbreviation)).toEqual(['ĐU']);
    expect(filterDictionary(entries, 'du').map((e) => e.abbreviation)).toEqual(['ĐU']);
    expect(filterDictionary(entries, '').map((e) => e.abbreviation)).toEqual(['KDC', 'ĐU', 'HTX', 'UBND']);
  });

  it('saves the public page’s contact trimmed, an empty field clearing it', () => {
    expect(readContact('  UBND xã, ĐT 0209 3870 123 ')).toEqual({ ok: true, contact: 'UBND xã, ĐT 0209 3870 123' });
    expect(readContact('   ')).toEqual({ ok: true, contact: null });
    expect(readContact('x'.repeat(300))).toEqual({ ok: true, contact: 'x'.repeat(300) });
    expect(readContact('x'.repeat(301))).toEqual({
      ok: false,
      error: { key: 'errors.tooLong', values: { count: 301, max: 300 } },
    });
    const refused = new ApiError(400, 'publicPage.contact: must not be blank', { field: 'publicPage.contact' });
    expect(Object.keys(settingsErrors(refused, ['publicPage.contact']))).toEqual(['publicPage.contact']);
  });

  it('links the commune’s public page', () => {
    expect(publicPageUrl('xa-a')).toBe('/public/xa-a/');
    expect(publicPageUrl(undefined)).toBe('/public/');
  });

  it('puts a refused setting at its field, the rest on the form', () => {
    const refused = (field: string) => new ApiError(400, `${field}: must be >= -30`, { field });
    expect(settingsErrors(refused('loudness.integratedLufs'), ['loudness.integratedLufs'])).toEqual({
      'loudness.integratedLufs': {
        key: 'errors.invalidField',
        values: { message: 'loudness.integratedLufs: must be >= -30' },
      },
    });
    expect(Object.keys(settingsErrors(refused('engines.1'), ['engines']))).toEqual(['engines']);
    expect(Object.keys(settingsErrors(refused('volume'), ['engines']))).toEqual(['form']);
    expect(settingsErrors(new ApiError(403, 'no'), ['engines'])).toEqual({
      form: { key: 'errors.forbidden', values: { message: 'no' } },
    });
  });
});
