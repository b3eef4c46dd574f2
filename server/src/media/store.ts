/**
 * Content-addressed media store: files live under their sha256, written to a
 * temporary name and renamed, so a crash never leaves a half file under a real hash.
 *
 * On PostgreSQL several server instances share the database but not a disk
 * (issue 18): every file is also stored in the database (media_blobs, 1 MB
 * chunks, in the transaction that records it), and an instance asked for a
 * file it does not hold copies it from there once, checked against its hash,
 * into its own directory. The directory is then a cache of the database; a
 * loudspeaker may download from any instance. On SQLite the directory is the store.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Expression, type SqlBool } from 'kysely';
import type { SqlDb } from '../db/sql';
import { DEFAULT_BITRATE_KBPS, encodeAudio, storedMediaInputOptions } from '../audio/encode';

export type MediaFormat = 'ogg' | 'mp3';

export interface MediaAsset {
  sha256: string;
  format: MediaFormat;
  bytes: number;
  durationMs: number;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;

/** How long a file handed to a commune (its preview, its upload) stays fetchable by it without a reference. */
const GRANT_MS = 6 * 3600_000;
/** Grants remembered at most; the oldest go first (a preview is listened to within minutes). */
const MAX_GRANTS = 10_000;

/**
 * The files a commune uses (`communeId`), or any commune (null): its notices (content items, and
 * their language versions' files), its broadcasts (an occurrence's audio, or any file of a
 * programme's assets), the bulletins sent to it. Media is shared by hash, so one file can be
 * several communes'. The JSON columns (versions, assets) are searched as text for the hash
 * (SQLite's instr has no PostgreSQL twin; LIKE, its wildcards escaped, means the same on both).
 */
function usedBy(communeId: string | null, sha256: string): Expression<SqlBool> {
  const inJson = `%${sha256.replace(/[\\%_]/g, '\\$&')}%`;
  if (communeId === null) {
    return sql<SqlBool>`EXISTS (SELECT 1 FROM content_items c WHERE c.sha256 = ${sha256} OR c.versions LIKE ${inJson} ESCAPE '\\')
      OR EXISTS (SELECT 1 FROM occurrences o WHERE o.sha256 = ${sha256})
      OR EXISTS (SELECT 1 FROM occurrences o WHERE o.assets IS NOT NULL AND o.assets LIKE ${inJson} ESCAPE '\\')
      OR EXISTS (SELECT 1 FROM bulletins b WHERE b.sha256 = ${sha256})`;
  }
  return sql<SqlBool>`EXISTS (SELECT 1 FROM content_items c
        WHERE c.commune_id = ${communeId} AND (c.sha256 = ${sha256} OR c.versions LIKE ${inJson} ESCAPE '\\'))
    OR EXISTS (SELECT 1 FROM occurrences o WHERE o.commune_id = ${communeId} AND o.sha256 = ${sha256})
    OR EXISTS (SELECT 1 FROM occurrences o
        WHERE o.commune_id = ${communeId} AND o.assets IS NOT NULL AND o.assets LIKE ${inJson} ESCAPE '\\')
    OR EXISTS (SELECT 1 FROM bulletin_communes bc JOIN bulletins b ON b.id = bc.bulletin_id
        WHERE bc.commune_id = ${communeId} AND b.sha256 = ${sha256})`;
}

/** Bytes per media_blobs row: a 50 MB upload is 50 rows, none held in memory whole. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** Hashes per `IN (…)` list: well under either engine's limit on parameters. */
const IN_LIST_MAX = 500;

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class MediaStore {
  readonly root: string;
  private readonly tmpDir: string;
  /** MP3 renditions being made, by source sha256: concurrent callers share one ffmpeg run. */
  private readonly makingMp3 = new Map<string, Promise<MediaAsset>>();
  /** `${commune} ${sha256}` → until when: files handed to a commune before anything of it refers to them. */
  private readonly grants = new Map<string, number>();
  /** Files being copied from the database (PostgreSQL), by sha256: concurrent callers share one copy. */
  private readonly copying = new Map<string, Promise<boolean>>();

  constructor(
    dataDir: string,
    private readonly sqlDb: SqlDb,
  ) {
    this.root = path.join(dataDir, 'media');
    this.tmpDir = path.join(this.root, 'tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true });
  }

  /** A fresh temporary path inside the store (same file system, so rename is atomic). */
  tempPath(ext: string): string {
    return path.join(this.tmpDir, `${Date.now()}-${crypto.randomBytes(6).toString('hex')}.${ext}`);
  }

  /** Relative path (under root) of a stored file; sharded by the first two hex digits. */
  relativePath(sha256: string, format: MediaFormat): string {
    if (!SHA256_RE.test(sha256)) throw new Error(`invalid sha256 ${JSON.stringify(sha256)}`);
    return path.join(sha256.slice(0, 2), `${sha256}.${format}`);
  }

  /** Moves a finished temp file into the store under its hash and records it. */
  async adopt(tempFile: string, format: MediaFormat, durationMs: number): Promise<MediaAsset> {
    const sha256 = await sha256File(tempFile);
    const bytes = (await fs.promises.stat(tempFile)).size;
    const finalPath = path.join(this.root, this.relativePath(sha256, format));
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
    const handle = await fs.promises.open(tempFile, 'r');
    await handle.sync();
    await handle.close();
    await fs.promises.rename(tempFile, finalPath);
    const row = { sha256, format, bytes, duration_ms: durationMs, created_at: Date.now() };
    if (this.sqlDb.engine !== 'postgres') {
      await this.sqlDb.db
        .insertInto('media')
        .values(row)
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      return { sha256, format, bytes, durationMs };
    }
    // The row and its bytes together: another instance never sees a file it cannot fetch. (File
    // reads inside the transaction are fine here: on PostgreSQL it has a connection of its own.)
    await this.sqlDb.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('media')
        .values(row)
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      const held = await tx.selectFrom('media_blobs').select('seq').where('sha256', '=', sha256).limit(1).execute();
      if (held.length > 0) return;
      let seq = 0;
      for await (const chunk of fs.createReadStream(finalPath, { highWaterMark: BLOB_CHUNK_BYTES })) {
        await tx
          .insertInto('media_blobs')
          .values({ sha256, seq: seq++, data: chunk as Buffer })
          .execute();
      }
    });
    return { sha256, format, bytes, durationMs };
  }

  async get(sha256: string): Promise<MediaAsset | null> {
    const row: { sha256: string; format: MediaFormat; bytes: number; duration_ms: number } | undefined =
      await this.sqlDb.db
        .selectFrom('media')
        .select(['sha256', 'format', 'bytes', 'duration_ms'])
        .where('sha256', '=', sha256)
        .executeTakeFirst();
    if (!row) return null;
    const asset: MediaAsset = { sha256: row.sha256, format: row.format, bytes: row.bytes, durationMs: row.duration_ms };
    if (fs.existsSync(path.join(this.root, this.relativePath(row.sha256, row.format)))) return asset;
    if (this.sqlDb.engine !== 'postgres') return null;
    return (await this.copyFromDatabase(asset)) ? asset : null;
  }

  /** Copies a file another instance stored into this one's directory; false when the database has none that checks out. */
  private copyFromDatabase(asset: MediaAsset): Promise<boolean> {
    let copy = this.copying.get(asset.sha256);
    if (!copy) {
      copy = this.copyChunks(asset).finally(() => this.copying.delete(asset.sha256));
      this.copying.set(asset.sha256, copy);
    }
    return copy;
  }

  private async copyChunks(asset: MediaAsset): Promise<boolean> {
    const temp = this.tempPath(asset.format);
    const hash = crypto.createHash('sha256');
    let size = 0;
    const out = await fs.promises.open(temp, 'w');
    try {
      // One chunk at a time, in order: a file of any size, 1 MB in memory.
      for (let seq = 0; ; seq++) {
        const chunk: { data: Buffer } | undefined = await this.sqlDb.db
          .selectFrom('media_blobs')
          .select('data')
          .where('sha256', '=', asset.sha256)
          .where('seq', '=', seq)
          .executeTakeFirst();
        if (!chunk) break;
        hash.update(chunk.data);
        size += chunk.data.byteLength;
        await out.write(chunk.data);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    if (size === 0 || size !== asset.bytes || hash.digest('hex') !== asset.sha256) {
      // Nothing there (a file stored before the database kept them), or not the file its hash names.
      await fs.promises.rm(temp, { force: true });
      return false;
    }
    const finalPath = path.join(this.root, this.relativePath(asset.sha256, asset.format));
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
    await fs.promises.rename(temp, finalPath);
    return true;
  }

  /** The stored file's bytes when it is at most `maxBytes` long, else null (too big to carry inline). */
  async readSmall(asset: MediaAsset, maxBytes: number): Promise<Buffer | null> {
    if (asset.bytes > maxBytes) return null;
    const bytes = await fs.promises.readFile(path.join(this.root, this.relativePath(asset.sha256, asset.format)));
    return bytes.byteLength <= maxBytes ? bytes : null;
  }

  /** The MP3 rendition of a stored file if one has been made: a database lookup, no ffmpeg. */
  async mp3RenditionOf(sourceSha256: string): Promise<MediaAsset | null> {
    return (await this.mp3RenditionsOf([sourceSha256])).get(sourceSha256) ?? null;
  }

  /** The MP3 renditions made of any of `sourceSha256s`, by source: one query per few hundred files. */
  async mp3RenditionsOf(sourceSha256s: Iterable<string>): Promise<Map<string, MediaAsset>> {
    const sources = [...new Set(sourceSha256s)];
    const found = new Map<string, MediaAsset>();
    for (let i = 0; i < sources.length; i += IN_LIST_MAX) {
      const rows: { source_sha256: string; sha256: string; format: MediaFormat; bytes: number; duration_ms: number }[] =
        await this.sqlDb.db
          .selectFrom('media_renditions as r')
          .innerJoin('media as m', 'm.sha256', 'r.sha256')
          .select(['r.source_sha256', 'm.sha256', 'm.format', 'm.bytes', 'm.duration_ms'])
          .where('r.source_sha256', 'in', sources.slice(i, i + IN_LIST_MAX))
          .where('r.format', '=', 'mp3')
          .execute();
      for (const r of rows) {
        found.set(r.source_sha256, { sha256: r.sha256, format: r.format, bytes: r.bytes, durationMs: r.duration_ms });
      }
    }
    return found;
  }

  /**
   * The same audio as MP3, for devices that ask for it: made once from the
   * stored file (mono 48 kHz at DEFAULT_BITRATE_KBPS.mp3), stored like any
   * media and recorded as the source's rendition. An MP3 source is its own.
   */
  async mp3Rendition(source: MediaAsset): Promise<MediaAsset> {
    if (source.format === 'mp3') return source;
    const made = await this.mp3RenditionOf(source.sha256);
    if (made && (await this.get(made.sha256))) return made;
    let making = this.makingMp3.get(source.sha256);
    if (!making) {
      making = this.makeMp3(source).finally(() => this.makingMp3.delete(source.sha256));
      this.makingMp3.set(source.sha256, making);
    }
    return making;
  }

  private async makeMp3(source: MediaAsset): Promise<MediaAsset> {
    const temp = this.tempPath('mp3');
    try {
      await encodeAudio(path.join(this.root, this.relativePath(source.sha256, source.format)), temp, {
        format: 'mp3',
        bitrateKbps: DEFAULT_BITRATE_KBPS.mp3,
        // An Ogg source is Opus, decoded by libopus (see storedMediaInputOptions).
        inputOptions: storedMediaInputOptions(source.format),
      });
      const mp3 = await this.adopt(temp, 'mp3', source.durationMs);
      await this.sqlDb.db
        .insertInto('media_renditions')
        .values({ source_sha256: source.sha256, format: 'mp3', sha256: mp3.sha256, created_at: Date.now() })
        .onConflict((oc) =>
          oc.columns(['source_sha256', 'format']).doUpdateSet((eb) => ({
            sha256: eb.ref('excluded.sha256'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute();
      return mp3;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  /**
   * Whether a commune's users may download a stored file: one the commune uses
   * (see usedBy), or the MP3 rendition of one; one handed to it
   * (grant: its own preview or upload); or one nothing refers to yet — a fresh
   * preview or upload, whose hash only its author was told. Any other file is
   * another commune's, and answered as unknown.
   */
  async visibleTo(communeId: string, sha256: string, now = Date.now()): Promise<boolean> {
    if (this.granted(communeId, sha256, now)) return true;
    const source = await this.renditionSource(sha256);
    const shas = source ? [sha256, source] : [sha256];
    if (source !== null && this.granted(communeId, source, now)) return true;
    // One query per file (the file, then its source): used by the commune, used by anyone.
    let usedByAny = false;
    for (const sha of shas) {
      const row: { commune: number; any_use: number } = await this.sqlDb.db
        .selectNoFrom([
          sql<number>`CASE WHEN ${usedBy(communeId, sha)} THEN 1 ELSE 0 END`.as('commune'),
          sql<number>`CASE WHEN ${usedBy(null, sha)} THEN 1 ELSE 0 END`.as('any_use'),
        ])
        .executeTakeFirstOrThrow();
      if (row.commune === 1) return true;
      usedByAny ||= row.any_use === 1;
    }
    return !usedByAny;
  }

  /**
   * Lets a commune's users download a file for a while though none of its
   * notices or broadcasts refers to it yet: a preview or upload they just made
   * (the same audio may already be another commune's). Null (province): no-op.
   */
  grant(communeId: string | null, sha256: string, now = Date.now()): void {
    if (communeId === null) return;
    const key = `${communeId} ${sha256}`;
    this.grants.delete(key); // re-inserted last: the Map's order is the eviction order
    this.grants.set(key, now + GRANT_MS);
    for (const oldest of this.grants.keys()) {
      if (this.grants.size <= MAX_GRANTS) break;
      this.grants.delete(oldest);
    }
  }

  private granted(communeId: string, sha256: string, now: number): boolean {
    const until = this.grants.get(`${communeId} ${sha256}`);
    return until !== undefined && until > now;
  }

  /** The file an MP3 rendition was made from (null: not a rendition). */
  private async renditionSource(sha256: string): Promise<string | null> {
    const row: { source_sha256: string } | undefined = await this.sqlDb.db
      .selectFrom('media_renditions')
      .select('source_sha256')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row?.source_sha256 ?? null;
  }

  /** Removes temp files left by a crash mid-write. */
  cleanTemp(): void {
    for (const f of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, f), { force: true });
  }
}
