/**
 * What the villagers' public page and podcast read: a commune's notices that
 * have aired and were marked public (public/items.ts), grouped by their audio,
 * with when they aired and in which villages; whether an emergency is current.
 * Nothing else leaves here: no device names or ids, no users, no internal notes.
 */
import { sql, type ExpressionBuilder } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { MediaAsset, MediaStore } from '../media/store';
import { parsePublicItems, type PublicItem } from './items';

/** Delivery stages that mean the loudspeaker played it (at least began to). */
const AIRED_STAGES = ['started', 'finished'];
/** Occurrences naming one audio read to find it public (a notice repeated daily has many). */
const PUBLIC_AUDIO_CANDIDATES = 50;

/** A loudspeaker played occurrence `ref` (at least began to). */
function aired(selectFrom: ExpressionBuilder<Tables, never>['selectFrom'], ref: string) {
  return selectFrom('deliveries as d')
    .select(sql<number>`1`.as('yes'))
    .whereRef('d.occurrence_id', '=', ref)
    .where('d.stage', 'in', AIRED_STAGES);
}
/** An emergency stays on the page's banner this long after it ends (or until its bulletin expires). */
export const EMERGENCY_BANNER_MS = 60 * 60_000;

export interface PublicCommune {
  id: string;
  name: string;
}

/** One public notice (one audio) with every time it aired in the period. */
export interface PublicNotice extends PublicItem {
  /** Airing instants, newest first (UTC ms). */
  airedAt: number[];
  /** The villages (zone names) where it played. */
  villages: string[];
}

export interface CurrentEmergency {
  /** Its public title and text; null when it was not marked public (the banner then says only that there is one). */
  title: string | null;
  text: string | null;
  startAt: number;
}

interface AiredRow {
  id: string;
  start_at: number;
  public_items: string;
}

export class PublicCatalogue {
  constructor(
    private readonly sqlDb: SqlDb,
    private readonly media: Pick<MediaStore, 'get' | 'mp3Rendition'>,
  ) {}

  /** The commune by id; `undefined` id: the install's default commune. */
  async commune(id?: string): Promise<PublicCommune | null> {
    const { db } = this.sqlDb;
    const row: PublicCommune | undefined =
      id === undefined
        ? await db
            .selectFrom('communes as c')
            .innerJoin('meta as m', (join) => join.on('m.key', '=', 'default_commune').onRef('m.value', '=', 'c.id'))
            .select(['c.id', 'c.name'])
            .executeTakeFirst()
        : await db.selectFrom('communes').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    return row ?? null;
  }

  /**
   * The commune's public notices that aired at or after `since` (and before
   * `now`), newest first, at most `limit` of them.
   */
  async notices(communeId: string, options: { since: number; now: number; limit: number }): Promise<PublicNotice[]> {
    const { db } = this.sqlDb;
    const rows: AiredRow[] = await db
      .selectFrom('occurrences as o')
      .select(['o.id', 'o.start_at', 'o.public_items'])
      .where('o.commune_id', '=', communeId)
      .where('o.public_items', 'is not', null)
      .where('o.start_at', '>=', options.since)
      .where('o.start_at', '<=', options.now)
      .where('o.cancelled_at', 'is', null)
      .where(({ exists, selectFrom }) => exists(aired(selectFrom, 'o.id')))
      .orderBy('o.start_at', 'desc')
      .orderBy('o.id')
      .execute();
    // The villages of every aired occurrence at once, not one query per occurrence.
    const villages = new Map<string, string[]>();
    if (rows.length > 0) {
      const played: { occurrence_id: string; name: string }[] = await db
        .selectFrom('deliveries as d')
        .innerJoin('device_zones as dz', 'dz.device_id', 'd.device_id')
        .innerJoin('zones as z', (join) => join.onRef('z.id', '=', 'dz.zone_id').on('z.commune_id', '=', communeId))
        .select(['d.occurrence_id', 'z.name'])
        .distinct()
        .where(
          'd.occurrence_id',
          'in',
          rows.map((r) => r.id),
        )
        .where('d.stage', 'in', AIRED_STAGES)
        .execute();
      for (const p of played) villages.set(p.occurrence_id, [...(villages.get(p.occurrence_id) ?? []), p.name]);
    }
    const byAudio = new Map<string, PublicNotice & { villageSet: Set<string> }>();
    for (const row of rows) {
      for (const item of parsePublicItems(row.public_items)) {
        let notice = byAudio.get(item.sha256);
        if (!notice) {
          if (byAudio.size >= options.limit) continue;
          notice = { ...item, airedAt: [], villages: [], villageSet: new Set() };
          byAudio.set(item.sha256, notice);
        }
        if (notice.airedAt.at(-1) !== row.start_at) notice.airedAt.push(row.start_at);
        for (const v of villages.get(row.id) ?? []) notice.villageSet.add(v);
      }
    }
    const collator = new Intl.Collator('vi', { numeric: true });
    return [...byAudio.values()].map(({ villageSet, ...notice }) => ({
      ...notice,
      villages: [...villageSet].sort(collator.compare),
    }));
  }

  /** The emergency the commune is living through now, if any (the newest). */
  async currentEmergency(communeId: string, now: number): Promise<CurrentEmergency | null> {
    // On the banner until an hour after it ended, or until its bulletin expires, whichever is later.
    const row: { start_at: number; public_items: string | null } | undefined = await this.sqlDb.db
      .selectFrom('occurrences as o')
      .leftJoin('bulletins as b', 'b.id', 'o.bulletin_id')
      .select(['o.start_at', 'o.public_items'])
      .where('o.commune_id', '=', communeId)
      .where('o.priority', '=', 'emergency')
      .where('o.start_at', '<=', now)
      .where('o.cancelled_at', 'is', null)
      .where('o.stopped_at', 'is', null)
      .where((eb) =>
        eb.or([eb(sql`o.start_at + o.duration_ms`, '>', now - EMERGENCY_BANNER_MS), eb('b.expires_at', '>', now)]),
      )
      .orderBy('o.start_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return null;
    const item = parsePublicItems(row.public_items)[0];
    return { title: item?.title ?? null, text: item?.text ?? null, startAt: row.start_at };
  }

  /**
   * The stored audio of a public notice of the commune that has aired, in
   * `format` (an MP3 copy is made on first request); null for anything else.
   */
  async audio(communeId: string, sha256: string, format: 'ogg' | 'mp3'): Promise<MediaAsset | null> {
    // The JSON list is read here rather than in SQL (SQLite's json_each, PostgreSQL's jsonb
    // functions): the LIKE narrows to occurrences naming the hash, the parse decides.
    const candidates: { public_items: string }[] = await this.sqlDb.db
      .selectFrom('occurrences as o')
      .select('o.public_items')
      .where('o.commune_id', '=', communeId)
      .where('o.public_items', 'like', `%${sha256.replace(/[^0-9a-f]/gi, '')}%`)
      .where('o.cancelled_at', 'is', null)
      .where(({ exists, selectFrom }) => exists(aired(selectFrom, 'o.id')))
      .limit(PUBLIC_AUDIO_CANDIDATES)
      .execute();
    const row = candidates.find((c) => parsePublicItems(c.public_items).some((i) => i.sha256 === sha256));
    if (!row) return null;
    const source = await this.media.get(sha256);
    if (!source) return null;
    if (source.format === format) return source;
    // Only MP3 is made from another format: an Ogg copy of an uploaded MP3 is not offered.
    return format === 'mp3' ? this.media.mp3Rendition(source) : null;
  }
}
