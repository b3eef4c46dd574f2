/**
 * The provincial source tier end to end: the real server and simulated
 * loudspeakers in three communes over real MQTT. An emergency bulletin to two
 * of the three plays on every online loudspeaker of those two and on none of
 * the third, and reaches a loudspeaker of theirs that comes online later; a
 * normal bulletin is placed by one commune and declined by the other, and the
 * province sees both; a priority bulletin joins the commune's next programme.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '@loaxa/firmware-sim';
import { row, rows, signIn, signInProvince, sql, startTestServer, waitFor, type TestServer } from '../helpers';

type Api = TestServer['api'];
interface CommuneRow {
  communeId: string;
  status: string;
  declineReason: string | null;
  detail: string | null;
  revision: number;
  devices: number;
  played: number;
  occurrences: { id: string; startAt: string }[];
  deliveries: { deviceId: string; occurrenceId: string; stage: string }[];
}
interface Bulletin {
  id: string;
  status: string;
  revision: number;
  priority: string;
  communes: CommuneRow[];
}

let server: TestServer;
let province: Api;
const fleets: Awaited<ReturnType<typeof startSimFleet>>[] = [];
/** Commune id → its administrator's api and its loudspeakers. */
const communes: { id: string; api: Api; zone: string; devices: string[] }[] = [];
const secrets = new Map<string, string>();
/** Provisioned in commune 0 but not connected until the emergency is on air. */
const LATECOMER = 'loa-1-muon';

async function addCommune(n: number): Promise<void> {
  const id = (await province<{ id: string }>('POST', '/api/v1/communes', { name: `Xã Thử ${n}` })).body.id;
  const username = `admin-${id}`;
  expect(
    (await province('POST', '/api/v1/users', { username, password: `${username}-pw`, role: 'admin', commune: id }))
      .status,
  ).toBe(201);
  const api = await signIn(server, username, `${username}-pw`);
  const zone = (await api<{ id: string }>('POST', '/api/v1/zones', { name: `Thôn ${n}` })).body.id;
  const devices = [`loa-${n}-a`, `loa-${n}-b`];
  for (const d of [...devices, ...(n === 1 ? [LATECOMER] : [])]) {
    const { secret } = await server.services.registry.createDevice({
      id: d,
      name: `Loa ${d}`,
      zones: [zone],
      communeId: id,
    });
    secrets.set(d, secret);
  }
  communes.push({ id, api, zone, devices });
}

async function startDevices(ids: string[]): Promise<void> {
  fleets.push(
    await startSimFleet({
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      devices: ids.map((deviceId) => ({ deviceId, secret: secrets.get(deviceId)! })),
    }),
  );
  await waitFor(`${ids.join(', ')} online`, async () => {
    const { body } = await province<{ id: string; online: boolean }[]>('GET', '/api/v1/devices');
    return ids.every((id) => body.find((d) => d.id === id)?.online);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  province = await signInProvince(server);
  for (const n of [1, 2, 3]) await addCommune(n);
  await startDevices(communes.flatMap((c) => c.devices));
}, 60_000);

afterAll(async () => {
  for (const fleet of fleets) await fleet.stop();
  await server?.close();
});

async function bulletin(api: Api, id: string): Promise<Bulletin> {
  const res = await api<Bulletin>('GET', `/api/v1/bulletins/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Devices that acknowledged `stage` for any occurrence of the bulletin. */
async function acked(bulletinId: string, stage: string): Promise<string[]> {
  return (
    await rows<{ device_id: string }>(
      server,
      sql`SELECT DISTINCT a.device_id FROM acks a JOIN occurrences o ON o.id = a.ref_id
          WHERE o.bulletin_id = ${bulletinId} AND a.stage = ${stage} ORDER BY a.device_id`,
    )
  ).map((r) => r.device_id);
}

describe('an emergency bulletin', () => {
  it('plays on every online loudspeaker of the two target communes, on none of the third', async () => {
    const [one, two, three] = communes;
    const sent = await province<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Khẩn cấp: nước sông đang lên nhanh, bà con khu vực ven sông di chuyển lên chỗ cao ngay.',
      priority: 'emergency',
      communes: [one!.id, two!.id],
    });
    expect(sent.status).toBe(201);
    expect(sent.body.status).toBe('sent');
    const id = sent.body.id;
    const targets = [...one!.devices, ...two!.devices].sort();
    await waitFor('every online loudspeaker of the two communes started it', async () =>
      JSON.stringify(await acked(id, 'started')) === JSON.stringify(targets) ? true : null,
    );
    const view = await bulletin(province, id);
    expect(view.communes.map((c) => c.communeId).sort()).toEqual([one!.id, two!.id].sort());
    for (const c of view.communes) expect(c.status).toBe('aired');
    // The third commune: no occurrence, no delivery, no acknowledgement.
    const third = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id
          WHERE o.bulletin_id = ${id} AND d.device_id IN (${sql.join(three!.devices)})`,
    );
    expect(Number(third!.n)).toBe(0);
    expect((await acked(id, 'received')).filter((d) => three!.devices.includes(d))).toEqual([]);
    // A commune outside the bulletin does not learn of it.
    expect((await three!.api('GET', `/api/v1/bulletins/${id}`)).status).toBe(404);
    expect(JSON.stringify((await three!.api('GET', '/api/v1/bulletins')).body)).not.toContain(id);

    // A loudspeaker of commune one that comes online while the bulletin is current still plays it.
    await startDevices([LATECOMER]);
    await waitFor('the latecomer started it', async () =>
      (await acked(id, 'started')).includes(LATECOMER) ? true : null,
    );
    // The province sees per commune and per loudspeaker.
    const after = await bulletin(province, id);
    const rowOne = after.communes.find((c) => c.communeId === one!.id)!;
    expect(rowOne.deliveries.map((d) => d.deviceId).sort()).toEqual([...one!.devices, LATECOMER].sort());
    expect(rowOne.played).toBe(3);
  });
});

describe('a normal bulletin', () => {
  it('is placed by one commune and declined by another, and the province sees both', async () => {
    const [one, two] = communes;
    const sent = await province<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Thông báo về lịch tiêm chủng mở rộng tháng này tại trạm y tế xã.',
      priority: 'normal',
      communes: [one!.id, two!.id],
    });
    expect(sent.status).toBe(201);
    const id = sent.body.id;
    // In each inbox, waiting; nothing plays by itself.
    const inbox = (await one!.api<Bulletin[]>('GET', '/api/v1/bulletins')).body.find((b) => b.id === id)!;
    expect(inbox.communes.map((c) => c.communeId)).toEqual([one!.id]); // its own row only
    expect(inbox.communes[0]!.status).toBe('received');

    const at = new Date(Date.now() + 30 * 60_000).toISOString();
    const mine = inbox.communes[0]!;
    // Another commune's zone is "unknown" here.
    const wrongZone = await one!.api<{ field: string }>('POST', `/api/v1/bulletins/${id}/place`, {
      at,
      zones: [two!.zone],
      revision: mine.revision,
    });
    expect(wrongZone.status).toBe(400);
    const placed = await one!.api<Bulletin>('POST', `/api/v1/bulletins/${id}/place`, {
      at,
      zones: [one!.zone],
      revision: mine.revision,
    });
    expect(placed.status).toBe(200);
    const oneRow = placed.body.communes.find((c) => c.communeId === one!.id)!;
    expect(oneRow.status).toBe('scheduled');
    expect(oneRow.occurrences.map((o) => o.startAt)).toEqual([at]);
    expect(oneRow.deliveries.map((d) => d.deviceId).sort()).toEqual([...one!.devices, LATECOMER].sort());
    // Placing twice from the same revision: 409, one play only.
    const twice = await one!.api('POST', `/api/v1/bulletins/${id}/place`, {
      at,
      zones: 'all',
      revision: mine.revision,
    });
    expect(twice.status).toBe(409);

    const twoRow = (await bulletin(two!.api, id)).communes[0]!;
    const declined = await two!.api<Bulletin>('POST', `/api/v1/bulletins/${id}/decline`, {
      reason: 'Xã đã thông báo nội dung này hôm qua.',
      revision: twoRow.revision,
    });
    expect(declined.status).toBe(200);

    const seen = await bulletin(province, id);
    const byCommune = Object.fromEntries(seen.communes.map((c) => [c.communeId, c]));
    expect(byCommune[one!.id]!.status).toBe('scheduled');
    expect(byCommune[two!.id]!.status).toBe('declined');
    expect(byCommune[two!.id]!.declineReason).toBe('Xã đã thông báo nội dung này hôm qua.');
    // Commune two cannot act for commune one.
    const meddle = await two!.api('POST', `/api/v1/bulletins/${id}/place`, {
      commune: one!.id,
      at,
      zones: 'all',
      revision: byCommune[one!.id]!.revision,
    });
    expect(meddle.status).toBe(404);
  });
});

describe('a priority bulletin', () => {
  it("goes just ahead of the commune's next programme, and waits in the inbox of a commune without one", async () => {
    const [one, two] = communes;
    // Commune one has a programme on air tomorrow at 07:00 (its own, approved by its admin).
    const content = (
      await one!.api<{ id: string }>('POST', '/api/v1/content', { kind: 'silence', title: 'Lặng', durationMs: 2000 })
    ).body;
    const programme = (
      await one!.api<{ id: string }>('POST', '/api/v1/programmes', {
        title: 'Buổi sáng',
        items: [{ contentId: content.id }],
      })
    ).body;
    const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(Date.now() + 86_400_000);
    const schedule = (
      await one!.api<{ id: string }>('POST', '/api/v1/schedules', {
        title: 'Phát thanh buổi sáng',
        programmeId: programme.id,
        rule: { kind: 'once', startDate: tomorrow, times: ['07:00'] },
        zones: [one!.zone],
      })
    ).body;
    expect(
      (await one!.api<{ status: string }>('POST', `/api/v1/schedules/${schedule.id}/submit`, {})).body.status,
    ).toBe('approved');
    const slot = Date.parse(`${tomorrow}T07:00:00+07:00`);

    const sent = await province<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Bản tin ưu tiên của tỉnh về phòng chống cháy rừng.',
      priority: 'priority',
      communes: [one!.id, two!.id],
    });
    expect(sent.status).toBe(201);
    const byCommune = Object.fromEntries(sent.body.communes.map((c) => [c.communeId, c]));
    expect(byCommune[one!.id]!.status).toBe('scheduled');
    const starts = byCommune[one!.id]!.occurrences.map((o) => Date.parse(o.startAt));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeLessThan(slot);
    expect(slot - starts[0]!).toBeLessThan(1000);
    const priority = await row<{ priority: string }>(
      server,
      sql`SELECT priority FROM occurrences WHERE id = ${byCommune[one!.id]!.occurrences[0]!.id}`,
    );
    expect(priority!.priority).toBe('priority');
    // Commune two has no programme ahead: it waits for the commune to place it.
    expect(byCommune[two!.id]!.status).toBe('received');
    expect(byCommune[two!.id]!.detail).toMatch(/no programme ahead/);
  });
});

/** Reads an event stream until `until` is in it; returns everything read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: string): Promise<string> {
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes(until)) {
    const r = await reader.read();
    if (r.done) break;
    seen += decoder.decode(r.value);
  }
  return seen;
}

describe('the live stream', () => {
  it('tells a commune of its own bulletins only, without naming the other communes', async () => {
    const [one, , three] = communes;
    const streamOf = async (username: string) => {
      const login = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-pw` }),
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const res = await fetch(`${server.url}/api/v1/events`, { headers: { cookie } });
      return res.body!.getReader();
    };
    const toOne = await streamOf(`admin-${one!.id}`);
    const toThree = await streamOf(`admin-${three!.id}`);
    const first = await province<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Bản tin chỉ gửi xã một.',
      priority: 'normal',
      communes: [one!.id],
    });
    const second = await province<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Bản tin chỉ gửi xã ba.',
      priority: 'normal',
      communes: [three!.id],
    });
    const seenByOne = await readUntil(toOne, first.body.id);
    const seenByThree = await readUntil(toThree, second.body.id);
    expect(seenByOne).toContain(`event: bulletin\ndata: {"bulletinId":"${first.body.id}"}`);
    // Sent before the second, the first never reached commune three's stream.
    expect(seenByThree).not.toContain(first.body.id);
    expect(seenByThree).not.toContain(one!.id);
    await toOne.cancel();
    await toThree.cancel();
  });
});

describe('approval', () => {
  it("sends a province editor's bulletin only when a province approver approves exactly that revision", async () => {
    const [one] = communes;
    expect(
      (await province('POST', '/api/v1/users', { username: 'bt-tinh', password: 'bt-tinh-password', role: 'editor' }))
        .status,
    ).toBe(201);
    const editor = await signIn(server, 'bt-tinh', 'bt-tinh-password');
    const submitted = await editor<Bulletin>('POST', '/api/v1/bulletins', {
      text: 'Thông báo lịch họp trực tuyến.',
      priority: 'normal',
      communes: [one!.id],
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body.status).toBe('submitted');
    // Not in the commune's inbox before approval.
    expect((await one!.api('GET', `/api/v1/bulletins/${submitted.body.id}`)).status).toBe(404);
    expect(
      (await editor('POST', `/api/v1/bulletins/${submitted.body.id}/approve`, { revision: submitted.body.revision }))
        .status,
    ).toBe(403);
    const stale = await province<{ field: string }>('POST', `/api/v1/bulletins/${submitted.body.id}/approve`, {
      revision: submitted.body.revision + 5,
    });
    expect(stale.status).toBe(409);
    const approved = await province<Bulletin>('POST', `/api/v1/bulletins/${submitted.body.id}/approve`, {
      revision: submitted.body.revision,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('sent');
    expect((await bulletin(one!.api, submitted.body.id)).communes[0]!.status).toBe('received');
    const again = await province('POST', `/api/v1/bulletins/${submitted.body.id}/approve`, {
      revision: approved.body.revision,
    });
    expect(again.status).toBe(409);
  });

  it('refuses bad input with the field named', async () => {
    const cases: [unknown, string][] = [
      [{ priority: 'normal', communes: 'all' }, 'text'],
      [{ text: 'x', priority: 'normal', communes: [] }, 'communes'],
      [{ text: 'x', priority: 'normal', communes: ['khong-co'] }, 'communes'],
      [{ text: 'x', priority: 'urgent', communes: 'all' }, 'priority'],
      [
        { text: 'x', priority: 'normal', communes: 'all', expiresAt: new Date(Date.now() + 60_000).toISOString() },
        'expiresAt',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await province<{ field: string }>('POST', '/api/v1/bulletins', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.body.field, JSON.stringify(body)).toBe(field);
    }
  });
});
