import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Asset } from '@loaxa/protocol';
import { sha256Hex, type AssetCache, type CachedAsset } from './cache';

const TEMP_SUFFIX = '.part';

/**
 * Files under `<dataDir>/cache/<sha256>.<format>`. Writes go to a temp file,
 * fsync, then rename, so power loss leaves either the whole file or none.
 */
export class FileCache implements AssetCache {
  readonly dir: string;
  /** Hashes checked in this process; a file is re-read and re-hashed at most once per run. */
  private readonly verified = new Set<string>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'cache');
  }

  pathFor(asset: Pick<Asset, 'sha256' | 'format'>): string {
    return join(this.dir, `${asset.sha256}.${asset.format}`);
  }

  async lookup(asset: Asset): Promise<CachedAsset | null> {
    const path = this.pathFor(asset);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      this.verified.delete(path);
      return null;
    }
    if (!this.verified.has(path)) {
      if (sha256Hex(await readFile(path)) !== asset.sha256) {
        // A file that no longer matches its name is worthless; drop it so it is fetched again.
        await rm(path, { force: true });
        return null;
      }
      this.verified.add(path);
    }
    return { sha256: asset.sha256, bytes: size, path };
  }

  async store(asset: Asset, bytes: Uint8Array): Promise<CachedAsset> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathFor(asset);
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}${TEMP_SUFFIX}`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    this.verified.add(path);
    return { sha256: asset.sha256, bytes: bytes.byteLength, path };
  }

  async sizeBytes(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let total = 0;
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) continue;
      try {
        total += (await stat(join(this.dir, name))).size;
      } catch {
        // Removed between readdir and stat: nothing to count.
      }
    }
    return total;
  }
}
