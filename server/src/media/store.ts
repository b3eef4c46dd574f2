/**
 * Content-addressed media store: files live under their sha256, written to a
 * temporary name and renamed, so a crash never leaves a half file under a real hash.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/database';
import { DEFAULT_BITRATE_KBPS, encodeAudio } from '../audio/encode';

export type MediaFormat = 'ogg' | 'mp3';

export interface MediaAsset {
  sha256: string;
  format: MediaFormat;
  bytes: number;
  durationMs: number;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;

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

  /** Removes temp files left by a crash mid-write. */
  cleanTemp(): void {
    for (const f of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, f), { force: true });
  }
}
