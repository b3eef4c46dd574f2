import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileAsset } from '@loaxa/protocol';
import { systemClock, type Clock } from '../clock/clock';
import { silentLogger, type Logger } from '../logger';
import { StateStore, syncDir } from '../state/state-store';
import { sha256File, type AssetCache, type CachedAsset } from './cache';
import { planEviction } from './eviction';

export const DEFAULT_CACHE_BUDGET_BYTES = 512 * 1024 * 1024;
const PART_SUFFIX = '.part';
const CACHED_NAME = /^([0-9a-f]{64})\.(ogg|mp3)$/;
const PART_NAME = /^[0-9a-f]{64}\.part$/;
/** A partial download untouched this long belongs to an asset no plan wants any more. */
const STALE_PART_MS = 2 * 86_400_000;
const INDEX = 'cache-index';

export interface CacheIndexEntry {
  bytes: number;
  format: FileAsset['format'];
  /** Device-clock ms of the last store or lookup, for least-recently-used eviction. */
  lastUsed: number;
}
export type CacheIndex = Record<string, CacheIndexEntry>;

export interface FileCacheOptions {
  /** Disk the cached audio may take; least recently used files go first. */
  budgetBytes?: number;
  /** Where the index is kept; defaults to `<dataDir>/state`. */
  store?: StateStore;
  /** Hashes that must stay: the current plan's assets and whatever is playing. */
  needed?: () => Iterable<string>;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Files under `<dataDir>/cache/<sha256>.<format>` with a durable index
 * (sha → bytes, format, last use). Downloads grow `<sha256>.part` and are
 * renamed into place only after their hash is checked, so power loss leaves
 * either the whole verified file or a partial one to resume. On open every
 * file is re-hashed: one that no longer matches its name is dropped.
 */
export class FileCache implements AssetCache {
  readonly dir: string;
  readonly budgetBytes: number;
  private readonly index = new Map<string, CacheIndexEntry>();
  private readonly state: StateStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private opening: Promise<void> | undefined;

  constructor(
    dataDir: string,
    private readonly options: FileCacheOptions = {},
  ) {
    this.dir = join(dataDir, 'cache');
    this.budgetBytes = options.budgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES;
    this.state = options.store ?? new StateStore(join(dataDir, 'state'), options.logger);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
  }

  /** Loads and checks the index; every other method waits for it. */
  open(): Promise<void> {
    this.opening ??= this.load();
    return this.opening;
  }

  pathFor(asset: Pick<FileAsset, 'sha256' | 'format'>): string {
    return join(this.dir, `${asset.sha256}.${asset.format}`);
  }

  /** A snapshot of the index (for telemetry and tests). */
  async entries(): Promise<CacheIndex> {
    await this.open();
    return Object.fromEntries(this.index);
  }

  async lookup(asset: FileAsset): Promise<CachedAsset | null> {
    await this.open();
    const entry = this.index.get(asset.sha256);
    if (!entry) return null;
    const path = this.pathFor({ sha256: asset.sha256, format: entry.format });
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== entry.bytes) {
      // Removed or truncated behind our back: forget it so it is fetched again.
      this.index.delete(asset.sha256);
      await rm(path, { force: true });
      this.saveInBackground();
      return null;
    }
    entry.lastUsed = this.clock.now();
    this.saveInBackground();
    return { sha256: asset.sha256, bytes: entry.bytes, path };
  }

  async store(asset: FileAsset, bytes: Uint8Array): Promise<CachedAsset> {
    const part = await this.partialPath(asset);
    const handle = await open(part, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return this.commitPartial(asset, part);
  }

  async partialPath(asset: FileAsset): Promise<string> {
    await this.open();
    return join(this.dir, `${asset.sha256}${PART_SUFFIX}`);
  }

  async commitPartial(asset: FileAsset, path: string): Promise<CachedAsset> {
    await this.open();
    const final = this.pathFor(asset);
    const bytes = (await stat(path)).size;
    await rename(path, final);
    await syncDir(this.dir);
    this.index.set(asset.sha256, { bytes, format: asset.format, lastUsed: this.clock.now() });
    await this.evict(asset.sha256);
    await this.save();
    return { sha256: asset.sha256, bytes, path: final };
  }

  /** Resolves when index updates made so far (lookups save in the background) are on disk. */
  async flush(): Promise<void> {
    await this.state.idle();
  }

  async sizeBytes(): Promise<number> {
    await this.open();
    let total = 0;
    for (const entry of this.index.values()) total += entry.bytes;
    return total;
  }

  private async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const saved = (await this.state.read<CacheIndex>(INDEX)) ?? {};
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) continue;
      if (name.endsWith(PART_SUFFIX)) {
        // `<sha>.part` is a download to resume; anything else (old temp files) or a stale one goes.
        if (!PART_NAME.test(name) || now - info.mtimeMs > STALE_PART_MS) await rm(path, { force: true });
        continue;
      }
      const match = CACHED_NAME.exec(name);
      if (!match) continue;
      const sha256 = match[1]!;
      const format = match[2] as FileAsset['format'];
      if ((await sha256File(path)) !== sha256) {
        this.logger.warn({ sha256, path }, 'cached file no longer matches its hash; dropped');
        await rm(path, { force: true });
        continue;
      }
      const lastUsed = saved[sha256]?.lastUsed;
      this.index.set(sha256, {
        bytes: info.size,
        format,
        lastUsed: typeof lastUsed === 'number' ? lastUsed : info.mtimeMs,
      });
    }
    await this.evict();
    await this.save();
  }

  /** Deletes least-recently-used files until the budget is met, keeping every needed one. */
  private async evict(justStored?: string): Promise<void> {
    const needed = new Set(this.options.needed?.() ?? []);
    if (justStored) needed.add(justStored); // about to be played: never the victim of its own arrival
    const entries = [...this.index].map(([sha256, e]) => ({ sha256, bytes: e.bytes, lastUsed: e.lastUsed }));
    const plan = planEviction(entries, this.budgetBytes, needed);
    for (const sha256 of plan.evict) {
      const entry = this.index.get(sha256)!;
      this.index.delete(sha256);
      await rm(this.pathFor({ sha256, format: entry.format }), { force: true });
      this.logger.info({ sha256, bytes: entry.bytes }, 'evicted from the audio cache');
    }
    if (plan.overBudget) {
      this.logger.warn(
        { keptBytes: plan.keptBytes, budgetBytes: this.budgetBytes },
        'audio cache over budget: every file left is needed by the plan or playing',
      );
    }
  }

  private save(): Promise<void> {
    return this.state.write(INDEX, Object.fromEntries(this.index));
  }

  private saveInBackground(): void {
    this.save().catch((err: unknown) => this.logger.warn({ err }, 'cache index not saved'));
  }
}
