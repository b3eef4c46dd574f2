import { describe, expect, it } from 'vitest';
import { foldForSearch, textMatcher } from '../src/lib/search';

describe('the console search rule', () => {
  it('folds case, spaces and Vietnamese diacritics, đ included', () => {
    expect(foldForSearch('  Thôn  ĐÔNG Hưng ')).toBe('thon dong hung');
    expect(foldForSearch('Xã Hòa An')).toBe('xa hoa an');
  });

  it('wants every word, in any order; a blank query matches all', () => {
    const m = textMatcher('dong thon');
    expect(m('Thôn Đông')).toBe(true);
    expect(m('Thôn Tây')).toBe(false);
    expect(textMatcher('   ')('anything')).toBe(true);
    // Typed with diacritics, it still finds a name written with them.
    expect(textMatcher('Đình')('Loa Đình làng')).toBe(true);
    expect(textMatcher('đinh')('Loa Đình làng')).toBe(true);
  });
});
