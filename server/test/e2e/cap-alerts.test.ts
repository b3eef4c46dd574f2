/**
 * Disaster alerts end to end: a local HTTP server speaks a CAP feed (an Atom
 * index linking CAP 1.2 files, with ETags), the real server polls it, and
 * simulated loudspeakers play what reaches them. A Severe/Immediate flood
 * alert whose polygon covers two of three villages plays on the loudspeakers
 * inside and none outside; an Update changes the text of the next repeat; a
 * Cancel stops the repeats and, as the commune's rule asks, is broadcast as an
 * all-clear; a Test alert never airs. Loudspeakers without a position are
 * reached through their zone's drawn area or code, or their commune's code;
 * a feed added from Settings is polled at once.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '@loaxa/firmware-sim';
import { row, rows, signInProvince, sql, startTestServer, waitFor, waitForFinished, type TestServer } from '../helpers';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/cap');
/** The fixture with its expiry moved two hours ahead of now: the rest is as the feed wrote it. */
const fixture = (name: string) =>
  fs
    .readFileSync(path.join(FIXTURES, name), 'utf8')
    .replace(
      /<expires>[^<]*<\/expires>/,
      `<expires>${new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '-00:00')}</expires>`,
    );

/** Inside the Lào Cai flood polygon: Lào Cai city and Bảo Thắng; outside: Sa Pa (helper-checked in geo.test.ts). */
const DEVICES = [
  { id: 'loa-lao-cai', zone: 'thon-bo-song', at: { latitude: 22.485, longitude: 103.97 } },
  { id: 'loa-bao-thang', zone: 'thon-bao-thang', at: { latitude: 22.4, longitude: 104.05 } },
  { id: 'loa-sa-pa', zone: 'thon-sa-pa', at: { latitude: 22.336, longitude: 103.844 } },
];

/** A feed as alert services publish it: an Atom index of CAP files, each with an ETag. */
function feedServer() {
  const files = new Map<string, string>();
  const entries: string[] = [];
  let indexReads = 0;
  const index = () =>
    `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:loaxa:test</id>` +
    `<title>Cảnh báo thiên tai</title><updated>${new Date().toISOString()}</updated>` +
    entries
      .map(
        (name) =>
          `<entry><id>${name}</id><title>${name}</title><updated>${new Date().toISOString()}</updated>` +
          `<link rel="alternate" type="application/cap+xml" href="${name}"/></entry>`,
      )
      .join('') +
    '</feed>';
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const body = name === 'index.atom.xml' ? index() : files.get(name);
    if (name === 'index.atom.xml') indexReads++;
    if (body === undefined) return res.writeHead(404).end();
    const etag = `"${Buffer.from(body).toString('base64url').slice(-16)}-${body.length}"`;
    if (req.headers['if-none-match'] === etag) return res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', etag }).end(body);
  });
  return {
    server,
    reads: () => indexReads,
    publish(name: string, xml: string) {
      files.set(name, xml);
      entries.unshift(name);
    },
  };
}

let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
const feed = feedServer();

interface AlertBody {
  id: string;
  identifier: string;
  state: string;
  level: number;
  communes: {
    communeId: string;
    decision: string;
    rule: number | null;
    allClear: boolean;
    status: string;
    devices: number;
    revision: number;
    occurrences: { id: string }[];
  }[];
}

/** The alerts as the province sees them (a commune sees those that reached it). */
const allAlerts = async () => (await (await signInProvince(server))<AlertBody[]>('GET', '/api/v1/alerts')).body;
const alertsNamed = async (identifierEnd: string) =>
  (await allAlerts()).find((a) => a.identifier.endsWith(identifierEnd));

/** The plays an alert became, with their titles and loudspeakers (comma-separated), earliest first. */
const playsOf = async (alertId: string) => {
  const deliveries = await rows<{ id: string; title: string; device_id: string }>(
    server,
    sql`SELECT o.id, o.title, d.device_id FROM occurrences o
        JOIN deliveries d ON d.occurrence_id = o.id WHERE o.alert_id = ${alertId}
        ORDER BY o.start_at, o.id, d.device_id`,
  );
  const plays = new Map<string, { id: string; title: string; devices: string[] }>();
  for (const d of deliveries) {
    const play = plays.get(d.id) ?? { id: d.id, title: d.title, devices: [] };
    play.devices.push(d.device_id);
    plays.set(d.id, play);
  }
  return [...plays.values()].map((p) => ({ id: p.id, title: p.title, devices: p.devices.join(',') }));
};

beforeAll(async () => {
  await new Promise<void>((resolve) => feed.server.listen(0, '127.0.0.1', resolve));
  const { port } = feed.server.address() as AddressInfo;
  server = await startTestServer({
    LOAXA_CAP_FEEDS: `http://127.0.0.1:${port}/index.atom.xml`,
    LOAXA_CAP_POLL_S: '1',
    // Now, then 6 s after it ends, then every 6 s: the test sees repeats without waiting twenty minutes, and a
    // loudspeaker that started late on a loaded machine ends its airing before the repeat cuts in.
    LOAXA_ALERT_REPEATS_S: '0,6,6',
  });
  const credentials = [];
  for (const d of DEVICES) {
    await server.services.registry.createZone(d.zone, 'default', d.zone);
    const { secret } = await server.services.registry.createDevice({ id: d.id, zones: [d.zone], communeId: 'default' });
    await server.services.registry.updateDevice(d.id, { location: d.at }, { communeId: null });
    credentials.push({ deviceId: d.id, secret });
  }
  // A village of Yên Bái whose loudspeaker has no map position: a zone code reaches it.
  await server.services.registry.createZone('Bản Yên Bái', 'default', 'ban-yen-bai');
  await server.services.registry.updateZone('ban-yen-bai', { geocodes: ['MA_DVHC=139'] }, { communeId: null });
  const yenBai = await server.services.registry.createDevice({
    id: 'loa-yen-bai',
    zones: ['ban-yen-bai'],
    communeId: 'default',
  });
  credentials.push({ deviceId: 'loa-yen-bai', secret: yenBai.secret });
  // A riverside hamlet of Lào Cai city drawn on the map; its loudspeaker has no position of its own.
  await server.services.registry.createZone('Xóm Ven Sông', 'default', 'xom-ven-song');
  const area = await server.api('PATCH', '/api/v1/zones/xom-ven-song', {
    area: [
      [22.48, 103.96],
      [22.48, 103.98],
      [22.5, 103.98],
      [22.5, 103.96],
    ],
  });
  expect(area.status).toBe(200);
  const venSong = await server.services.registry.createDevice({
    id: 'loa-ven-song',
    zones: ['xom-ven-song'],
    communeId: 'default',
  });
  credentials.push({ deviceId: 'loa-ven-song', secret: venSong.secret });
  // The commune's rule: grave floods air at once and their Cancel is broadcast as an all-clear.
  const rules = await server.api('PUT', '/api/v1/settings', {
    alertRules: [{ events: ['lũ'], severities: ['Severe', 'Extreme'], decision: 'auto', allClear: true }],
  });
  expect(rules.status).toBe(200);
  fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices: credentials });
  await fleet.waitOnline(15_000);
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
  feed.server.close();
});

describe('CAP alerts from a feed', () => {
  it('a Test alert is shown, never aired', async () => {
    feed.publish('thu-nghiem.xml', fixture('thu-nghiem.xml'));
    const test = await waitFor('the Test alert to be read', () => alertsNamed('TEST.0001'));
    expect(test.state).toBe('not-actual');
    expect(test.communes.every((c) => c.occurrences.length === 0)).toBe(true);
    expect(await playsOf(test.id)).toEqual([]);
  });

  it('plays a flood alert on the loudspeakers inside its polygon and none outside, within one poll', async () => {
    const readsBefore = feed.reads();
    feed.publish('lu-lao-cai.xml', fixture('lu-lao-cai.xml'));
    const alert = await waitFor('the flood alert to be aired', async () => {
      const a = await alertsNamed('LU.0001');
      return a && a.communes[0]?.occurrences.length ? a : null;
    });
    // Read at the first poll after it was published (a second one may have started meanwhile).
    expect(feed.reads() - readsBefore).toBeLessThanOrEqual(2);
    expect(alert.level).toBe(3);
    // Decided by the commune's rule (its first), which also asks for an all-clear.
    expect(alert.communes).toMatchObject([
      { communeId: 'default', decision: 'auto', rule: 0, allClear: true, status: 'airing', devices: 3 },
    ]);
    const [first] = await playsOf(alert.id);
    // Two by their positions, one without a position by its zone's drawn area; Sa Pa is outside.
    const inside = ['loa-bao-thang', 'loa-lao-cai', 'loa-ven-song'];
    expect(first!.devices.split(',').sort()).toEqual(inside);
    expect(first!.title).toBe('Cảnh báo lũ trên sông Hồng tại Lào Cai');
    const played = await waitForFinished(server, first!.id);
    expect(played.deliveries.map((d) => d.deviceId).sort()).toEqual(inside);
    // Level 3's own tone frames the words.
    const aired = await row<{ detail: string }>(
      server,
      sql`SELECT detail FROM audit_log WHERE action = 'alert.aired' AND target = ${alert.id} ORDER BY id LIMIT 1`,
    );
    expect(JSON.parse(aired!.detail)).toMatchObject({ tone: 'alert-3', repeat: 1 });
    // The spoken text says the level, what happens and what to do, in Vietnamese.
    const text = (await row<{ text: string }>(server, sql`SELECT text FROM occurrences WHERE id = ${first!.id}`))!;
    expect(text.text).toMatch(/^Cảnh báo thiên tai cấp độ 3\. Cảnh báo lũ trên sông Hồng tại Lào Cai\. /);
    expect(text.text).toContain('Chủ động sơ tán người dân khỏi vùng trũng ven sông');
  }, 120_000);

  it('an Update changes the text of the next repeat; a Cancel stops the repeats and airs the all-clear', async () => {
    const original = (await alertsNamed('LU.0001'))!;
    feed.publish('lu-lao-cai-update.xml', fixture('lu-lao-cai-update.xml'));
    const update = await waitFor(
      'a repeat with the updated text',
      async () => {
        const u = await alertsNamed('LU.0002');
        return u && (await playsOf(u.id)).length > 0 ? u : null;
      },
      90_000,
    );
    expect((await alertsNamed('LU.0001'))!.state).toBe('replaced');
    expect((await playsOf(update.id))[0]!.title).toBe('Lũ trên sông Hồng tại Lào Cai đã vượt báo động 3');
    // The original's repeats ended when it was replaced.
    const before = (await playsOf(original.id)).length;

    feed.publish('lu-lao-cai-cancel.xml', fixture('lu-lao-cai-cancel.xml'));
    await waitFor('the cancel to end the update', async () => (await alertsNamed('LU.0002'))?.state === 'cancelled');
    // The all-clear: once, on the loudspeakers that heard the alert, with the calm tone.
    const cancel = (await alertsNamed('LU.0003'))!;
    const [allClear] = await waitFor('the all-clear to be aired', async () => {
      const plays = await playsOf(cancel.id);
      return plays.length ? plays : null;
    });
    expect(allClear!.title).toBe('Kết thúc cảnh báo: Lũ trên sông Hồng tại Lào Cai đã vượt báo động 3');
    expect(allClear!.devices.split(',').sort()).toEqual(['loa-bao-thang', 'loa-lao-cai', 'loa-ven-song']);
    const spoken = (await row<{ text: string }>(server, sql`SELECT text FROM occurrences WHERE id = ${allClear!.id}`))!;
    expect(spoken.text).toMatch(/^Thông báo kết thúc cảnh báo thiên tai\. Cảnh báo Lũ trên sông Hồng /);
    // Aired once (its playing out is the flood alert's test above): nothing more is due.
    expect((await alertsNamed('LU.0003'))!.communes).toMatchObject([
      { communeId: 'default', allClear: true, status: 'done', repeatsDone: 1 },
    ]);
    const communes = await rows<{ status: string; next_at: number | null }>(
      server,
      sql`SELECT status, next_at FROM alert_communes WHERE alert_id IN (${original.id}, ${update.id}) ORDER BY alert_id`,
    );
    // Nothing is left to air: the timer airs only rows still 'airing'.
    expect(communes).toEqual([
      { status: 'done', next_at: null },
      { status: 'done', next_at: null },
    ]);
    expect((await playsOf(original.id)).length).toBe(before);
    const audit = await rows<{ action: string }>(
      server,
      sql`SELECT action FROM audit_log WHERE action LIKE 'alert.%' ORDER BY id`,
    );
    expect(new Set(audit.map((a) => a.action))).toEqual(new Set(['alert.received', 'alert.aired', 'alert.all-clear']));
    expect(await playsOf(cancel.id)).toHaveLength(1);
  }, 120_000);

  it('reaches a zone by its geocode, and waits for a leader’s tap when the alert is not grave enough', async () => {
    // loa-yen-bai has no map position; its zone carries the district code MA_DVHC=139 (beforeAll).
    feed.publish('sat-lo-yen-bai.xml', fixture('sat-lo-yen-bai.xml'));
    const alert = await waitFor('the landslide alert', () => alertsNamed('LQ.0012'));
    // Moderate and Possible: the commune's flood rule does not fit (not grave enough), the default asks a leader.
    expect(alert.communes).toMatchObject([
      { communeId: 'default', decision: 'confirm', rule: null, status: 'waiting', devices: 1 },
    ]);
    expect(await playsOf(alert.id)).toEqual([]);
    const commune = alert.communes[0]!;
    const confirmed = await server.api<{ status: string }>('POST', `/api/v1/alerts/${alert.id}/confirm`, {
      revision: commune.revision,
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('airing');
    const again = await server.api<{ field: string }>('POST', `/api/v1/alerts/${alert.id}/confirm`, {
      revision: commune.revision,
    });
    expect(again.status).toBe(409);
    await waitFor('the confirmed alert to be aired', async () => (await playsOf(alert.id)).length > 0);
    expect((await playsOf(alert.id))[0]!.devices).toBe('loa-yen-bai');
    const decided = await row<{ actor: string }>(
      server,
      sql`SELECT actor FROM audit_log WHERE action = 'alert.confirm' AND target = ${alert.id}`,
    );
    expect(decided).toEqual({ actor: 'admin' });
  });

  it('refuses a malformed or hostile file whole, logged and audited, nothing aired', async () => {
    feed.publish('xxe.xml', fs.readFileSync(path.join(FIXTURES, 'hostile/xxe-passwd.xml'), 'utf8'));
    await waitFor('the hostile file to be refused', () =>
      row<{ detail: string }>(server, sql`SELECT detail FROM audit_log WHERE action = 'alert.invalid'`),
    );
    // Shown, not only logged: the Alerts page lists what was refused, from where and why.
    const refused = await server.api<{ source: string; reason: string }[]>('GET', '/api/v1/alerts/refused');
    expect(refused.body[0]!.source).toMatch(/\/xxe\.xml$/);
    expect(refused.body[0]!.reason).toMatch(/DOCTYPE|DTD|entit/i);
    const alerts = await allAlerts();
    expect(alerts.map((a) => a.identifier.split('.').slice(-2).join('.')).sort()).toEqual([
      'LQ.0012',
      'LU.0001',
      'LU.0002',
      'LU.0003',
      'TEST.0001',
    ]);
  });

  it('polls a feed added in Settings at once, and reaches a whole commune by its code', async () => {
    const province = await signInProvince(server);
    const commune = (await server.services.communes.get({ communeId: null }, 'default'))!;
    const coded = await province<{ geocodes: string[] }>('PATCH', '/api/v1/communes/default', {
      geocodes: ['MA_TINH=10'],
      revision: commune.revision,
    });
    expect(coded.status).toBe(200);
    expect(coded.body.geocodes).toEqual(['MA_TINH=10']);
    const { port } = feed.server.address() as AddressInfo;
    // A CAP file served as a feed of its own (no index): a cold spell for the whole province of Lào Cai.
    feed.publish('ret-dam.xml', retDam(new Date(Date.now() + 2 * 3600_000)));
    const url = `http://127.0.0.1:${port}/ret-dam.xml`;
    const added = await province<{ source: string }>('POST', '/api/v1/alerts/feeds', { url });
    expect(added.status).toBe(201);
    expect(added.body.source).toBe('saved');
    expect((await province('POST', '/api/v1/alerts/feeds', { url })).status).toBe(409);
    expect((await province<{ field: string }>('POST', '/api/v1/alerts/feeds', { url: 'ftp://x' })).status).toBe(400);
    const alert = await waitFor('the cold-spell alert', () => alertsNamed('RET.0001'));
    expect(alert.communes).toMatchObject([{ communeId: 'default', decision: 'auto', rule: null, devices: 5 }]);
    // The poll stores the alert, then notes the feed as read: wait for that note, not the alert.
    const feeds = await waitFor('both feeds noted as read', async () => {
      const listed = await province<{ url: string; source: string; okAt: string | null }[]>(
        'GET',
        '/api/v1/alerts/feeds',
      );
      return listed.body.length === 2 && listed.body.every((f) => f.okAt !== null) ? listed : null;
    });
    expect(feeds.body.map((f) => [f.source, f.okAt !== null])).toEqual([
      ['environment', true],
      ['saved', true],
    ]);
    const envFeed = feeds.body[0]!.url;
    expect((await province('DELETE', `/api/v1/alerts/feeds?url=${encodeURIComponent(envFeed)}`)).status).toBe(409);
    expect((await province('DELETE', `/api/v1/alerts/feeds?url=${encodeURIComponent(url)}`)).status).toBe(204);
    expect((await province<unknown[]>('GET', '/api/v1/alerts/feeds')).body).toHaveLength(1);
  });
});

/** A CAP 1.2 alert reaching the province code MA_TINH=10 only (no polygon). */
function retDam(expires: Date): string {
  const at = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '-00:00');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>2.49.0.1.704.0.20261201000000.RET.0001</identifier>
  <sender>canhbao@nchmf.gov.vn</sender>
  <sent>${at(new Date())}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Rét hại</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>${at(expires)}</expires>
    <headline>Rét hại tại tỉnh Lào Cai</headline>
    <instruction>Giữ ấm cho người già, trẻ nhỏ và gia súc.</instruction>
    <area>
      <areaDesc>Tỉnh Lào Cai</areaDesc>
      <geocode><valueName>MA_TINH</valueName><value>10</value></geocode>
    </area>
  </info>
</alert>`;
}
