/**
 * The console's one search rule, for loudspeakers, report rows and the
 * delivery matrix alike: every word typed must appear in the text, in any
 * order, forgiving case and missing diacritics ("thon dong" finds "Thôn Đông").
 */

/**
 * Lower case without diacritics: NFD splits "ô" into "o" + a combining mark,
 * which is dropped; "đ" has no decomposition and is mapped by hand.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Whether a text holds every word of `query`; a blank query matches everything. */
export function textMatcher(query: string): (text: string) => boolean {
  const words = foldForSearch(query).split(' ').filter(Boolean);
  if (words.length === 0) return () => true;
  return (text) => {
    const haystack = foldForSearch(text);
    return words.every((word) => haystack.includes(word));
  };
}
