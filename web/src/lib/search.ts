/**
 * The console's one search rule, for loudspeakers, report rows and the
 * delivery matrix alike: every word typed must appear in the text, in any
 * order, forgiving case and missing diacritics ("thon dong" finds "Thôn Đông");
 * the rule itself is shared with the server (@loaxa/protocol/search).
 */
import { foldForSearch, searchWords } from '@loaxa/protocol/search';

export { foldForSearch };

/** Whether a text holds every word of `query`; a blank query matches everything. */
export function textMatcher(query: string): (text: string) => boolean {
  const words = searchWords(query);
  if (words.length === 0) return () => true;
  return (text) => {
    const haystack = foldForSearch(text);
    return words.every((word) => haystack.includes(word));
  };
}
