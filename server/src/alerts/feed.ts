/**
 * Reads CAP feeds: a URL serves either a CAP alert itself or an Atom/RSS
 * index linking CAP files. Conditional GET (ETag, Last-Modified) on the feed;
 * each linked file is fetched once (again only when its validator changes).
 * Everything read goes through the safe XML reader, with size limits and a
 * timeout; a failure is returned, never thrown, so one bad feed cannot stop
 * the others.
 */
import type { SqlDb } from '../db/sql';
import { CAP_1_2_NAMESPACE, DEFAULT_MAX_CAP_BYTES } from './cap';
import { readXmlDocument, type XmlElement } from './safe-xml';

const ATOM = 'http://www.w3.org/2005/Atom';
const FETCH_TIMEOUT_MS = 15_000;
/** An index is a list of links: 2 MB is thousands of entries. */
const MAX_INDEX_BYTES = 2 * 1024 * 1024;
/** Links followed from one index read (newest first in real feeds). */
const MAX_LINKS = 50;

export interface FetchedCap {
  url: string;
  body: Buffer;
  etag: string | null;
}

/**
 * `read`: the files to take in; `done()` then records the feed's and the files' validators,
 * so a crash before it reads them all again next time (an alert is de-duplicated anyway).
 */
export type FeedResult =
  | { kind: 'unchanged' }
  | { kind: 'read'; files: FetchedCap[]; errors: string[]; done: () => Promise<void> }
  | { kind: 'failed'; error: string };

async function get(
  url: string,
  headers: Record<string, string>,
  maxBytes: number,
): Promise<{ status: number; body: Buffer; etag: string | null; lastModified: string | null }> {
  const res = await fetch(url, {
    headers: { accept: 'application/cap+xml, application/atom+xml, application/rss+xml, application/xml', ...headers },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    redirect: 'follow',
  });
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new Error(`${url}: ${declared} bytes, more than the ${maxBytes} allowed`);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    chunks.push(Buffer.from(value));
    // One byte over is enough to refuse: the reader of the XML refuses it by its size.
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return {
    status: res.status,
    body: Buffer.concat(chunks),
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
  };
}

const elements = (e: XmlElement) => e.children.filter((c): c is XmlElement => typeof c !== 'string');
const text = (e: XmlElement | undefined) =>
  e
    ? e.children
        .filter((c): c is string => typeof c === 'string')
        .join('')
        .trim()
    : '';

/** The CAP links of an Atom or RSS index, absolute, at most MAX_LINKS. */
export function indexLinks(root: XmlElement, base: string): string[] {
  const hrefs: string[] = [];
  if (root.local === 'feed' && root.ns === ATOM) {
    for (const entry of elements(root).filter((e) => e.local === 'entry')) {
      const links = elements(entry).filter((e) => e.local === 'link' && e.attrs.get('href'));
      const cap = links.find((l) => /cap/i.test(l.attrs.get('type') ?? '')) ?? links[0];
      if (cap) hrefs.push(cap.attrs.get('href')!);
    }
  } else if (root.local === 'rss') {
    const channel = elements(root).find((e) => e.local === 'channel');
    for (const item of channel ? elements(channel).filter((e) => e.local === 'item') : []) {
      const enclosure = elements(item).find((e) => e.local === 'enclosure' && e.attrs.get('url'));
      const link = enclosure?.attrs.get('url') ?? text(elements(item).find((e) => e.local === 'link'));
      if (link) hrefs.push(link);
    }
  } else {
    throw new Error(`neither a CAP alert nor an Atom or RSS index (root element ${root.qname})`);
  }
  const out: string[] = [];
  for (const href of hrefs.slice(0, MAX_LINKS)) {
    try {
      const url = new URL(href, base);
      if (url.protocol === 'http:' || url.protocol === 'https:') out.push(url.toString());
    } catch {
      // A link that is not a URL is skipped; the others are read.
    }
  }
  return out;
}

export class FeedReader {
  constructor(private readonly sqlDb: SqlDb) {}

  /** Reads one feed; the CAP files new or changed since the last read. */
  async read(url: string): Promise<FeedResult> {
    const { db } = this.sqlDb;
    const state: { etag: string | null; last_modified: string | null } | undefined = await db
      .selectFrom('alert_feeds')
      .select(['etag', 'last_modified'])
      .where('url', '=', url)
      .executeTakeFirst();
    const headers: Record<string, string> = {};
    if (state?.etag) headers['if-none-match'] = state.etag;
    if (state?.last_modified) headers['if-modified-since'] = state.last_modified;
    let res;
    try {
      res = await get(url, headers, MAX_INDEX_BYTES);
    } catch (err) {
      return { kind: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    if (res.status === 304) return { kind: 'unchanged' };
    if (res.status !== 200) return { kind: 'failed', error: `${url}: HTTP ${res.status}` };
    const files: FetchedCap[] = [];
    const { etag, lastModified } = res;
    const done = () =>
      db.transaction().execute(async (tx) => {
        await tx
          .insertInto('alert_feeds')
          .values({ url, etag, last_modified: lastModified })
          .onConflict((oc) =>
            oc.column('url').doUpdateSet((eb) => ({
              etag: eb.ref('excluded.etag'),
              last_modified: eb.ref('excluded.last_modified'),
            })),
          )
          .execute();
        const readAt = Date.now();
        for (const f of files) {
          if (f.url === url) continue;
          await tx
            .insertInto('alert_files')
            .values({ url: f.url, etag: f.etag, read_at: readAt })
            .onConflict((oc) =>
              oc
                .column('url')
                .doUpdateSet((eb) => ({ etag: eb.ref('excluded.etag'), read_at: eb.ref('excluded.read_at') })),
            )
            .execute();
        }
      });
    let root: XmlElement;
    try {
      root = readXmlDocument(res.body, MAX_INDEX_BYTES);
    } catch (err) {
      return { kind: 'failed', error: `${url}: ${err instanceof Error ? err.message : String(err)}` };
    }
    // The feed is itself an alert: the parser checks the rest.
    if (root.local === 'alert' && root.ns === CAP_1_2_NAMESPACE) {
      files.push({ url, body: res.body, etag: res.etag });
      return { kind: 'read', files, errors: [], done };
    }
    let links: string[];
    try {
      links = indexLinks(root, url);
    } catch (err) {
      return { kind: 'failed', error: `${url}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const errors: string[] = [];
    for (const link of links) {
      const seen: { etag: string | null } | undefined = await db
        .selectFrom('alert_files')
        .select('etag')
        .where('url', '=', link)
        .executeTakeFirst();
      if (seen && !seen.etag) continue; // read before, and the server gives no validator to tell a change
      try {
        const file = await get(link, seen?.etag ? { 'if-none-match': seen.etag } : {}, DEFAULT_MAX_CAP_BYTES);
        if (file.status === 304) continue;
        if (file.status !== 200) {
          errors.push(`${link}: HTTP ${file.status}`);
          continue;
        }
        files.push({ url: link, body: file.body, etag: file.etag });
      } catch (err) {
        errors.push(`${link}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { kind: 'read', files, errors, done };
  }
}
