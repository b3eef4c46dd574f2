/**
 * The one search rule of Loa Xã, for the server's device list (GET /devices?q=)
 * and the console's tables alike: every word typed must appear in the text,
 * in any order, forgiving case and missing diacritics ("thon dong" finds
 * "Thôn Đông"). No dependencies: the console imports it as
 * `@loaxa/protocol/search`.
 */

/**
 * Lower case without diacritics: NFD splits "ô" into "o" + a combining mark,
 * which is dropped; "đ" has no decomposition and is mapped by hand.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The words of a query, folded; none for a blank query (which matches everything). */
export function searchWords(query: string): string[] {
  return foldForSearch(query).split(' ').filter(Boolean);
}
