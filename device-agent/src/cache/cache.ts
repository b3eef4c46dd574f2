import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileAsset } from '@loaxa/protocol';

/** A verified asset held by a cache. `path` is set by caches that keep files a child player can open. */
export interface CachedAsset {
  sha256: string;
  bytes: number;
  path?: string;
}

/**
 * Content-addressed store of downloaded audio. A lookup only succeeds for bytes
 * whose sha256 matches, so a half-written or corrupted file never plays.
 */
export interface AssetCache {
  lookup(asset: FileAsset): Promise<CachedAsset | null>;
  /** Stores bytes the caller has already verified against asset.sha256. */
  store(asset: FileAsset, bytes: Uint8Array): Promise<CachedAsset>;
  sizeBytes(): Promise<number>;
  /**
   * Where a resumable download of this asset keeps its bytes so far. Caches
   * without files leave it out; the downloader then fetches into memory.
   */
  partialPath?(asset: FileAsset): Promise<string>;
  /** Files the partial download, already verified against asset.sha256, as the cached asset. */
  commitPartial?(asset: FileAsset, path: string): Promise<CachedAsset>;
}

/** One shot: no Hash object per call (each emergency hashes its audio once per loudspeaker). */
export function sha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

/** sha256 of a file, read as a stream so a long recording does not sit in memory. */
export async function sha256File(path: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}
