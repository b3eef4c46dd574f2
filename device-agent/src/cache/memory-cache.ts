import type { FileAsset } from '@loaxa/protocol';
import type { AssetCache, CachedAsset } from './cache';

/**
 * Cache for simulated nodes and tests. With `keepBytes: false` it remembers only
 * which hashes were verified, so thousands of simulated nodes do not each hold
 * a copy of every notice in memory.
 */
export class MemoryCache implements AssetCache {
  private readonly entries = new Map<string, { bytes: number; data?: Uint8Array }>();
  private readonly keepBytes: boolean;

  constructor(options: { keepBytes?: boolean } = {}) {
    this.keepBytes = options.keepBytes ?? true;
  }

  async lookup(asset: FileAsset): Promise<CachedAsset | null> {
    const entry = this.entries.get(asset.sha256);
    return entry ? { sha256: asset.sha256, bytes: entry.bytes } : null;
  }

  async store(asset: FileAsset, bytes: Uint8Array): Promise<CachedAsset> {
    this.entries.set(
      asset.sha256,
      this.keepBytes ? { bytes: bytes.byteLength, data: bytes } : { bytes: bytes.byteLength },
    );
    return { sha256: asset.sha256, bytes: bytes.byteLength };
  }

  /** The stored bytes, when kept. */
  read(sha256: string): Uint8Array | undefined {
    return this.entries.get(sha256)?.data;
  }

  async sizeBytes(): Promise<number> {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    return total;
  }
}
