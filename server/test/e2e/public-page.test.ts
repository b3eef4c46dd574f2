/**
 * The villagers' channel over real HTTP with real loudspeakers (simulated
 * agents on the embedded broker): only notices that aired and were marked
 * public appear on the public page and in the podcast, their audio plays
 * without a login, answers are cacheable and rate-limited, and episode GUIDs
 * survive a restart.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Parser from 'rss-parser';
import { DateTime } from 'luxon';
import { startSimFleet } from '@loaxa/firmware-sim';
import { row, sql, startTestServer, waitFor, waitForFinished, type TestServer } from '../helpers';
import { dropDatabase, freshTestDatabaseUrl } from '../test-database';

interface Occurrence {
  id: string;
  sha256: string;
  deliveries: { deviceId: string; stage: string }[];
}

const ZONES = ['Thôn Đông', 'Thôn Tây'];
const DEVICES = [
  { id: 'loa-dong-1', name: 'Loa cổng chợ', zones: ['thon-dong'] },
  { id: 'loa-tay-1', name: 'Loa nhà văn hóa', zones: ['thon-tay'] },
];
const PUBLIC_TEXT = 'Thông báo tiêm phòng cúm gia cầm.\nSáng thứ Bảy tại nhà văn hóa thôn Đông.';
const PRIVATE_TEXT = 'Nội bộ: mời đảng viên họp chi bộ lúc 19 giờ.';
const LATER_TEXT = 'Thông báo lịch cắt điện tuần sau.';
const SCHEDULED_TEXT = 'Lịch thu gom rác: thứ Hai và thứ Năm hằng tuần.';

/** GET without any session: what a villager's phone sends. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });
}

let server: TestServer;
/**
 * On PostgreSQL, the database the server and its restart share: given explicitly, so that closing
 * the first server does not drop it (a test server drops only a database it made itself).
 */
let databaseUrl: string | undefined;
const databaseEnv = (): Record<string, string> => (databaseUrl ? { DATABASE_URL: databaseUrl } : {});
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
const aired: Record<'public' | 'private' | 'later' | 'scheduled', Occurrence> = {} as never;

const played = (id: string) => waitForFinished(server, id);

beforeAll(async () => {
  databaseUrl = await freshTestDatabaseUrl();
  server = await startTestServer(databaseEnv());
  for (const name of ZONES) expect((await server.api('POST', '/api/v1/zones', { name })).status).toBe(201);
  const credentials = await Promise.all(
    DEVICES.map(async (d) => ({
      deviceId: d.id,
      secret: (await server.services.registry.createDevice({ ...d, communeId: 'default' })).secret,
    })),
  );
  fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices: credentials });
  await fleet.waitOnline(15_000);
  const send = async (body: Record<string, unknown>) => {
    const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', body);
    expect(res.status).toBe(201);
    return res.body.occurrenceId;
  };
  aired.public = await played(await send({ text: PUBLIC_TEXT, zones: ['thon-dong'] }));
  aired.private = await played(await send({ text: PRIVATE_TEXT, zones: 'all', public: false }));
  const laterId = await send({ text: LATER_TEXT, zones: 'all', at: new Date(Date.now() + 3600_000).toISOString() });
  aired.later = (await server.api<Occurrence>('GET', `/api/v1/occurrences/${laterId}`)).body;

  // A library notice (public by default) in an approved schedule, a few seconds ahead.
  const notice = await server.api<{ id: string; public: boolean }>('POST', '/api/v1/content', {
    kind: 'notice',
    title: 'Thu gom rác',
    text: SCHEDULED_TEXT,
  });
  expect(notice.body.public).toBe(true);
  const programme = await server.api<{ id: string }>('POST', '/api/v1/programmes', {
    title: 'Vệ sinh môi trường',
    items: [{ contentId: notice.body.id }],
  });
  const t = DateTime.now().setZone('Asia/Ho_Chi_Minh').plus({ seconds: 6 });
  const schedule = await server.api<{ id: string; status: string; publicTitles: string[] }>(
    'POST',
    '/api/v1/schedules',
    {
      title: 'Thu gom rác',
      programmeId: programme.body.id,
      rule: { kind: 'once', startDate: t.toISODate(), times: [t.toFormat('HH:mm:ss')] },
      zones: ['thon-tay'],
    },
  );
  expect(schedule.status).toBe(201);
  // What the approver confirms: the notice will be public once aired.
  expect(schedule.body.publicTitles).toEqual(['Thu gom rác']);
  const submitted = await server.api<{ status: string }>('POST', `/api/v1/schedules/${schedule.body.id}/submit`);
  expect(submitted.body.status).toBe('approved');
  const occurrence = await waitFor('the scheduled occurrence', () =>
    row<{ id: string }>(server, sql`SELECT id FROM occurrences WHERE schedule_id = ${schedule.body.id}`),
  );
  aired.scheduled = await played(occurrence.id);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
  if (databaseUrl) await dropDatabase(databaseUrl);
});

describe('the public page', () => {
  it('shows the notices that aired and were public, with their villages, and nothing private', async () => {
    const res = await get(`${server.url}/public/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body.toString('utf8');
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('Thông báo tiêm phòng cúm gia cầm.');
    expect(html).toContain('Sáng thứ Bảy tại nhà văn hóa thôn Đông.');
    expect(html).toContain('Lịch thu gom rác');
    expect(html).toMatch(/Thôn: Thôn Đông</);
    expect(html).toMatch(/Thôn: Thôn Tây</);
    expect(html).toContain(`/public/default/audio/${aired.public.sha256}.mp3`);
    // Not marked public, not aired yet: absent. No device, id or user either.
    expect(html).not.toContain('chi bộ');
    expect(html).not.toContain('cắt điện');
    expect(html).not.toContain(aired.private.sha256);
    for (const secret of ['loa-dong-1', 'Loa cổng chợ', 'Loa nhà văn hóa', 'admin', aired.public.id]) {
      expect(html).not.toContain(secret);
    }
    // The same page by the commune's id; English on request; an unknown commune is 404.
    const byId = await get(`${server.url}/public/default/`);
    expect(byId.body.toString('utf8')).toBe(html);
    expect((await get(`${server.url}/public/default/?lang=en`)).body.toString('utf8')).toContain('Commune notices');
    expect((await get(`${server.url}/public/khong-co/`)).status).toBe(404);
    expect((await get(`${server.url}/public/default/?lang=fr`)).status).toBe(400);
  });

  it('has a small page of the latest notices for the commune’s own website, as public as the page', async () => {
    const res = await get(`${server.url}/public/default/widget`);
    expect(res.status).toBe(200);
    const html = res.body.toString('utf8');
    expect(html).toContain('Thông báo tiêm phòng cúm gia cầm.');
    expect(html).toContain('<a href="/public/default/" target="_top">');
    expect(html).not.toContain('chi bộ');
    expect(html).not.toContain('cắt điện');
    // Embeddable: nothing forbids framing it.
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(String(res.headers['content-security-policy'])).not.toContain('frame-ancestors');
  });

  it('answers 304 to a client that has the current page, and changes its ETag when a notice airs', async () => {
    const first = await get(`${server.url}/public/default/`);
    const tag = first.headers.etag!;
    expect(tag).toBeTruthy();
    expect(first.headers['last-modified']).toBeTruthy();
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    expect((await get(`${server.url}/public/default/`, { 'if-none-match': tag })).status).toBe(304);
    const since = await get(`${server.url}/public/default/`, { 'if-modified-since': first.headers['last-modified']! });
    expect(since.status).toBe(304);

    const contact = await server.api('PUT', '/api/v1/settings', { publicPage: { contact: 'UBND xã: 0209 3888 123' } });
    expect(contact.status).toBe(200);
    const changed = await get(`${server.url}/public/default/`, { 'if-none-match': tag });
    expect(changed.status).toBe(200);
    expect(changed.body.toString('utf8')).toContain('UBND xã: 0209 3888 123');
  });

  it('shows a banner while an emergency is current, without the text of one not marked public', async () => {
    expect((await get(`${server.url}/public/`)).body.toString('utf8')).not.toContain('role="alert"');
    const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Khẩn: sơ tán hộ dân ven suối Nậm Mu trước 17 giờ.',
      zones: 'all',
      priority: 'emergency',
      public: false,
    });
    expect(res.status).toBe(201);
    const page = await get(`${server.url}/public/`);
    const html = page.body.toString('utf8');
    expect(html).toContain('<div class="alert" role="alert"><strong>KHẨN CẤP</strong>');
    expect(html).toContain('Đang có thông báo khẩn cấp');
    expect(html).not.toContain('Nậm Mu');
    // The banner comes and goes with time: the page is not cached meanwhile.
    expect(page.headers['cache-control']).toBe('no-cache');
    await played(res.body.occurrenceId);
  });

  it('serves the audio of a public notice that aired without a login, and nothing else', async () => {
    const ogg = await get(`${server.url}/public/default/audio/${aired.public.sha256}.ogg`);
    expect(ogg.status).toBe(200);
    expect(ogg.body.subarray(0, 4).toString('latin1')).toBe('OggS');
    const mp3 = await get(`${server.url}/public/default/audio/${aired.public.sha256}.mp3`);
    expect(mp3.status).toBe(200);
    expect(mp3.headers['content-type']).toBe('audio/mpeg');
    // An MP3 file starts with an ID3 tag or a frame sync (11 bits set).
    const head = mp3.body.subarray(0, 3);
    expect(head.toString('latin1') === 'ID3' || (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0)).toBe(true);
    const range = await get(`${server.url}/public/default/audio/${aired.public.sha256}.ogg`, { range: 'bytes=0-9' });
    expect(range.status).toBe(206);
    expect(range.body.length).toBe(10);
    for (const hidden of [aired.private.sha256, aired.later.sha256]) {
      expect((await get(`${server.url}/public/default/audio/${hidden}.ogg`)).status).toBe(404);
    }
    // The same file behind the session-only media route still needs a login.
    expect((await get(`${server.url}/media/${aired.public.sha256}.ogg`)).status).toBe(401);
  });
});

describe('the podcast feed', () => {
  const parser = new Parser({ customFields: { item: [['itunes:duration', 'duration']] } });

  it('lists each public aired notice once, with an MP3 enclosure that plays without a login', async () => {
    const res = await get(`${server.url}/public/default/podcast.xml`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    const feed = await parser.parseString(res.body.toString('utf8'));
    expect(feed.title).toBe('Thông báo của Xã');
    expect(feed.itunes?.image).toBe(`${server.url}/public/default/podcast.png`);
    const titles = feed.items.map((i) => i.title).sort();
    expect(titles).toEqual(['Thu gom rác', 'Thông báo tiêm phòng cúm gia cầm.']);
    for (const item of feed.items) {
      expect(item.enclosure?.type).toBe('audio/mpeg');
      const audio = await get(item.enclosure!.url);
      expect(audio.status).toBe(200);
      expect(audio.body.length).toBe(Number(item.enclosure!.length));
      expect(Number((item as { duration?: string }).duration)).toBeGreaterThan(0);
    }
    const image = await get(feed.itunes!.image!);
    expect(image.status).toBe(200);
    expect(image.body.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('keeps every episode’s GUID across a restart', async () => {
    const guids = async (url: string) =>
      (await parser.parseString((await get(`${url}/public/default/podcast.xml`)).body.toString('utf8'))).items
        .map((i) => i.guid)
        .sort();
    const before = await guids(server.url);
    expect(before).toHaveLength(2);
    expect(new Set(before).size).toBe(2);
    await fleet.stop();
    await server.close();
    server = await startTestServer({ LOAXA_DATA: server.dataDir, ...databaseEnv() });
    expect(await guids(server.url)).toEqual(before);
  });
});

describe('rate limit', () => {
  it('answers 429 with a Vietnamese message once an address asks too often', async () => {
    const limited = await startTestServer({ LOAXA_PUBLIC_RATE_LIMIT: '5' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await get(`${limited.url}/public/`)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      const refused = await get(`${limited.url}/public/default/podcast.xml`);
      expect(JSON.parse(refused.body.toString('utf8')).message).toMatch(/^quá nhiều yêu cầu/);
      // The console's API is not limited by it.
      expect((await limited.api('GET', '/api/v1/health')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
