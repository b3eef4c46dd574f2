/**
 * Resumable downloads against a real HTTP server that misbehaves the way a 4G
 * link does: the connection dies part-way through.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileAsset } from '@loaxa/protocol';
import { FileCache } from '../cache/file-cache';
import { contentRangeStart, Downloader } from './downloader';

const SIZE = 256 * 1024;
const CUT_AT = 100_000;

let dataDir: string;
let server: Server;
let baseUrl: string;
let body: Buffer;
let asset: FileAsset;
let requests: { range: string | undefined; authorization: string | undefined }[];
/** How the server answers the n-th request (0-based). */
let behaviour: (n: number, req: IncomingMessage, res: ServerResponse) => void;

function full(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': body.byteLength }).end(body);
}
function cutAfter(res: ServerResponse, req: IncomingMessage, n: number): void {
  res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': body.byteLength });
  res.write(body.subarray(0, n), () => setTimeout(() => req.socket.destroy(), 20));
}
function honourRange(req: IncomingMessage, res: ServerResponse): void {
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(start)) return full(res);
  res
    .writeHead(206, {
      'content-type': 'audio/ogg',
      'content-length': body.byteLength - start,
      'content-range': `bytes ${start}-${body.byteLength - 1}/${body.byteLength}`,
    })
    .end(body.subarray(start));
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'loaxa-dl-'));
  body = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(body).digest('hex');
  asset = { sha256, url: `/media/${sha256}.ogg`, bytes: SIZE, durationMs: 1_000, format: 'ogg' };
  requests = [];
  server = createServer((req, res) => {
    requests.push({ range: req.headers.range, authorization: req.headers.authorization });
    behaviour(requests.length - 1, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dataDir, { recursive: true, force: true });
});

function downloader(cache: FileCache): Downloader {
  return new Downloader({ serverUrl: baseUrl, deviceId: 'loa-1', secret: 's', cache, timeoutMs: 5_000 });
}

describe('Downloader with a file cache', () => {
  it('resumes a cut transfer with Range: bytes=N- and verifies the whole file', async () => {
    behaviour = (n, req, res) => (n === 0 ? cutAfter(res, req, CUT_AT) : honourRange(req, res));
    const cache = new FileCache(dataDir);
    const dl = downloader(cache);

    await expect(dl.fetchAsset(asset)).rejects.toThrow(/download of .* failed/);
    const part = join(cache.dir, `${asset.sha256}.part`);
    expect((await stat(part)).size).toBe(CUT_AT);
    expect(await cache.lookup(asset)).toBeNull(); // not ready: nothing verified yet

    const cached = await dl.fetchAsset(asset);
    expect(requests.map((r) => r.range)).toEqual([undefined, `bytes=${CUT_AT}-`]);
    expect(requests.every((r) => r.authorization?.startsWith('Basic '))).toBe(true);
    expect(cached).toMatchObject({ sha256: asset.sha256, bytes: SIZE, path: cache.pathFor(asset) });
    expect(
      createHash('sha256')
        .update(await readFile(cached.path!))
        .digest('hex'),
    ).toBe(asset.sha256);
    expect(await readdir(cache.dir)).toEqual([`${asset.sha256}.ogg`]);
  });

  it('resumes after a restart too: the partial file outlives the process', async () => {
    behaviour = (n, req, res) => (n === 0 ? cutAfter(res, req, CUT_AT) : honourRange(req, res));
    await expect(downloader(new FileCache(dataDir)).fetchAsset(asset)).rejects.toThrow();
    const cached = await downloader(new FileCache(dataDir)).fetchAsset(asset);
    expect(requests[1]!.range).toBe(`bytes=${CUT_AT}-`);
    expect(cached.bytes).toBe(SIZE);
  });

  it('starts over when the server ignores Range and sends 200', async () => {
    behaviour = (n, req, res) => (n === 0 ? cutAfter(res, req, CUT_AT) : full(res));
    const cache = new FileCache(dataDir);
    const dl = downloader(cache);
    await expect(dl.fetchAsset(asset)).rejects.toThrow();
    const cached = await dl.fetchAsset(asset);
    expect(requests[1]!.range).toBe(`bytes=${CUT_AT}-`);
    expect(
      createHash('sha256')
        .update(await readFile(cached.path!))
        .digest('hex'),
    ).toBe(asset.sha256);
  });

  it('discards partial bytes that fail the hash, then downloads afresh', async () => {
    behaviour = (_n, req, res) => honourRange(req, res);
    const cache = new FileCache(dataDir);
    await cache.open();
    // Garbage from a torn write: resuming after it cannot produce the right file.
    await writeFile(join(cache.dir, `${asset.sha256}.part`), randomBytes(CUT_AT));
    const dl = downloader(cache);
    await expect(dl.fetchAsset(asset)).rejects.toThrow(/sha256 mismatch/);
    expect(await readdir(cache.dir)).toEqual([]);
    const cached = await dl.fetchAsset(asset);
    expect(requests.map((r) => r.range)).toEqual([`bytes=${CUT_AT}-`, undefined]);
    expect(cached.bytes).toBe(SIZE);
  });
});

describe('Downloader with bytes carried inline', () => {
  it('files matching inline bytes without a request', async () => {
    behaviour = (_n, _req, res) => full(res);
    const cache = new FileCache(dataDir);
    const cached = await downloader(cache).fetchAsset({ ...asset, data: body.toString('base64') });
    expect(requests).toHaveLength(0);
    expect(await readFile(cached.path!)).toEqual(body);
  });

  it('downloads from the URL when the inline bytes do not match', async () => {
    behaviour = (_n, _req, res) => full(res);
    const cache = new FileCache(dataDir);
    const tampered = Buffer.from(body);
    tampered[10] = tampered[10]! ^ 0xff;
    const truncated = body.subarray(0, 1000);
    for (const data of [tampered, truncated]) {
      await rm(cache.pathFor(asset), { force: true });
      const fresh = new FileCache(dataDir);
      const cached = await downloader(fresh).fetchAsset({ ...asset, data: data.toString('base64') });
      expect(await readFile(cached.path!)).toEqual(body);
    }
    expect(requests).toHaveLength(2);
  });
});

describe('contentRangeStart', () => {
  it.each([
    ['bytes 100-199/200', 100],
    ['bytes 0-0/*', 0],
    ['bytes */200', null],
    [null, null],
  ])('%s → %s', (header, start) => {
    expect(contentRangeStart(header)).toBe(start);
  });
});
