import { createHash } from 'node:crypto';
import type { Asset } from '@loaxa/protocol';

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
  lookup(asset: Asset): Promise<CachedAsset | null>;
  /** Stores bytes the caller has already verified against asset.sha256. */
  store(asset: Asset, bytes: Uint8Array): Promise<CachedAsset>;
  sizeBytes(): Promise<number>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
