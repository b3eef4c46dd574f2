/**
 * What the villagers' public page and podcast read: a commune's notices that
 * have aired and were marked public (public/items.ts), grouped by their audio,
 * with when they aired and in which villages; whether an emergency is current.
 * Nothing else leaves here: no device names or ids, no users, no internal notes.
 */
import type { Db } from '../db/database';
import type { MediaAsset, MediaStore } from '../media/store';
import { parsePublicItems, type PublicItem } from './items';

/** Delivery stages that mean the loudspeaker played it (at least began to). */
const AIRED_STAGES = "('started', 'finished')";
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
    private readonly db: Db,
    private readonly media: Pick<MediaStore, 'get' | 'mp3Rendition'>,
  ) {}

  /** The commune by id; `undefined` id: the install's default commune. */
  commune(id?: string): PublicCommune | null {
    const row = (
      id === undefined
        ? this.db
            .prepare(`SELECT c.id, c.name FROM communes c JOIN meta m ON m.key = 'default_commune' AND m.value = c.id`)
            .get()
        : this.db.prepare('SELECT id, name FROM communes WHERE id = ?').get(id)
    ) as PublicCommune | undefined;
    return row ?? null;
  }

  /**
   * The commune's public notices that aired at or after `since` (and before
   * `now`), newest first, at most `limit` of them.
   */
  notices(communeId: string, options: { since: number; now: number; limit: number }): PublicNotice[] {
    const rows = this.db
      .prepare(
        `SELECT o.id, o.start_at, o.public_items FROM occurrences o
         WHERE o.commune_id = ? AND o.public_items IS NOT NULL AND o.start_at >= ? AND o.start_at <= ?
           AND o.cancelled_at IS NULL
           AND EXISTS (SELECT 1 FROM deliveries d WHERE d.occurrence_id = o.id AND d.stage IN ${AIRED_STAGES})
         ORDER BY o.start_at DESC, o.id`,
      )
      .all(communeId, options.since, options.now) as AiredRow[];
    const villagesOf = this.db.prepare(
      `SELECT DISTINCT z.name FROM deliveries d
         JOIN device_zones dz ON dz.device_id = d.device_id
         JOIN zones z ON z.id = dz.zone_id AND z.commune_id = ?
       WHERE d.occurrence_id = ? AND d.stage IN ${AIRED_STAGES}`,
    );
    const byAudio = new Map<string, PublicNotice & { villageSet: Set<string> }>();
    for (const row of rows) {
      const villages = (villagesOf.all(communeId, row.id) as { name: string }[]).map((v) => v.name);
      for (const item of parsePublicItems(row.public_items)) {
        let notice = byAudio.get(item.sha256);
        if (!notice) {
          if (byAudio.size >= options.limit) continue;
          notice = { ...item, airedAt: [], villages: [], villageSet: new Set() };
          byAudio.set(item.sha256, notice);
        }
        if (notice.airedAt.at(-1) !== row.start_at) notice.airedAt.push(row.start_at);
        for (const v of villages) notice.villageSet.add(v);
      }
    }
    const collator = new Intl.Collator('vi', { numeric: true });
    return [...byAudio.values()].map(({ villageSet, ...notice }) => ({
      ...notice,
      villages: [...villageSet].sort(collator.compare),
    }));
  }

  /** The emergency the commune is living through now, if any (the newest). */
  currentEmergency(communeId: string, now: number): CurrentEmergency | null {
    const row = this.db
      .prepare(
        `SELECT o.start_at, o.public_items FROM occurrences o LEFT JOIN bulletins b ON b.id = o.bulletin_id
         WHERE o.commune_id = ? AND o.priority = 'emergency' AND o.start_at <= ?
           AND o.cancelled_at IS NULL AND o.stopped_at IS NULL
           AND MAX(o.start_at + o.duration_ms + ?, COALESCE(b.expires_at, 0)) > ?
         ORDER BY o.start_at DESC LIMIT 1`,
      )
      .get(communeId, now, EMERGENCY_BANNER_MS, now) as { start_at: number; public_items: string | null } | undefined;
    if (!row) return null;
    const item = parsePublicItems(row.public_items)[0];
    return { title: item?.title ?? null, text: item?.text ?? null, startAt: row.start_at };
  }

  /**
   * The stored audio of a public notice of the commune that has aired, in
   * `format` (an MP3 copy is made on first request); null for anything else.
   */
  async audio(communeId: string, sha256: string, format: 'ogg' | 'mp3'): Promise<MediaAsset | null> {
    const row = this.db
      .prepare(
        `SELECT 1 AS yes FROM occurrences o, json_each(o.public_items) i
         WHERE o.commune_id = ? AND o.public_items IS NOT NULL AND instr(o.public_items, ?) > 0
           AND json_extract(i.value, '$.sha256') = ? AND o.cancelled_at IS NULL
           AND EXISTS (SELECT 1 FROM deliveries d WHERE d.occurrence_id = o.id AND d.stage IN ${AIRED_STAGES})
         LIMIT 1`,
      )
      .get(communeId, sha256, sha256);
    if (!row) return null;
    const source = this.media.get(sha256);
    if (!source) return null;
    if (source.format === format) return source;
    // Only MP3 is made from another format: an Ogg copy of an uploaded MP3 is not offered.
    return format === 'mp3' ? this.media.mp3Rendition(source) : null;
  }
}
