/**
 * A notice in several languages: its Vietnamese text (TTS) plays on every
 * loudspeaker it targets; each other language version (an uploaded or recorded
 * file) plays after it, on the loudspeakers whose zones list that language,
 * in the zone's order. Each version is its own occurrence, so deliveries,
 * reports and the public page count and show each one.
 */
import type { MediaAsset } from '../media/store';
import { DEFAULT_LANGUAGE } from '../public/items';

/** A version as the author gives it. */
export interface NoticeVersionInput {
  /** Language code; not Vietnamese (the notice's text is that version). */
  language: string;
  /** sha256 of the uploaded or recorded file. */
  audio: string;
  title?: string;
  text?: string;
}

/** A version with its audio found and the loudspeakers that play it. */
export interface PlannedVersion {
  language: string;
  title: string;
  text: string | null;
  audio: MediaAsset;
  deviceIds: string[];
}

export interface VersionPlan {
  /** Versions that play somewhere, in the order planned starts follow (see `order`). */
  versions: PlannedVersion[];
  /** Per zone: the languages after Vietnamese, in the zone's order (play-now commands chain by it). */
  chains: Map<string, string[]>;
}

/** Pause between one version and the next of a planned (`at`) broadcast. */
export const VERSION_GAP_MS = 1_000;

/**
 * Which loudspeakers play which version. `zoneLanguages` holds the target
 * zones (all of the commune's for 'all') in name order; `members` gives each
 * zone's active loudspeakers among the broadcast's. The planned order of the
 * versions is the order languages first appear across the zones' lists.
 */
/**
 * The languages among `available` (never Vietnamese: that is the notice itself) that zones list,
 * in the order they first appear across the zones' lists, each with the zones that list it.
 */
export function languageOrder(
  zoneLanguages: ReadonlyMap<string, readonly string[]>,
  available: ReadonlySet<string>,
): { language: string; zoneIds: string[] }[] {
  const out = new Map<string, string[]>();
  for (const [zoneId, languages] of zoneLanguages) {
    for (const language of languages) {
      if (language === DEFAULT_LANGUAGE || !available.has(language)) continue;
      out.set(language, [...(out.get(language) ?? []), zoneId]);
    }
  }
  return [...out].map(([language, zoneIds]) => ({ language, zoneIds }));
}

export function planVersions(
  inputs: readonly (NoticeVersionInput & { asset: MediaAsset; title: string })[],
  zoneLanguages: ReadonlyMap<string, readonly string[]>,
  members: (zoneId: string) => readonly string[],
): VersionPlan {
  const byLanguage = new Map(inputs.map((v) => [v.language, v]));
  const chains = new Map<string, string[]>();
  for (const [zoneId, languages] of zoneLanguages) {
    const chain = languages.filter((l) => l !== DEFAULT_LANGUAGE && byLanguage.has(l));
    if (chain.length) chains.set(zoneId, chain);
  }
  const versions = languageOrder(zoneLanguages, new Set(byLanguage.keys()))
    .map(({ language, zoneIds }) => {
      const v = byLanguage.get(language)!;
      return {
        language,
        title: v.title,
        text: v.text?.trim() || null,
        audio: v.asset,
        deviceIds: [...new Set(zoneIds.flatMap((z) => members(z)))].sort(),
      };
    })
    .filter((v) => v.deviceIds.length > 0);
  return { versions, chains };
}
