/**
 * Content-addressed media store: files live under their sha256, written to a
 * temporary name and renamed, so a crash never leaves a half file under a real hash.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/database';
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
 * The files a commune uses: its notices (content items), its broadcasts (an
 * occurrence's audio, or any file of a programme's assets), the bulletins
 * sent to it. Media is shared by hash, so one file can be several communes'.
 */
const USED_BY_COMMUNE = `
  EXISTS (SELECT 1 FROM content_items c
          WHERE c.commune_id = :commune AND (c.sha256 = :sha OR instr(c.versions, :sha) > 0))
  OR EXISTS (SELECT 1 FROM occurrences o WHERE o.commune_id = :commune AND o.sha256 = :sha)
  OR EXISTS (SELECT 1 FROM occurrences o
             WHERE o.commune_id = :commune AND o.assets IS NOT NULL AND instr(o.assets, :sha) > 0)
  OR EXISTS (SELECT 1 FROM bulletin_communes bc JOIN bulletins b ON b.id = bc.bulletin_id
             WHERE bc.commune_id = :commune AND b.sha256 = :sha)`;

/** The same, for any commune: does anything refer to the file at all? */
const USED_BY_ANY = `
  EXISTS (SELECT 1 FROM content_items c WHERE c.sha256 = :sha OR instr(c.versions, :sha) > 0)
  OR EXISTS (SELECT 1 FROM occurrences o WHERE o.sha256 = :sha)
  OR EXISTS (SELECT 1 FROM occurrences o WHERE o.assets IS NOT NULL AND instr(o.assets, :sha) > 0)
  OR EXISTS (SELECT 1 FROM bulletins b WHERE b.sha256 = :sha)`;

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

  constructor(
    dataDir: string,
    private readonly db: Db,
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
    this.db
      .prepare(
        `INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(sha256) DO NOTHING`,
      )
      .run(sha256, format, bytes, durationMs, Date.now());
    return { sha256, format, bytes, durationMs };
  }

  get(sha256: string): MediaAsset | null {
    const row = this.db
      .prepare('SELECT sha256, format, bytes, duration_ms AS durationMs FROM media WHERE sha256 = ?')
      .get(sha256) as MediaAsset | undefined;
    if (!row) return null;
    return fs.existsSync(path.join(this.root, this.relativePath(row.sha256, row.format))) ? row : null;
  }

  /** The stored file's bytes when it is at most `maxBytes` long, else null (too big to carry inline). */
  async readSmall(asset: MediaAsset, maxBytes: number): Promise<Buffer | null> {
    if (asset.bytes > maxBytes) return null;
    const bytes = await fs.promises.readFile(path.join(this.root, this.relativePath(asset.sha256, asset.format)));
    return bytes.byteLength <= maxBytes ? bytes : null;
  }

  /** The MP3 rendition of a stored file if one has been made: a database lookup, no ffmpeg. */
  mp3RenditionOf(sourceSha256: string): MediaAsset | null {
    const row = this.db
      .prepare(
        `SELECT m.sha256, m.format, m.bytes, m.duration_ms AS durationMs
         FROM media_renditions r JOIN media m ON m.sha256 = r.sha256
         WHERE r.source_sha256 = ? AND r.format = 'mp3'`,
      )
      .get(sourceSha256) as MediaAsset | undefined;
    return row ?? null;
  }

  /**
   * The same audio as MP3, for devices that ask for it: made once from the
   * stored file (mono 48 kHz at DEFAULT_BITRATE_KBPS.mp3), stored like any
   * media and recorded as the source's rendition. An MP3 source is its own.
   */
  async mp3Rendition(source: MediaAsset): Promise<MediaAsset> {
    if (source.format === 'mp3') return source;
    const made = this.mp3RenditionOf(source.sha256);
    if (made && this.get(made.sha256)) return made;
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
      this.db
        .prepare(
          `INSERT INTO media_renditions (source_sha256, format, sha256, created_at) VALUES (?, 'mp3', ?, ?)
           ON CONFLICT(source_sha256, format) DO UPDATE SET sha256 = excluded.sha256, created_at = excluded.created_at`,
        )
        .run(source.sha256, mp3.sha256, Date.now());
      return mp3;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  /**
   * Whether a commune's users may download a stored file: one the commune uses
   * (see USED_BY_COMMUNE), or the MP3 rendition of one; one handed to it
   * (grant: its own preview or upload); or one nothing refers to yet — a fresh
   * preview or upload, whose hash only its author was told. Any other file is
   * another commune's, and answered as unknown.
   */
  visibleTo(communeId: string, sha256: string, now = Date.now()): boolean {
    const source = this.renditionSource(sha256);
    const shas = source ? [sha256, source] : [sha256];
    if (shas.some((sha) => this.granted(communeId, sha, now))) return true;
    // One of two constant statements (cached by text), asked of the file and of its source.
    const used = (sql: string, params: Record<string, string>) =>
      shas.some(
        (sha) => (this.db.prepare(`SELECT ${sql} AS yes`).get({ ...params, sha }) as { yes: number }).yes === 1,
      );
    return used(USED_BY_COMMUNE, { commune: communeId }) || !used(USED_BY_ANY, {});
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
  private renditionSource(sha256: string): string | null {
    const row = this.db.prepare('SELECT source_sha256 FROM media_renditions WHERE sha256 = ?').get(sha256) as
      { source_sha256: string } | undefined;
    return row?.source_sha256 ?? null;
  }

  /** Removes temp files left by a crash mid-write. */
  cleanTemp(): void {
    for (const f of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, f), { force: true });
  }
}
