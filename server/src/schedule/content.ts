/**
 * The content library: what a programme is built from. Notices (text + TTS
 * settings, rendered when saved), uploaded audio (already stored media),
 * stream relays (a URL played for a set duration) and silences.
 */
import type { NoticeVersionInput } from '../broadcasts/versions';
import { DEFAULT_LANGUAGE } from '../public/items';
import { languageName } from '../public/languages';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { MAX_STREAM_MS } from '@loaxa/protocol';
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { MediaAsset, MediaStore } from '../media/store';
import type { NoticeRenderer } from '../tts/render';
import { encodeWav, pcmDurationMs, silence, sine, type Pcm } from '../audio/pcm';
import { encodeWavToOpus } from '../audio/encode';
import type { Scope } from '../tenancy/scope';
import { badInput, notFound, ScheduleInputError } from './errors';

export type ContentKind = 'notice' | 'audio' | 'stream' | 'silence';

/** Engines recorded for audio the server generates; the media clean-up keeps these files. */
export const GENERATED_ENGINES = ['silence', 'tone'] as const;
type GeneratedEngine = (typeof GENERATED_ENGINES)[number];
const TONE_MS = 3000;

export interface ContentInput {
  kind: ContentKind;
  title: string;
  tags?: string[];
  /** notice */
  text?: string;
  voice?: string;
  speed?: number;
  /** audio: an uploaded file already in the media store */
  sha256?: string;
  /** stream */
  url?: string;
  /** stream and silence: how long it plays */
  durationMs?: number;
  /**
   * notice and audio: shown on the commune's public page once aired (the approver confirms it).
   * Default: a notice yes, uploaded audio no; kept as it was when an update leaves it out.
   */
  public?: boolean;
  /** notice and audio: the item in other languages (uploaded or recorded files); replaces the list on update. */
  versions?: NoticeVersionInput[];
  /** The revision the writer saw; a change made meanwhile by someone else answers 409. */
  revision?: number;
}

/** A library item in another language (an uploaded or recorded file). */
export interface ContentVersion {
  language: string;
  sha256: string;
  durationMs: number;
  title: string;
  text: string | null;
}

export interface ContentItem {
  id: string;
  /** The commune whose library holds it; only that commune's programmes may use it. */
  communeId: string;
  kind: ContentKind;
  title: string;
  tags: string[];
  text: string | null;
  voice: string | null;
  speed: number | null;
  sha256: string | null;
  engine: string | null;
  url: string | null;
  durationMs: number;
  /** Shown on the commune's public page once it has aired. */
  public: boolean;
  /** The item in other languages: each plays after the programme where a zone lists its language. */
  versions: ContentVersion[];
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** Increases with every change (compare-and-set, and what an approver reviewed). */
  revision: number;
}

interface ContentRow {
  id: string;
  commune_id: string;
  kind: ContentKind;
  title: string;
  tags: string;
  text: string | null;
  voice: string | null;
  speed: number | null;
  sha256: string | null;
  engine: string | null;
  stream_url: string | null;
  duration_ms: number;
  public: number;
  versions: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  revision: number;
}

export const MAX_SILENCE_MS = 10 * 60_000;

export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}

function toView(r: ContentRow): ContentItem {
  return {
    id: r.id,
    communeId: r.commune_id,
    kind: r.kind,
    title: r.title,
    tags: JSON.parse(r.tags) as string[],
    text: r.text,
    voice: r.voice,
    speed: r.speed,
    sha256: r.sha256,
    engine: r.engine,
    url: r.stream_url,
    durationMs: r.duration_ms,
    public: r.public === 1,
    versions: JSON.parse(r.versions) as ContentVersion[],
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    revision: r.revision,
  };
}

function checkStreamUrl(url: string | undefined): string {
  if (!url) throw badInput('url', 'a stream relay needs the address of the stream');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput('url', `${JSON.stringify(url)} is not a web address`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) {
    throw badInput('url', 'only http:// and https:// streams (e.g. Icecast) can be relayed');
  }
  return parsed.toString();
}

/** The item's public flag: a notice's defaults on, uploaded audio's off; streams and silences never are. */
function checkPublic(kind: ContentKind, requested: boolean | undefined, current?: boolean): number {
  const value = requested ?? current ?? kind === 'notice';
  if (value && kind !== 'notice' && kind !== 'audio') {
    throw badInput('public', `a ${kind} cannot be public: only notices and audio have something to replay`);
  }
  return value ? 1 : 0;
}

function checkDuration(value: number | undefined, max: number, min = 100): number {
  if (value === undefined) throw badInput('durationMs', 'is required for this kind of item');
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput('durationMs', `must be between ${min} and ${max} ms`);
  }
  return value;
}

export class ContentLibrary {
  constructor(
    private readonly sqlDb: SqlDb,
    private readonly media: MediaStore,
    private readonly renderer: NoticeRenderer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Works out the stored columns of an item, rendering notices with the commune's voice and loudness. */
  private async resolve(input: ContentInput, communeId: string) {
    const base = { text: null, voice: null, speed: null, sha256: null, engine: null, url: null } as {
      text: string | null;
      voice: string | null;
      speed: number | null;
      sha256: string | null;
      engine: string | null;
      url: string | null;
    };
    switch (input.kind) {
      case 'notice': {
        const text = input.text?.trim();
        if (!text) throw badInput('text', 'the notice is empty');
        const audio = await this.renderer.render({ text, voice: input.voice, speed: input.speed }, communeId);
        return {
          ...base,
          text,
          voice: input.voice ?? null,
          speed: input.speed ?? null,
          sha256: audio.sha256,
          engine: audio.engine,
          durationMs: audio.durationMs,
        };
      }
      case 'audio': {
        const asset = input.sha256 ? await this.media.get(input.sha256) : null;
        if (!input.sha256) throw badInput('sha256', 'upload the audio first and give its sha256');
        if (!asset) throw badInput('sha256', `no uploaded audio with sha256 ${input.sha256}`);
        return { ...base, sha256: asset.sha256, durationMs: asset.durationMs };
      }
      case 'stream':
        return {
          ...base,
          url: checkStreamUrl(input.url),
          durationMs: checkDuration(input.durationMs, MAX_STREAM_MS, 1000),
        };
      case 'silence':
        return { ...base, durationMs: checkDuration(input.durationMs, MAX_SILENCE_MS) };
    }
  }

  /** Adds an item to the library of `communeId` (the route resolved it with CommuneService.forWrite). */
  async create(communeId: string, input: ContentInput, createdBy: string | null): Promise<ContentItem> {
    const title = input.title.trim();
    if (!title) throw badInput('title', 'give the item a title');
    const resolved = await this.resolve(input, communeId);
    const id = newId('ct');
    const at = this.now();
    const isPublic = checkPublic(input.kind, input.public);
    const versions = await this.checkVersions(input.kind, input.versions ?? [], title);
    await this.sqlDb.db
      .insertInto('content_items')
      .values({
        id,
        commune_id: communeId,
        kind: input.kind,
        title,
        tags: JSON.stringify(input.tags ?? []),
        text: resolved.text,
        voice: resolved.voice,
        speed: resolved.speed,
        sha256: resolved.sha256,
        engine: resolved.engine,
        stream_url: resolved.url,
        duration_ms: resolved.durationMs,
        public: isPublic,
        versions: JSON.stringify(versions),
        created_by: createdBy,
        created_at: at,
        updated_at: at,
      })
      .execute();
    return (await this.get({ communeId }, id))!;
  }

  /**
   * Replaces an item's content; its kind cannot change. Compare-and-set on the
   * revision read first (or the one the writer saw): a delete or another change
   * that lands while the audio renders wins, and this one answers 404 or 409.
   */
  async update(scope: Scope, id: string, input: ContentInput): Promise<ContentItem> {
    const existing = await this.get(scope, id);
    if (!existing) throw notFound('id', `no content item with id ${id}`);
    const expected = input.revision ?? existing.revision;
    if (expected !== existing.revision) throw this.changedMeanwhile(existing);
    if (existing.kind !== input.kind) {
      throw badInput('kind', `an item cannot change kind (${existing.kind} → ${input.kind}); create a new one`);
    }
    const title = input.title.trim();
    if (!title) throw badInput('title', 'give the item a title');
    const r = await this.resolve(input, existing.communeId);
    const isPublic = checkPublic(existing.kind, input.public, existing.public);
    const versions =
      input.versions === undefined ? existing.versions : await this.checkVersions(existing.kind, input.versions, title);
    const result = await this.sqlDb.db
      .updateTable('content_items')
      .set({
        title,
        tags: JSON.stringify(input.tags ?? []),
        text: r.text,
        voice: r.voice,
        speed: r.speed,
        sha256: r.sha256,
        engine: r.engine,
        stream_url: r.url,
        duration_ms: r.durationMs,
        public: isPublic,
        versions: JSON.stringify(versions),
        updated_at: this.now(),
        revision: sql`revision + 1`,
      })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where('revision', '=', expected)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      const current = await this.get(scope, id);
      if (!current) throw notFound('id', `the content item ${id} was deleted meanwhile`);
      throw this.changedMeanwhile(current);
    }
    return (await this.get(scope, id))!;
  }

  /** Versions name stored files, one per language other than Vietnamese; only notices and audio have them. */
  private async checkVersions(
    kind: ContentKind,
    versions: readonly NoticeVersionInput[],
    title: string,
  ): Promise<ContentVersion[]> {
    if (versions.length && kind !== 'notice' && kind !== 'audio') {
      throw badInput('versions', `a ${kind} has no language versions`);
    }
    const seen = new Set<string>();
    const checked: ContentVersion[] = [];
    for (const [i, v] of versions.entries()) {
      const field = `versions[${i}]`;
      if (v.language === DEFAULT_LANGUAGE) throw badInput(`${field}.language`, 'the item itself is the Vietnamese');
      if (seen.has(v.language)) throw badInput(`${field}.language`, `${v.language} is given twice`);
      seen.add(v.language);
      const asset = await this.media.get(v.audio);
      if (!asset) throw badInput(`${field}.audio`, `no uploaded audio ${v.audio}`);
      checked.push({
        language: v.language,
        sha256: asset.sha256,
        durationMs: asset.durationMs,
        title: v.title?.trim() || `${title} (${languageName(v.language)})`,
        text: v.text?.trim() || null,
      });
    }
    return checked;
  }

  private changedMeanwhile(current: ContentItem): ScheduleInputError {
    return new ScheduleInputError(
      409,
      'revision',
      `the item changed meanwhile (now revision ${current.revision}, ${current.updatedAt}); reload it and try again`,
      { current },
    );
  }

  /** An item visible in `scope`; null for one of another commune, exactly as for an unknown id. */
  async get(scope: Scope, id: string, db: Kysely<Tables> = this.sqlDb.db): Promise<ContentItem | null> {
    const row = (await db
      .selectFrom('content_items')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst()) as ContentRow | undefined;
    return row ? toView(row) : null;
  }

  /** Search by words in the title, text or tags (case folded by the database's lower()); newest first. */
  async list(
    scope: Scope,
    filter: { q?: string; kind?: ContentKind; tag?: string; limit?: number } = {},
  ): Promise<ContentItem[]> {
    const { tag } = filter;
    const words = (filter.q ?? '').split(/\s+/).filter(Boolean);
    const rows = (await this.sqlDb.db
      .selectFrom('content_items')
      .selectAll()
      .where('deleted_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .$if(!!filter.kind, (q) => q.where('kind', '=', filter.kind))
      .$if(!!tag, (q) => q.where(this.hasTag(tag!)))
      .$call((q) => {
        for (const word of words) {
          const like = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
          const matches = (column: string) =>
            sql<boolean>`lower(${sql.ref(column)}) LIKE lower(CAST(${like} AS TEXT)) ESCAPE '\\'`;
          q = q.where(sql<boolean>`(${matches('title')} OR ${matches('text')} OR ${matches('tags')})`);
        }
        return q;
      })
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .limit(filter.limit ?? 200)
      .execute()) as ContentRow[];
    return rows.map(toView);
  }

  /**
   * The item's tags (a JSON array) hold exactly `tag`. Each engine's own JSON functions: a LIKE
   * over the JSON text would fold case on SQLite and could match across escaped quotes.
   */
  private hasTag(tag: string) {
    return this.sqlDb.engine === 'postgres'
      ? sql<boolean>`EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(tags AS jsonb)) AS t(value) WHERE t.value = ${tag})`
      : sql<boolean>`EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ${tag})`;
  }

  /** Soft delete; refused while a programme still uses the item. Returns the item as it was. */
  async remove(scope: Scope, id: string): Promise<ContentItem> {
    const item = await this.get(scope, id);
    if (!item) throw notFound('id', `no content item with id ${id}`);
    const user: { title: string } | undefined = await this.sqlDb.db
      .selectFrom('programme_items as pi')
      .innerJoin('programmes as p', 'p.id', 'pi.programme_id')
      .select('p.title')
      .where('pi.content_id', '=', id)
      .where('p.deleted_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    if (user) throw new ScheduleInputError(409, 'id', `the programme "${user.title}" still uses this item`);
    await this.sqlDb.db
      .updateTable('content_items')
      .set({ deleted_at: this.now(), revision: sql`revision + 1` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .execute();
    return item;
  }

  /** A stored Opus file of `ms` of silence, made once per length. */
  silenceAsset(ms: number): Promise<MediaAsset> {
    return this.generated(`silence:v1:${ms}`, 'silence', () => silence(48_000, ms));
  }

  /** The loudspeaker test tone (1 kHz, 3 s, -18 dBFS with soft edges), made once. */
  toneAsset(): Promise<MediaAsset> {
    return this.generated('tone:v1', 'tone', () => sine(48_000, 1000, TONE_MS, 0.125));
  }

  /** Audio the server makes itself, stored once under `key` and kept by the media clean-up. */
  private async generated(key: string, engine: GeneratedEngine, make: () => Pcm): Promise<MediaAsset> {
    const hit: { sha256: string } | undefined = await this.sqlDb.db
      .selectFrom('renders')
      .select('sha256')
      .where('cache_key', '=', key)
      .executeTakeFirst();
    const stored = hit ? await this.media.get(hit.sha256) : null;
    if (stored) return stored;
    const temp = this.media.tempPath('ogg');
    try {
      const pcm = make();
      await encodeWavToOpus(encodeWav(pcm), temp);
      const asset = await this.media.adopt(temp, 'ogg', pcmDurationMs(pcm));
      await this.sqlDb.db
        .insertInto('renders')
        .values({ cache_key: key, sha256: asset.sha256, engine, created_at: this.now() })
        .onConflict((oc) => oc.column('cache_key').doUpdateSet((eb) => ({ sha256: eb.ref('excluded.sha256') })))
        .execute();
      return asset;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
}
