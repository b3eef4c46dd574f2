/**
 * A province officer goes live to zones of two communes at once: one session
 * per commune (a group), fed by her one WebSocket. Simulated loudspeakers of
 * both communes (the real agent, virtual sound cards, skewed clocks) sound
 * every click in step; a zone she did not choose stays silent. Each commune
 * sees only its own session, occurrence and deliveries. An emergency by a
 * commune's leader cuts off that commune's part only; the other goes on. Her
 * "Kết thúc" ends the whole group, her dropped connection too, and the one
 * recording becomes every session's audio. A commune whose rules refuse the
 * start is named, and nothing starts anywhere.
 */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet } from '@loaxa/firmware-sim';
import { decodeLiveFrame, topics } from '@loaxa/protocol';
import {
  communeWithUser,
  PROVINCE_PASSWORD,
  row,
  sql,
  startTestServer,
  waitFor,
  waitForFinished,
  type TestServer,
} from '../helpers';
import { clickPackets, sendPaced, speak, tonePackets } from '../live-audio';

const CLICK_EVERY = 25; // frames: 500 ms
const FRAMES = 125; // 2.5 s
/** The decoder's algorithmic delay (libopus at 48 kHz: 312 samples), the same on every loudspeaker. */
const CODEC_DELAY_MS = 6.5;

interface Member {
  id: string;
  communeId: string;
  zones: string[];
  devices: number;
  endedAt: string | null;
  endReason: string | null;
  endedBy: string | null;
}
interface Session extends Omit<Member, 'devices'> {
  revision: number;
  occurrenceId: string;
  devices: number;
  frames: number;
  groupId: string | null;
  group: Member[];
  recording: { sha256: string; durationMs: number } | null;
}

type Api = TestServer['api'];
let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
let province: Api;
let provinceCookie: string;
const communes: { id: string; api: Api; zone: string; other: string }[] = [];
/** Each simulated loudspeaker's clock skew (ms) and its commune's index. */
const SIMS: Record<string, { skew: number; commune: number; inOther?: true }> = {
  'loa-a': { skew: 120, commune: 0 },
  'loa-b': { skew: -80, commune: 1 },
  'loa-a-khac': { skew: 0, commune: 0, inOther: true },
};
const mqttClients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['Xã Hòa Bình', 'Xã Tân Lập']) {
    const { id, api, province: p } = await communeWithUser(server, name, 'admin');
    province = p;
    const zone = await api<{ id: string }>('POST', '/api/v1/zones', { name: `Thôn Đông ${name}` });
    const other = await api<{ id: string }>('POST', '/api/v1/zones', { name: `Thôn Tây ${name}` });
    expect([zone.status, other.status]).toEqual([201, 201]);
    communes.push({ id, api, zone: zone.body.id, other: other.body.id });
  }
  const login = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'tinh', password: PROVINCE_PASSWORD }),
  });
  provinceCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const devices = await Promise.all(
    Object.entries(SIMS).map(async ([deviceId, sim]) => {
      const commune = communes[sim.commune]!;
      return {
        deviceId,
        clockSkewMs: sim.skew,
        secret: (
          await server.services.registry.createDevice({
            id: deviceId,
            zones: [sim.inOther ? commune.other : commune.zone],
            communeId: commune.id,
          })
        ).secret,
      };
    }),
  );
  fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices, liveAudioKeepMs: 30_000 });
  await fleet.waitOnline(15_000);
}, 60_000);

afterAll(async () => {
  await Promise.all(mqttClients.map((c) => c.endAsync()));
  await fleet?.stop();
  await server?.close();
});

/** The live frames a zone's listener gets (a device's credentials: it may read its zone's topic). */
async function listener(commune: number) {
  const { id, zone } = communes[commune]!;
  const deviceId = `nghe-${commune}-${mqttClients.length}`;
  const { secret } = await server.services.registry.createDevice({ id: deviceId, zones: [zone], communeId: id });
  const client = await mqtt.connectAsync(server.mqttUrl, { clientId: deviceId, username: deviceId, password: secret });
  mqttClients.push(client);
  const frames: { key: number; seq: number; end: boolean }[] = [];
  client.on('message', (_topic, payload) => {
    const frame = decodeLiveFrame(payload);
    if (frame) frames.push({ key: frame.key, seq: frame.seq, end: frame.end });
  });
  await client.subscribeAsync(topics.zoneLive(zone), { qos: 0 });
  return frames;
}

async function sessionAs(api: Api, id: string): Promise<Session> {
  const got = await api<Session>('GET', `/api/v1/live/${id}`);
  expect(got.status).toBe(200);
  return got.body;
}

describe('a province officer live to several communes', () => {
  it('sounds in both communes in step from one voice; each commune sees its own part; one recording', async () => {
    const [a, b] = communes as [(typeof communes)[0], (typeof communes)[0]];
    const started = await province<Session>('POST', '/api/v1/live', {
      zones: [a.zone, b.zone],
      title: 'Tỉnh thông báo',
    });
    expect(started.status).toBe(201);
    const lead = started.body;
    expect(lead).toMatchObject({ communeId: a.id, zones: [a.zone], devices: 1, groupId: expect.any(String) });
    expect(lead.group).toEqual([
      {
        id: expect.any(String),
        communeId: b.id,
        zones: [b.zone],
        devices: 1,
        endedAt: null,
        endReason: null,
        endedBy: null,
      },
    ]);
    const bId = lead.group[0]!.id;

    // Each commune sees its own session on air, not the other's, nor that there is another.
    const onAirA = await a.api<Session[]>('GET', '/api/v1/live');
    expect(onAirA.body.map((s) => [s.id, s.group])).toEqual([[lead.id, []]]);
    const onAirB = await b.api<Session[]>('GET', '/api/v1/live');
    expect(onAirB.body.map((s) => [s.id, s.communeId, s.groupId])).toEqual([[bId, b.id, lead.groupId]]);
    expect((await a.api('GET', `/api/v1/live/${bId}`)).status).toBe(404);
    expect((await b.api('GET', `/api/v1/live/${lead.id}`)).status).toBe(404);
    const bSession = await sessionAs(b.api, bId);
    expect(bSession.occurrenceId).not.toBe(lead.occurrenceId);
    expect((await a.api('GET', `/api/v1/occurrences/${bSession.occurrenceId}`)).status).toBe(404);

    await waitFor('both communes’ loudspeakers to start the session', async () => {
      const n = await row<{ n: number | string }>(
        server,
        sql`SELECT COUNT(*) AS n FROM acks
            WHERE ref_id IN (${lead.occurrenceId}, ${bSession.occurrenceId}) AND stage = 'started'`,
      );
      return Number(n?.n) === 2;
    });
    // Her one socket, opened on the lead, feeds the whole group.
    const ws = await speak(server.url, lead.id, provinceCookie);
    const sentAt = await sendPaced(ws, clickPackets(FRAMES, CLICK_EVERY));
    await new Promise((r) => setTimeout(r, 800));
    const stopped = await province<Session>('POST', `/api/v1/live/${lead.id}/stop`, {
      revision: lead.revision,
      group: true,
    });
    expect(stopped.status).toBe(200);
    ws.close();
    expect(stopped.body).toMatchObject({ endReason: 'stopped', frames: FRAMES });
    expect(stopped.body.group).toMatchObject([{ id: bId, endReason: 'stopped' }]);

    const clicks = sentAt.map((at, n) => ({ n, at })).filter(({ n }) => n > 0 && n % CLICK_EVERY === 0);
    const heard = (deviceId: string) => {
      const cards = fleet.liveCards.get(deviceId) ?? [];
      expect(cards).toHaveLength(1);
      return cards[0]!.onsets(8_000).map((t) => t - SIMS[deviceId]!.skew - CODEC_DELAY_MS);
    };
    const inA = heard('loa-a');
    const inB = heard('loa-b');
    expect(inA).toHaveLength(clicks.length);
    expect(inB).toHaveLength(clicks.length);
    const latencies = clicks.flatMap((c, i) => [inA[i]! - c.at, inB[i]! - c.at]);
    const skews = clicks.map((_, i) => Math.abs(inA[i]! - inB[i]!));
    console.log(
      `[live province] latency ms ${latencies.map((l) => l.toFixed(1)).join(' ')}; skew ms ${skews.join(' ')}`,
    );
    expect(Math.min(...latencies)).toBeGreaterThan(350);
    expect(Math.max(...latencies)).toBeLessThan(700);
    expect(Math.max(...skews)).toBeLessThanOrEqual(10);
    expect(fleet.liveCards.get('loa-a-khac') ?? []).toEqual([]);

    // One recording, every session's audio; each commune's deliveries in its own occurrence.
    const recording = stopped.body.recording!;
    expect(Math.abs(recording.durationMs - FRAMES * 20)).toBeLessThanOrEqual(40);
    expect((await sessionAs(b.api, bId)).recording).toEqual(recording);
    const playedA = await waitForFinished({ api: a.api }, lead.occurrenceId);
    const playedB = await waitForFinished({ api: b.api }, bSession.occurrenceId);
    expect(playedA.deliveries.map((d) => d.deviceId)).toEqual(['loa-a']);
    expect(playedB.deliveries.map((d) => d.deviceId)).toEqual(['loa-b']);
    expect([playedA.sha256, playedB.sha256]).toEqual([recording.sha256, recording.sha256]);
  }, 90_000);

  it('lets a commune’s emergency cut off its part only, even the one her socket names; a drop ends the rest', async () => {
    const [a, b] = communes as [(typeof communes)[0], (typeof communes)[0]];
    const heardA = await listener(0);
    const heardB = await listener(1);
    const started = await province<Session>('POST', '/api/v1/live', { zones: [a.zone, b.zone] });
    expect(started.status).toBe(201);
    const lead = started.body;
    const bId = lead.group[0]!.id;
    const ws = await speak(server.url, lead.id, provinceCookie);
    // Anyone but the officer who went live is refused the group's socket, whichever session it names.
    const other = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `admin-${b.id}`, password: `admin-${b.id}-password` }),
    });
    const otherCookie = (other.headers.get('set-cookie') ?? '').split(';')[0]!;
    const refused = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/live/${bId}/audio`, {
      headers: { cookie: otherCookie },
    });
    await expect(
      new Promise((resolve, reject) => {
        refused.once('open', resolve);
        refused.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      }),
    ).rejects.toThrow(/403/);

    await sendPaced(ws, tonePackets(25));
    const key = heardA[0]!.key;
    await waitFor('the first second in both communes', () =>
      [heardA, heardB].every((frames) => frames.filter((f) => f.key === key).length >= 25),
    );

    // Commune A's leader goes live as an emergency in her zone: A's part of the group ends there,
    // though it is the session the officer's socket names; B's goes on.
    const emergency = await a.api<Session>('POST', '/api/v1/live', { zones: [a.zone], priority: 'emergency' });
    expect(emergency.status).toBe(201);
    expect(emergency.body.groupId).toBeNull();
    expect(await sessionAs(a.api, lead.id)).toMatchObject({ endReason: 'preempted', frames: 25 });
    await waitFor('the group’s end frame in A', () => heardA.some((f) => f.key === key && f.end));
    await sendPaced(ws, tonePackets(25));
    await waitFor('the second second in B', () => heardB.filter((f) => f.key === key && !f.end).length >= 50);
    expect(heardA.filter((f) => f.key === key && !f.end)).toHaveLength(25);
    const stillB = await sessionAs(province, bId);
    expect(stillB).toMatchObject({ endedAt: null, frames: 50 });
    expect(stillB.group).toMatchObject([{ id: lead.id, endReason: 'preempted' }]);

    // Her connection drops: what the group still fed ends within 2 s.
    const cut = Date.now();
    ws.terminate();
    const ended = await waitFor('B’s part to end', async () => {
      const s = await sessionAs(b.api, bId);
      return s.endedAt ? s : null;
    });
    expect(ended.endReason).toBe('dropped');
    expect(Date.parse(ended.endedAt!) - cut).toBeLessThan(2000);
    // The recording (both seconds) is A's part's audio too, and A's emergency is untouched.
    const recorded = await waitFor(
      'the recording on A’s part',
      async () => (await sessionAs(a.api, lead.id)).recording,
    );
    expect(Math.abs(recorded.durationMs - 1000)).toBeLessThanOrEqual(40);
    expect((await sessionAs(a.api, emergency.body.id)).endedAt).toBeNull();
    const done = await a.api('POST', `/api/v1/live/${emergency.body.id}/stop`, { revision: emergency.body.revision });
    expect(done.status).toBe(200);
  }, 60_000);

  it('names the commune whose rules refuse the start, and starts nothing anywhere', async () => {
    const [a, b] = communes as [(typeof communes)[0], (typeof communes)[0]];
    const rules = await b.api('PUT', '/api/v1/settings', { rules: { quietHours: { start: '00:00', end: '23:59' } } });
    expect(rules.status).toBe(200);
    const refused = await province<{ field: string; message: string }>('POST', '/api/v1/live', {
      zones: [a.zone, b.zone],
    });
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe('rules');
    expect(refused.body.message).toMatch(/^Xã Tân Lập: giờ yên tĩnh 00:00–23:59/);
    expect((await a.api<Session[]>('GET', '/api/v1/live')).body).toEqual([]);
    expect((await b.api<Session[]>('GET', '/api/v1/live')).body).toEqual([]);
    // Only A's zone: B's rules do not matter.
    const onlyA = await province<Session>('POST', '/api/v1/live', { zones: [a.zone] });
    expect(onlyA.status).toBe(201);
    expect(onlyA.body).toMatchObject({ communeId: a.id, groupId: null, group: [] });
    await province('POST', `/api/v1/live/${onlyA.body.id}/stop`, { revision: onlyA.body.revision });
    expect((await b.api('PUT', '/api/v1/settings', { rules: null })).status).toBe(200);
    // A zone that is nowhere is named.
    const unknown = await province<{ field: string; message: string }>('POST', '/api/v1/live', {
      zones: [a.zone, 'khong-co'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ field: 'zones', message: expect.stringContaining('khong-co') });
  });
});
