/**
 * The loudspeaker search of GET /devices?q=, the console's rule
 * (@loaxa/protocol/search): every word typed must appear in the name or the
 * id, in any order, forgiving case and missing diacritics.
 *
 * Neither engine folds Vietnamese the console's way (SQLite not at all,
 * PostgreSQL only with an extension the schema does not have), so the match
 * runs here, over the rows the other filters leave; folded names are
 * remembered, so a search over 15,000 loudspeakers folds each name once, not
 * on every keystroke.
 */
import { foldForSearch, searchWords } from '@loaxa/protocol/search';

export { searchWords };

/** Folded texts kept; past this the memory starts again (names change rarely, ids never). */
const FOLD_CACHE_MAX = 100_000;

const folded = new Map<string, string>();

function fold(text: string): string {
  let value = folded.get(text);
  if (value === undefined) {
    if (folded.size >= FOLD_CACHE_MAX) folded.clear();
    value = foldForSearch(text);
    folded.set(text, value);
  }
  return value;
}

/** A test of one device against `query`; null when the query has no words (it matches everything). */
export function deviceMatcher(query: string): ((name: string, id: string) => boolean) | null {
  const words = searchWords(query);
  if (words.length === 0) return null;
  return (name, id) => {
    const haystack = `${fold(name)} ${fold(id)}`;
    return words.every((word) => haystack.includes(word));
  };
}
