import { deviceAuthorizationHeader, type Asset } from '@loaxa/protocol';
import { sha256Hex, type AssetCache, type CachedAsset } from '../cache/cache';

export interface DownloaderOptions {
  serverUrl: string;
  deviceId: string;
  secret: string;
  cache: AssetCache;
  /** Per-request limit; a stalled 4G transfer must not hold an item forever. */
  timeoutMs?: number;
}

export class DownloadError extends Error {
  override name = 'DownloadError';
}

/**
 * Fetches assets over HTTP with the device's credentials, checks their sha256
 * and files them in the cache. Concurrent requests for one hash share a transfer
 * (a plan often repeats the same chime or notice).
 */
export class Downloader {
  private readonly inflight = new Map<string, Promise<CachedAsset>>();
  private readonly base: URL;
  private readonly authorization: string;

  constructor(private readonly options: DownloaderOptions) {
    this.base = new URL(options.serverUrl);
    this.authorization = deviceAuthorizationHeader(options.deviceId, options.secret);
  }

  async fetchAll(assets: readonly Asset[], signal?: AbortSignal): Promise<CachedAsset[]> {
    const result: CachedAsset[] = [];
    for (const asset of assets) result.push(await this.fetchAsset(asset, signal));
    return result;
  }

  async fetchAsset(asset: Asset, signal?: AbortSignal): Promise<CachedAsset> {
    signal?.throwIfAborted();
    const cached = await this.options.cache.lookup(asset);
    if (cached) return cached;
    let transfer = this.inflight.get(asset.sha256);
    if (!transfer) {
      transfer = this.transfer(asset).finally(() => this.inflight.delete(asset.sha256));
      this.inflight.set(asset.sha256, transfer);
    }
    if (!signal) return transfer;
    // The shared transfer keeps going for other waiters; this caller just stops waiting.
    return Promise.race([
      transfer,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  }

  private async transfer(asset: Asset): Promise<CachedAsset> {
    const url = new URL(asset.url, this.base);
    const headers: Record<string, string> = {};
    // Credentials go only to our own server, never to a host named in a payload.
    if (url.origin === this.base.origin) headers.authorization = this.authorization;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000) });
    } catch (err) {
      throw new DownloadError(`download of ${url.pathname} failed: ${describe(err)}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DownloadError(`download of ${url.pathname} failed: HTTP ${response.status}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw new DownloadError(`download of ${url.pathname} failed: ${describe(err)}`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== asset.sha256) {
      throw new DownloadError(
        `sha256 mismatch for ${url.pathname}: expected ${asset.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}… (${bytes.byteLength} bytes)`,
      );
    }
    return this.options.cache.store(asset, bytes);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
