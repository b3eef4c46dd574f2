/**
 * Programmes: ordered content items, each repeated and followed by a gap.
 * A programme becomes the list of audio files a loudspeaker plays back to
 * back (gaps and silences are short stored silence files).
 */
import type { FrozenVersion } from './materialise';
import { fileAssets, isFile, type Asset } from '@loaxa/protocol';
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import { assetFor } from '../broadcasts/planner';
import type { MediaAsset } from '../media/store';
import type { ContentLibrary } from './content';
import { badInput, notFound, ScheduleInputError } from './errors';
import { newId } from './content';
import { communeScope, type Scope } from '../tenancy/scope';
import { publicItem, type PublicItem } from '../public/items';

export interface ProgrammeItemInput {
  contentId: string;
  repeat?: number;
  gapMs?: number;
}

export interface ProgrammeInput {
  title: string;
  items: ProgrammeItemInput[];
  /** The revision the writer saw; a change made meanwhile by someone else answers 409. */
  revision?: number;
}

export interface ProgrammeView {
  id: string;
  /** The commune it belongs to; its items are all from this commune's library. */
  communeId: string;
  title: string;
  items: {
    contentId: string;
    title: string;
    kind: string;
    repeat: number;
    gapMs: number;
    durationMs: number;
  }[];
  /** Everything played once through, gaps included. */
  durationMs: number;
  createdBy: string | null;
  updatedAt: string;
  /** Increases with every change (compare-and-set, and what an approver reviewed). */
  revision: number;
  /** Each item's content revision, in order: with `revision`, names exactly what would air. */
  contentRevisions: number[];
}

export const MAX_ITEMS = 50;
export const MAX_ITEM_REPEAT = 10;
export const MAX_GAP_MS = 10 * 60_000;
/** The protocol carries at most 200 files per plan item. */
export const MAX_ASSETS = 200;
const STREAM_LEAD_IN_MS = 500;

/** Total of assets played back to back. */
export function assetsDurationMs(assets: readonly Pick<Asset, 'durationMs'>[]): number {
  return assets.reduce((sum, a) => sum + a.durationMs, 0);
}

const toAsset = (m: MediaAsset): Asset => assetFor({ ...m, duration_ms: m.durationMs });

export class ProgrammeService {
  constructor(
    private readonly sqlDb: SqlDb,
    private readonly content: ContentLibrary,
    private readonly now: () => number = Date.now,
  ) {}

  /** Items come from the programme's own commune's library: another commune's item is as unknown. */
  private async checkItems(communeId: string, items: ProgrammeItemInput[]): Promise<void> {
    if (items.length === 0) throw badInput('items', 'a programme needs at least one item');
    if (items.length > MAX_ITEMS) throw badInput('items', `at most ${MAX_ITEMS} items`);
    for (const [i, item] of items.entries()) {
      const c = await this.content.get(communeScope(communeId), item.contentId);
      if (!c) throw badInput(`items.${i}.contentId`, `no content item with id ${item.contentId}`);
      const repeat = item.repeat ?? 1;
      if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_ITEM_REPEAT) {
        throw badInput(`items.${i}.repeat`, `must be 1 … ${MAX_ITEM_REPEAT}`);
      }
      const gap = item.gapMs ?? 0;
      if (!Number.isInteger(gap) || gap < 0 || gap > MAX_GAP_MS) {
        throw badInput(`items.${i}.gapMs`, `must be 0 … ${MAX_GAP_MS} ms`);
      }
    }
  }

  private async writeItems(tx: Kysely<Tables>, id: string, items: ProgrammeItemInput[]): Promise<void> {
    await tx.deleteFrom('programme_items').where('programme_id', '=', id).execute();
    if (items.length === 0) return;
    await tx
      .insertInto('programme_items')
      .values(
        items.map((item, i) => ({
          programme_id: id,
          position: i,
          content_id: item.contentId,
          repeat: item.repeat ?? 1,
          gap_ms: item.gapMs ?? 0,
        })),
      )
      .execute();
  }

  /** Creates a programme in `communeId` (the route resolved it with CommuneService.forWrite). */
  async create(communeId: string, input: ProgrammeInput, createdBy: string | null): Promise<ProgrammeView> {
    const title = input.title.trim();
    if (!title) throw badInput('title', 'give the programme a title');
    await this.checkItems(communeId, input.items);
    const id = newId('pg');
    const at = this.now();
    await this.sqlDb.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('programmes')
        .values({ id, commune_id: communeId, title, created_by: createdBy, created_at: at, updated_at: at })
        .execute();
      await this.writeItems(tx, id, input.items);
    });
    return (await this.get(communeScope(communeId), id))!;
  }

  async update(scope: Scope, id: string, input: ProgrammeInput): Promise<ProgrammeView> {
    const existing = await this.get(scope, id);
    if (!existing) throw notFound('id', `no programme with id ${id}`);
    const title = input.title.trim();
    if (!title) throw badInput('title', 'give the programme a title');
    await this.checkItems(existing.communeId, input.items);
    const expected = input.revision ?? existing.revision;
    const written = await this.sqlDb.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('programmes')
        .set({ title, updated_at: this.now(), revision: sql`revision + 1` })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .where('revision', '=', expected)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await this.writeItems(tx, id, input.items);
      return true;
    });
    if (!written) {
      const current = await this.get(scope, id);
      if (!current) throw notFound('id', `no programme with id ${id}`);
      throw new ScheduleInputError(
        409,
        'revision',
        `the programme changed meanwhile (now revision ${current.revision}, ${current.updatedAt}); reload it and try again`,
        { current },
      );
    }
    return (await this.get(scope, id))!;
  }

  /** Soft delete; refused while a schedule still uses it. Returns the programme as it was. */
  async remove(scope: Scope, id: string): Promise<ProgrammeView> {
    const programme = await this.get(scope, id);
    if (!programme) throw notFound('id', `no programme with id ${id}`);
    const used: { title: string } | undefined = await this.sqlDb.db
      .selectFrom('schedules')
      .select('title')
      .where('programme_id', '=', id)
      .where('status', '!=', 'cancelled')
      .limit(1)
      .executeTakeFirst();
    if (used) throw new ScheduleInputError(409, 'id', `the schedule "${used.title}" still uses this programme`);
    await this.sqlDb.db
      .updateTable('programmes')
      .set({ deleted_at: this.now(), revision: sql`revision + 1` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .execute();
    return programme;
  }

  /**
   * A programme visible in `scope`; null for one of another commune, exactly as for an unknown id.
   * `db`: a transaction, or the shared handle. `lock`: in a transaction that depends on what is
   * read (an approval), PostgreSQL holds the programme's and its items' rows (FOR SHARE) until the
   * commit, so a change to them waits for it; SQLite's one writer gives the same.
   */
  async get(
    scope: Scope,
    id: string,
    db: Kysely<Tables> = this.sqlDb.db,
    { lock = false }: { lock?: boolean } = {},
  ): Promise<ProgrammeView | null> {
    const share = lock && this.sqlDb.engine === 'postgres';
    const p = (await db
      .selectFrom('programmes')
      .select(['id', 'commune_id', 'title', 'created_by', 'updated_at', 'revision'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .$if(share, (q) => q.forShare())
      .executeTakeFirst()) as
      | {
          id: string;
          commune_id: string;
          title: string;
          created_by: string | null;
          updated_at: number;
          revision: number;
        }
      | undefined;
    if (!p) return null;
    const rows = (await db
      .selectFrom('programme_items as pi')
      .innerJoin('content_items as c', 'c.id', 'pi.content_id')
      .select(['pi.content_id', 'pi.repeat', 'pi.gap_ms', 'c.title', 'c.kind', 'c.duration_ms', 'c.revision'])
      .where('pi.programme_id', '=', id)
      .orderBy('pi.position')
      .$if(share, (q) => q.forShare())
      .execute()) as {
      content_id: string;
      repeat: number;
      gap_ms: number;
      title: string;
      kind: string;
      duration_ms: number;
      revision: number;
    }[];
    const items = rows.map((r) => ({
      contentId: r.content_id,
      title: r.title,
      kind: r.kind,
      repeat: r.repeat,
      gapMs: r.gap_ms,
      durationMs: r.duration_ms,
    }));
    return {
      id: p.id,
      communeId: p.commune_id,
      title: p.title,
      items,
      durationMs: items.reduce((sum, i) => sum + i.repeat * (i.durationMs + i.gapMs), 0),
      createdBy: p.created_by,
      updatedAt: new Date(p.updated_at).toISOString(),
      revision: p.revision,
      contentRevisions: rows.map((r) => r.revision),
    };
  }

  async list(scope: Scope): Promise<ProgrammeView[]> {
    const ids: { id: string }[] = await this.sqlDb.db
      .selectFrom('programmes')
      .select('id')
      .where('deleted_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .orderBy('updated_at', 'desc')
      .limit(500)
      .execute();
    const out: ProgrammeView[] = [];
    for (const r of ids) out.push((await this.get(scope, r.id))!);
    return out;
  }

  /** Programmes that use a content item (to re-plan their schedules when it changes). */
  async programmesUsing(contentId: string): Promise<string[]> {
    const rows: { programme_id: string }[] = await this.sqlDb.db
      .selectFrom('programme_items')
      .select('programme_id')
      .distinct()
      .where('content_id', '=', contentId)
      .execute();
    return rows.map((r) => r.programme_id);
  }

  /**
   * What of the programme the public page may show once it airs: each public
   * notice or audio item (PublicItem) once, in programme order.
   */
  async publicItemsOf(scope: Scope, id: string): Promise<PublicItem[]> {
    const programme = await this.get(scope, id);
    if (!programme) throw notFound('programmeId', `no programme with id ${id}`);
    const seen = new Set<string>();
    const out: PublicItem[] = [];
    for (const item of programme.items) {
      const content = await this.content.get(communeScope(programme.communeId), item.contentId);
      if (!content?.public || !content.sha256 || seen.has(content.id)) continue;
      seen.add(content.id);
      out.push(publicItem(content, { sha256: content.sha256, durationMs: content.durationMs }));
    }
    return out;
  }

  /**
   * The files a loudspeaker plays for this programme, `times` times over with
   * `gapMs` of silence between passes.
   */
  async assetsOf(scope: Scope, id: string, times = 1, gapMs = 0): Promise<Asset[]> {
    const programme = await this.get(scope, id);
    if (!programme) throw notFound('programmeId', `no programme with id ${id}`);
    const pass: Asset[] = [];
    const silences = new Set<string>(); // sha256 of the silences added, to trim a trailing one
    const silenceOf = async (ms: number) => {
      const asset = await this.content.silenceAsset(ms);
      silences.add(asset.sha256);
      return asset;
    };
    for (const item of programme.items) {
      const content = (await this.content.get(communeScope(programme.communeId), item.contentId))!;
      const file =
        content.kind === 'silence'
          ? await silenceOf(content.durationMs)
          : content.sha256
            ? await this.mediaOf(content.sha256)
            : null;
      const asset: Asset | null =
        content.kind === 'stream'
          ? { kind: 'stream', url: content.url!, durationMs: content.durationMs }
          : file && toAsset(file);
      if (!asset) throw badInput('programmeId', `the item "${content.title}" has no playable audio`);
      const gap = item.gapMs > 0 ? toAsset(await silenceOf(item.gapMs)) : null;
      for (let r = 0; r < item.repeat; r++) {
        pass.push(asset);
        if (gap) pass.push(gap);
      }
    }
    const out: Asset[] = [];
    const between = gapMs > 0 ? toAsset(await silenceOf(gapMs)) : null;
    for (let t = 0; t < times; t++) {
      if (t > 0 && between) out.push(between);
      out.push(...pass);
    }
    // A trailing gap is dead air on the pole: drop it.
    const isSilence = (a: Asset) => isFile(a) && silences.has(a.sha256);
    while (out.length > 1 && isSilence(out.at(-1)!)) out.pop();
    // Every occurrence names a stored file (its `sha256` column): a programme of
    // streams only opens with half a second of silence, under the amplifier's pre-roll.
    if (fileAssets(out).length === 0) out.unshift(toAsset(await silenceOf(STREAM_LEAD_IN_MS)));
    if (out.length > MAX_ASSETS) {
      throw badInput('repeat', `the programme would play ${out.length} files in a row; at most ${MAX_ASSETS}`);
    }
    return out;
  }

  /**
   * The programme in each other language its items have versions in: those versions'
   * files in programme order (once each), and which of them the public page may show.
   */
  async versionsOf(scope: Scope, id: string): Promise<FrozenVersion[]> {
    const programme = await this.get(scope, id);
    if (!programme) throw notFound('programmeId', `no programme with id ${id}`);
    const byLanguage = new Map<string, FrozenVersion>();
    const seen = new Set<string>();
    for (const item of programme.items) {
      const content = await this.content.get(communeScope(programme.communeId), item.contentId);
      if (!content) continue;
      for (const v of content.versions) {
        const key = `${content.id} ${v.language}`;
        const file = await this.mediaOf(v.sha256);
        if (seen.has(key) || !file) continue;
        seen.add(key);
        const entry = byLanguage.get(v.language) ?? { language: v.language, assets: [], publicItems: [] };
        entry.assets.push(toAsset(file));
        if (content.public) entry.publicItems.push(publicItem(v, v, v.language));
        byLanguage.set(v.language, entry);
      }
    }
    return [...byLanguage.values()];
  }

  private async mediaOf(sha256: string): Promise<MediaAsset | null> {
    const row: { sha256: string; format: MediaAsset['format']; bytes: number; duration_ms: number } | undefined =
      await this.sqlDb.db
        .selectFrom('media')
        .select(['sha256', 'format', 'bytes', 'duration_ms'])
        .where('sha256', '=', sha256)
        .executeTakeFirst();
    return row ? { sha256: row.sha256, format: row.format, bytes: row.bytes, durationMs: row.duration_ms } : null;
  }
}
