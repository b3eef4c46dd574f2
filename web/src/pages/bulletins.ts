/**
 * The province's bulletins as the console reads them: counts per commune
 * status, what a commune may still do with one, the first time offered for
 * placing it, and the body a new one is sent with. Kept free of Svelte so
 * the rules are unit-tested (web/test/bulletins.test.ts).
 */
import {
  BULLETIN_HANDLINGS,
  type Bulletin,
  type BulletinCommune,
  type BulletinHandling,
  type BulletinInput,
  type Priority,
} from '../lib/api';

export type HandlingCounts = Record<BulletinHandling, number>;

/** How many communes are at each stage of handling the bulletin. */
export function handlingCounts(bulletin: Pick<Bulletin, 'communes'>): HandlingCounts {
  const counts = Object.fromEntries(BULLETIN_HANDLINGS.map((status) => [status, 0])) as HandlingCounts;
  for (const row of bulletin.communes) counts[row.status]++;
  return counts;
}

/** Loudspeakers reached and played, over all the bulletin's communes. */
export function playTotals(bulletin: Pick<Bulletin, 'communes'>): { devices: number; played: number; failed: number } {
  return bulletin.communes.reduce(
    (sum, row) => ({
      devices: sum.devices + row.devices,
      played: sum.played + row.played,
      failed: sum.failed + row.failed,
    }),
    { devices: 0, played: 0, failed: 0 },
  );
}

/**
 * A commune may place or decline a bulletin that was sent and still waits in
 * its inbox (`received`): a normal one always; a priority one only when it
 * found no programme ahead to join and so waits there too.
 */
export function mayHandle(
  bulletin: Pick<Bulletin, 'status' | 'priority'>,
  row: Pick<BulletinCommune, 'status'>,
): boolean {
  return bulletin.status === 'sent' && bulletin.priority !== 'emergency' && row.status === 'received';
}

/** Still moving: a submitted bulletin, a commune yet to handle it, or loudspeakers yet to play it. */
export function isLive(bulletin: Pick<Bulletin, 'status' | 'communes'>, now: number): boolean {
  if (bulletin.status === 'submitted') return true;
  if (bulletin.status !== 'sent') return false;
  return bulletin.communes.some(
    (row) =>
      row.status === 'received' ||
      row.occurrences.some((o) => Date.parse(o.startAt) > now - 30 * 60_000) ||
      row.played + row.failed < row.devices,
  );
}

/** The time first offered for placing: the next quarter hour at least 10 minutes ahead. */
export function suggestedPlaceTime(now: number): number {
  const QUARTER = 15 * 60_000;
  return Math.ceil((now + 10 * 60_000) / QUARTER) * QUARTER;
}

/** The commune's own row of a bulletin in its inbox (a commune user sees only theirs). */
export function ownRow(bulletin: Pick<Bulletin, 'communes'>, communeId: string | null): BulletinCommune | undefined {
  return communeId ? bulletin.communes.find((row) => row.communeId === communeId) : undefined;
}

/** Newest first; the one just written or changed replaces its old copy. */
export function upsert(list: readonly Bulletin[], bulletin: Bulletin): Bulletin[] {
  const others = list.filter((b) => b.id !== bulletin.id);
  return [bulletin, ...others].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/**
 * Whether a new bulletin starts out public (on the communes' public pages and
 * podcasts once aired), as the server defaults it: written text yes, an
 * uploaded recording no.
 */
export function bulletinPublicByDefault(source: 'text' | 'audio'): boolean {
  return source === 'text';
}

/** What the province's form holds once checked: trimmed text, the chosen communes, an instant or none. */
export interface BulletinDraft {
  title: string;
  text: string;
  priority: Priority;
  communes: BulletinInput['communes'];
  /** Only an emergency keeps playing on loudspeakers that come back online until then. */
  expiresAt: string | null;
  public: boolean;
}

/** The body of POST /api/v1/bulletins for a checked form: empty title and expiry left out, `public` always said. */
export function bulletinBody(draft: BulletinDraft): BulletinInput {
  return {
    text: draft.text,
    priority: draft.priority,
    communes: draft.communes,
    public: draft.public,
    ...(draft.title ? { title: draft.title } : {}),
    ...(draft.priority === 'emergency' && draft.expiresAt ? { expiresAt: draft.expiresAt } : {}),
  };
}
