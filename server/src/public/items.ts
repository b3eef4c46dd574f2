/**
 * What of a broadcast the villagers' public page and podcast may show once it
 * has aired. Decided when the broadcast is made (its author's `public`, a
 * bulletin's flag, a schedule's approval) and stored with the occurrence, so
 * a later change to a library item never reveals what was not approved.
 */

export interface PublicItem {
  title: string;
  text: string | null;
  /** The stored audio (Ogg Opus, or MP3 as uploaded). */
  sha256: string;
  durationMs: number;
  /** BCP 47 code of the spoken language; Vietnamese unless a version says otherwise. */
  language: string;
}

export const DEFAULT_LANGUAGE = 'vi';

export function publicItem(
  notice: { title: string; text: string | null },
  audio: { sha256: string; durationMs: number },
  language = DEFAULT_LANGUAGE,
): PublicItem {
  return { title: notice.title, text: notice.text, sha256: audio.sha256, durationMs: audio.durationMs, language };
}

/** The column's value read back: an empty list for NULL or a value this version cannot read. */
export function parsePublicItems(json: string | null): PublicItem[] {
  if (!json) return [];
  try {
    const items = JSON.parse(json) as unknown;
    return Array.isArray(items) ? (items as PublicItem[]) : [];
  } catch {
    return [];
  }
}
