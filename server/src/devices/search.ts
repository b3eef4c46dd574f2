/**
 * The loudspeaker search of GET /devices?q=, the console's rule
 * (@loaxa/protocol/search): every word typed must appear in the name or the
 * id, in any order, forgiving case and missing diacritics.
 *
 * SQLite cannot fold Vietnamese, so the match is a function registered on
 * the connection (`loaxa_device_match(name, id, query)`) that the device list
 * query calls per row; folded names are remembered, so a search over 15,000
 * loudspeakers folds each name once, not on every keystroke.
 */
import { foldForSearch, searchWords } from '@loaxa/protocol/search';
import type { Db } from '../db/database';

export { searchWords };

export const DEVICE_MATCH_FUNCTION = 'loaxa_device_match';

/** Folded texts kept; past this the memory starts again (names change rarely, ids never). */
const FOLD_CACHE_MAX = 100_000;

/** Registers `loaxa_device_match(name, id, query)` (1 when every word of query is in name or id) on `db`. */
export function registerDeviceMatch(db: Db): void {
  const folded = new Map<string, string>();
  const fold = (text: string): string => {
    let value = folded.get(text);
    if (value === undefined) {
      if (folded.size >= FOLD_CACHE_MAX) folded.clear();
      value = foldForSearch(text);
      folded.set(text, value);
    }
    return value;
  };
  // One query runs against every row: split it once, not per row.
  let lastQuery = '';
  let lastWords: string[] = [];
  db.function(DEVICE_MATCH_FUNCTION, { deterministic: true }, (name: unknown, id: unknown, query: unknown) => {
    const text = String(query ?? '');
    if (text !== lastQuery) {
      lastQuery = text;
      lastWords = searchWords(text);
    }
    if (lastWords.length === 0) return 1;
    const haystack = `${fold(String(name))} ${fold(String(id))}`;
    return lastWords.every((word) => haystack.includes(word)) ? 1 : 0;
  });
}
