/**
 * The CAP feed reader's memory of what it read (ETag / Last-Modified of the
 * feed and of each file), on each engine the server can use: a second poll
 * asks with the validators it stored and takes in only what changed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedReader } from '../src/alerts/feed';
import type { SqlDb } from '../src/db/sql';
import { engineCases } from './engine-cases';

/** A feed server: an RSS index linking two CAP files, each answered 304 when the client has it. */
function feedServer() {
  const etags: Record<string, string> = { '/index.xml': '"i1"', '/a.xml': '"a1"', '/b.xml': '"b1"' };
  const asked: { path: string; ifNoneMatch: string | null }[] = [];
  const index = `<?xml version="1.0"?><rss version="2.0"><channel><title>Cảnh báo</title>
    <item><link>/a.xml</link></item><item><link>/b.xml</link></item></channel></rss>`;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    const ifNoneMatch = (req.headers['if-none-match'] as string | undefined) ?? null;
    asked.push({ path, ifNoneMatch });
    const etag = etags[path];
    if (!etag) return res.writeHead(404).end();
    if (ifNoneMatch === etag) return res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, 'content-type': 'application/xml' });
    res.end(path === '/index.xml' ? index : `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>`);
  });
  return { server, etags, asked };
}

describe.each(engineCases('the CAP feed memory on PostgreSQL'))('CAP feed reader on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  const feed = feedServer();
  let url: string;

  beforeAll(async () => {
    ({ target, close } = await open());
    await new Promise<void>((resolve) => feed.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(feed.server.address() as AddressInfo).port}/index.xml`;
  }, 60_000);

  afterAll(async () => {
    await close?.();
    await new Promise((resolve) => feed.server.close(resolve));
  });

  it('remembers the validators and asks with them next time', async () => {
    const reader = new FeedReader(target);
    const first = await reader.read(url);
    expect(first.kind).toBe('read');
    if (first.kind !== 'read') return;
    expect(first.files.map((f) => [new URL(f.url).pathname, f.etag])).toEqual([
      ['/a.xml', '"a1"'],
      ['/b.xml', '"b1"'],
    ]);
    await first.done();

    // Nothing changed: the index answers 304 to its own ETag.
    feed.asked.length = 0;
    expect((await new FeedReader(target).read(url)).kind).toBe('unchanged');
    expect(feed.asked).toEqual([{ path: '/index.xml', ifNoneMatch: '"i1"' }]);

    // The index changed and so did one file: only that one is taken in.
    feed.etags['/index.xml'] = '"i2"';
    feed.etags['/b.xml'] = '"b2"';
    feed.asked.length = 0;
    const third = await new FeedReader(target).read(url);
    expect(feed.asked).toEqual([
      { path: '/index.xml', ifNoneMatch: '"i1"' },
      { path: '/a.xml', ifNoneMatch: '"a1"' },
      { path: '/b.xml', ifNoneMatch: '"b1"' },
    ]);
    if (third.kind !== 'read') throw new Error(`expected a read, got ${third.kind}`);
    expect(third.files.map((f) => [new URL(f.url).pathname, f.etag])).toEqual([['/b.xml', '"b2"']]);
    await third.done();
    const files = await target.db.selectFrom('alert_files').select(['url', 'etag']).orderBy('url').execute();
    expect(files.map((f: { url: string; etag: string }) => [new URL(f.url).pathname, f.etag])).toEqual([
      ['/a.xml', '"a1"'],
      ['/b.xml', '"b2"'],
    ]);
  });
});
