import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileAsset } from '@loaxa/protocol';
import { FileCache } from './file-cache';

let dataDir: string;
let now = 1_000;
const clock = { now: () => now };

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'loaxa-cache-'));
  now = 1_000;
});
/** The caches a test made: their index writes finish before the folder goes (else rm races them). */
const made: FileCache[] = [];
function cacheOf(...args: ConstructorParameters<typeof FileCache>): FileCache {
  const cache = new FileCache(...args);
  made.push(cache);
  return cache;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((cache) => cache.flush()));
  await rm(dataDir, { recursive: true, force: true });
});

function audio(size = 100): { asset: FileAsset; bytes: Buffer } {
  const bytes = randomBytes(size);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, asset: { sha256, url: `/media/${sha256}.ogg`, bytes: size, durationMs: 100, format: 'ogg' } };
}

describe('FileCache', () => {
  it('keeps its index (bytes, format, last use) across a restart', async () => {
    const a = audio();
    const b = audio(50);
    const first = cacheOf(dataDir, { clock });
    await first.store(a.asset, a.bytes);
    now = 2_000;
    await first.store(b.asset, b.bytes);
    now = 3_000;
    await first.lookup(a.asset);
    await first.flush();

    const second = cacheOf(dataDir, { clock });
    expect(await second.entries()).toEqual({
      [a.asset.sha256]: { bytes: 100, format: 'ogg', lastUsed: 3_000 },
      [b.asset.sha256]: { bytes: 50, format: 'ogg', lastUsed: 2_000 },
    });
    expect(await second.lookup(b.asset)).toMatchObject({ bytes: 50, path: second.pathFor(b.asset) });
    expect(await second.sizeBytes()).toBe(150);
  });

  it('drops on load a file whose bytes no longer match its hash, and old temp files', async () => {
    const a = audio();
    const b = audio();
    const first = cacheOf(dataDir, { clock });
    await first.store(a.asset, a.bytes);
    await first.store(b.asset, b.bytes);
    const damaged = Buffer.from(a.bytes);
    damaged[10] = damaged[10]! ^ 0xff;
    await writeFile(first.pathFor(a.asset), damaged);
    await writeFile(join(first.dir, `${b.asset.sha256}.ogg.1234.abc.part`), 'left by an old agent');

    const second = cacheOf(dataDir, { clock });
    expect(await second.lookup(a.asset)).toBeNull();
    expect(await second.lookup(b.asset)).not.toBeNull();
    expect(await readdir(second.dir)).toEqual([`${b.asset.sha256}.ogg`]);
  });

  it('evicts the least recently used file over budget, never one still needed', async () => {
    const [a, b, c, d] = [audio(), audio(), audio(), audio()];
    const needed = new Set<string>([a!.asset.sha256]);
    const cache = cacheOf(dataDir, { clock, budgetBytes: 250, needed: () => needed });
    now = 1;
    await cache.store(a!.asset, a!.bytes);
    now = 2;
    await cache.store(b!.asset, b!.bytes);
    now = 3;
    await cache.store(c!.asset, c!.bytes); // 300 > 250: b is the oldest that may go (a is planned)
    expect(Object.keys(await cache.entries()).sort()).toEqual([a!.asset.sha256, c!.asset.sha256].sort());
    expect(await cache.lookup(b!.asset)).toBeNull();

    // Everything needed: over budget, but nothing the plan wants is deleted.
    needed.add(c!.asset.sha256);
    now = 4;
    await cache.store(d!.asset, d!.bytes);
    expect(await cache.sizeBytes()).toBe(300);
    expect((await readdir(cache.dir)).sort()).toEqual(
      [a!.asset.sha256, c!.asset.sha256, d!.asset.sha256].map((s) => `${s}.ogg`).sort(),
    );
  });
});
