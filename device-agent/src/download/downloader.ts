import { open, rm, stat } from 'node:fs/promises';
import { attachedBytes, deviceAuthorizationHeader, type FileAsset } from '@loaxa/protocol';
import { sha256File, sha256Hex, type AssetCache, type CachedAsset } from '../cache/cache';
import { httpGet, type HttpGetResponse } from '../link/http-get';

export interface DownloaderOptions {
  serverUrl: string;
  deviceId: string;
  secret: string;
  cache: AssetCache;
  /** Per-request limit; a stalled 4G transfer must not hold an item forever. */
  timeoutMs?: number;
  /** Extra CA (PEM) to trust for https: a commune server with a self-signed certificate. */
  ca?: Buffer;
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

  async fetchAll(assets: readonly FileAsset[], signal?: AbortSignal): Promise<CachedAsset[]> {
    const result: CachedAsset[] = [];
    for (const asset of assets) result.push(await this.fetchAsset(asset, signal));
    return result;
  }

  async fetchAsset(asset: FileAsset, signal?: AbortSignal): Promise<CachedAsset> {
    signal?.throwIfAborted();
    const cached = await this.options.cache.lookup(asset);
    if (cached) return cached;
    let transfer = this.inflight.get(asset.sha256);
    if (!transfer) {
      const carried = this.carriedBytes(asset);
      transfer = (carried ? this.options.cache.store(asset, carried) : this.transfer(asset)).finally(() =>
        this.inflight.delete(asset.sha256),
      );
      this.inflight.set(asset.sha256, transfer);
      // Filing bytes the command carried waits for no network: nothing to abort, no race to set up.
      if (carried) return transfer;
    }
    if (!signal) return transfer;
    // The shared transfer keeps going for other waiters; this caller just stops waiting.
    return Promise.race([
      transfer,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  }

  private transfer(asset: FileAsset): Promise<CachedAsset> {
    const { partialPath, commitPartial } = this.options.cache;
    if (partialPath && commitPartial) {
      const cache = this.options.cache;
      return this.resumableTransfer(asset, {
        partialPath: (a) => partialPath.call(cache, a),
        commitPartial: (a, path) => commitPartial.call(cache, a, path),
      });
    }
    return this.memoryTransfer(asset);
  }

  private requestHeaders(url: URL): Record<string, string> {
    // Byte offsets must count the file itself, not a compressed rendering of it.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    // Credentials go only to our own server, never to a host named in a payload.
    if (url.origin === this.base.origin) headers.authorization = this.authorization;
    return headers;
  }

  /**
   * Grows `<sha>.part` across attempts: a retry asks for `Range: bytes=<have>-`
   * and appends a 206, or starts over on a 200. The whole file's sha256 is
   * checked before it enters the cache; a mismatch discards the partial bytes.
   */
  private async resumableTransfer(
    asset: FileAsset,
    cache: Required<Pick<AssetCache, 'partialPath' | 'commitPartial'>>,
  ): Promise<CachedAsset> {
    const url = new URL(asset.url, this.base);
    const part = await cache.partialPath(asset);
    let have = await stat(part).then(
      (s) => s.size,
      () => 0,
    );
    if (have > asset.bytes) {
      await rm(part, { force: true });
      have = 0;
    }
    if (have < asset.bytes) {
      const headers = this.requestHeaders(url);
      if (have > 0) headers.range = `bytes=${have}-`;
      let response: HttpGetResponse;
      try {
        response = await this.get(url, headers);
      } catch (err) {
        throw new DownloadError(`download of ${url.pathname} failed: ${describe(err)}`);
      }
      let append: boolean;
      if (response.status === 206 && have > 0 && contentRangeStart(response.header('content-range')) === have) {
        append = true;
      } else if (response.status === 200) {
        append = false;
      } else {
        response.cancel();
        // A range the server cannot serve means our partial bytes are suspect: start over next time.
        if (response.status === 206 || response.status === 416) await rm(part, { force: true });
        throw new DownloadError(`download of ${url.pathname} failed: HTTP ${response.status}`);
      }
      const handle = await open(part, append ? 'a' : 'w');
      try {
        for await (const chunk of response.body) await handle.write(chunk);
      } catch (err) {
        // What arrived stays in the .part file for the next attempt to resume from.
        throw new DownloadError(`download of ${url.pathname} failed: ${describe(err)}`);
      } finally {
        await handle.sync().catch(() => {});
        await handle.close();
      }
    }
    const actual = await sha256File(part);
    if (actual !== asset.sha256) {
      const size = await stat(part).then(
        (s) => s.size,
        () => 0,
      );
      await rm(part, { force: true });
      throw new DownloadError(
        `sha256 mismatch for ${url.pathname}: expected ${asset.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}… (${size} bytes)`,
      );
    }
    return cache.commitPartial(asset, part);
  }

  /**
   * The bytes a command carried inline (attached, or base64 in `data`), checked like a download.
   * Bytes that do not match (a truncated or tampered payload) are ignored: the file is then
   * downloaded from its URL as usual.
   */
  private carriedBytes(asset: FileAsset): Buffer | null {
    const bytes = attachedBytes(asset) ?? (asset.data !== undefined ? Buffer.from(asset.data, 'base64') : undefined);
    if (!bytes || bytes.byteLength !== asset.bytes || sha256Hex(bytes) !== asset.sha256) return null;
    return bytes;
  }

  private get(url: URL, headers: Record<string, string>): Promise<HttpGetResponse> {
    return httpGet(url, { headers, timeoutMs: this.options.timeoutMs ?? 60_000, ca: this.options.ca });
  }

  private async memoryTransfer(asset: FileAsset): Promise<CachedAsset> {
    const url = new URL(asset.url, this.base);
    const headers = this.requestHeaders(url);
    let response: HttpGetResponse;
    try {
      response = await this.get(url, headers);
    } catch (err) {
      throw new DownloadError(`download of ${url.pathname} failed: ${describe(err)}`);
    }
    if (response.status < 200 || response.status > 299) {
      response.cancel();
      throw new DownloadError(`download of ${url.pathname} failed: HTTP ${response.status}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await response.bytes();
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

/** The first byte offset of a `Content-Range: bytes <start>-<end>/<total>` header, or null. */
export function contentRangeStart(header: string | null): number | null {
  const match = header ? /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header.trim()) : null;
  return match ? Number(match[1]) : null;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
