/**
 * The walking skeleton, end to end: the real server (Fastify, embedded Aedes,
 * SQLite or PostgreSQL, espeak-ng WASM, ffmpeg) and simulated loudspeakers running the
 * agent's core over real MQTT and HTTP.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startSimFleet } from '@loaxa/firmware-sim';
import {
  attachedBytes,
  commandDecoder,
  deviceAuthorizationHeader,
  topics,
  type FileAsset,
  type PlayNowCommand,
} from '@loaxa/protocol';
import { rows, sql, startTestServer, waitFor, type TestServer } from '../helpers';

interface Occurrence {
  id: string;
  startAt: string;
  sha256: string;
  deliveries: { deviceId: string; stage: string; at: string | null; detail: string | null }[];
}

const DEVICES = [
  { id: 'loa-a1', zones: ['thon-a'] },
  { id: 'loa-a2', zones: ['thon-a'] },
  { id: 'loa-b1', zones: ['thon-b'] },
  { id: 'loa-ab', zones: ['thon-a', 'thon-b'] },
  { id: 'loa-c1', zones: ['thon-c'] },
];

let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
const secrets = new Map<string, string>();

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['Thôn A', 'Thôn B', 'Thôn C']) {
    expect((await server.api('POST', '/api/v1/zones', { name })).status).toBe(201);
  }
  for (const d of DEVICES) {
    const { secret } = await server.services.registry.createDevice({
      communeId: 'default',
      id: d.id,
      name: `Loa ${d.id}`,
      zones: d.zones,
    });
    secrets.set(d.id, secret);
  }
  fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices: DEVICES.map((d) => ({ deviceId: d.id, secret: secrets.get(d.id)! })),
  });
  await waitFor('all devices online in the API', async () => {
    const { body } = await server.api<{ id: string; online: boolean }[]>('GET', '/api/v1/devices');
    return body.length === DEVICES.length && body.every((d) => d.online);
  });
});

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

async function occurrence(id: string): Promise<Occurrence> {
  const res = await server.api<Occurrence>('GET', `/api/v1/occurrences/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

function startedAcks(occurrenceId: string): Promise<{ device_id: string; at: number }[]> {
  return rows<{ device_id: string; at: number }>(
    server,
    sql`SELECT device_id, at FROM acks WHERE ref_id = ${occurrenceId} AND stage = 'started' ORDER BY device_id`,
  );
}

describe('broadcast now', () => {
  it('reaches every device in the chosen zones, which all finish, with the announced audio', async () => {
    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Ủy ban nhân dân xã thông báo: chiều nay mất điện từ 14 giờ đến 16 giờ.',
      zones: ['thon-a', 'thon-b'],
    });
    expect(post.status).toBe(201);
    const id = post.body.occurrenceId;

    const done = await waitFor('every delivery finished', async () => {
      const o = await occurrence(id);
      return o.deliveries.every((d) => d.stage === 'finished') ? o : null;
    });
    // thon-c is not targeted; loa-ab is in both zones and plays once.
    expect(done.deliveries.map((d) => d.deviceId).sort()).toEqual(['loa-a1', 'loa-a2', 'loa-ab', 'loa-b1']);
    for (const d of done.deliveries) expect(d.at).not.toBeNull();
    expect((await startedAcks(id)).filter((a) => a.device_id === 'loa-ab')).toHaveLength(1);

    // Every stage was acknowledged, in order, once per device: ordered by the device's clock, then by arrival
    // at the server. Acks equal on both (the same millisecond twice) do not say which came first.
    const STAGES = ['received', 'ready', 'started', 'finished'];
    const stages = await rows<{ device_id: string; stage: string; at: number; received_at: number }>(
      server,
      sql`SELECT device_id, stage, at, received_at FROM acks WHERE ref_id = ${id} ORDER BY device_id, stage`,
    );
    const inOrder = (a: (typeof stages)[number], b: (typeof stages)[number]) =>
      a.at - b.at || a.received_at - b.received_at || STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage);
    for (const deviceId of ['loa-a1', 'loa-a2', 'loa-ab', 'loa-b1']) {
      expect(
        stages
          .filter((s) => s.device_id === deviceId)
          .sort(inOrder)
          .map((s) => s.stage),
      ).toEqual(STAGES);
    }

    // The bytes a device downloads hash to the announced sha256, and play as long as announced.
    const res = await fetch(`${server.url}/media/${done.sha256}.ogg`, {
      headers: { authorization: deviceAuthorizationHeader('loa-a1', secrets.get('loa-a1')!) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/ogg/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('OggS');
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(done.sha256);

    // Resume: a Range request returns the tail.
    const tail = await fetch(`${server.url}/media/${done.sha256}.ogg`, {
      headers: {
        authorization: deviceAuthorizationHeader('loa-a1', secrets.get('loa-a1')!),
        range: `bytes=100-`,
      },
    });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(100))).toBe(true);

    const c = await occurrence(id);
    expect(c.deliveries.every((d) => d.stage === 'finished')).toBe(true);
  });

  it('carries a short alert inside the command: devices play it without downloading', async () => {
    const downloads: string[] = [];
    const count = (req: { url?: string }) => {
      if (req.url?.startsWith('/media/')) downloads.push(req.url);
    };
    server.app.server.on('request', count);
    try {
      const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
        text: 'Khẩn cấp: nước lên nhanh, bà con di chuyển ngay.',
        zones: ['thon-c'],
        priority: 'emergency',
      });
      expect(post.status).toBe(201);
      const done = await waitFor('loa-c1 finished', async () => {
        const o = await occurrence(post.body.occurrenceId);
        return o.deliveries.every((d) => d.stage === 'finished') ? o : null;
      });
      expect(done.deliveries.map((d) => d.deviceId)).toEqual(['loa-c1']);
      expect(downloads).toEqual([]);
    } finally {
      server.app.server.off('request', count);
    }
  });

  it('"all" reaches every device, and a wrong device secret cannot download', async () => {
    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Xin chào bà con.',
      zones: 'all',
      priority: 'priority',
    });
    expect(post.status).toBe(201);
    const o = await waitFor('every delivery finished', async () => {
      const x = await occurrence(post.body.occurrenceId);
      return x.deliveries.every((d) => d.stage === 'finished') ? x : null;
    });
    expect(o.deliveries).toHaveLength(DEVICES.length);
    const denied = await fetch(`${server.url}/media/${o.sha256}.ogg`, {
      headers: { authorization: deviceAuthorizationHeader('loa-a1', 'not-the-secret') },
    });
    expect(denied.status).toBe(401);
  });
});

describe('broadcast at a set time', () => {
  it('starts on every device within 100 ms of `at` by the device clock', async () => {
    const at = new Date(Date.now() + 3000);
    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo lịch tiêm phòng.',
      zones: 'all',
      at: at.toISOString(),
    });
    expect(post.status).toBe(201);
    const id = post.body.occurrenceId;
    await waitFor('every device ready before the start', async () => {
      const o = await occurrence(id);
      return o.deliveries.every((d) => d.stage === 'ready');
    });
    expect(Date.now()).toBeLessThan(at.getTime());

    const o = await waitFor(
      'every delivery finished',
      async () => {
        const x = await occurrence(id);
        return x.deliveries.every((d) => d.stage === 'finished') ? x : null;
      },
      20_000,
    );
    expect(o.startAt).toBe(at.toISOString());
    const started = await startedAcks(id);
    expect(started).toHaveLength(DEVICES.length);
    console.info(`start offsets vs at (ms): ${started.map((s) => `${s.device_id}=${s.at - at.getTime()}`).join(' ')}`);
    for (const s of started) {
      expect(Math.abs(s.at - at.getTime()), `${s.device_id} started ${s.at - at.getTime()} ms off`).toBeLessThanOrEqual(
        100,
      );
    }
  });
});

describe('inline audio on the wire', () => {
  it('goes as raw bytes to zones whose loudspeakers read framed commands, as base64 JSON to an older agent', async () => {
    // An agent from before framed commands: its "online" status does not say it reads them.
    expect((await server.api('POST', '/api/v1/zones', { name: 'Thôn D' })).status).toBe(201);
    const { secret } = await server.services.registry.createDevice({
      communeId: 'default',
      id: 'loa-old',
      name: 'Loa cũ',
      zones: ['thon-d'],
    });
    const old = await mqtt.connectAsync(server.mqttUrl, {
      clientId: 'loa-old',
      username: 'loa-old',
      password: secret,
      reconnectPeriod: 0,
    });
    const published: { topic: string; payload: string | Buffer }[] = [];
    const bus = server.services.bus;
    const publish = bus.publish.bind(bus);
    bus.publish = (topic, payload, options) => {
      published.push({ topic, payload });
      return publish(topic, payload, options);
    };
    try {
      const received: Buffer[] = [];
      old.on('message', (topic, payload) => {
        if (topic === topics.zoneCmd('thon-d')) received.push(payload);
      });
      await old.subscribeAsync({ [topics.zoneCmd('thon-d')]: { qos: 1 } });
      await old.publishAsync(topics.deviceStatus('loa-old'), JSON.stringify({ v: 1, state: 'online' }), {
        qos: 1,
        retain: true,
      });
      await waitFor('loa-old online', async () => (await server.services.registry.getDevice('loa-old'))?.online);

      const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
        text: 'Khẩn cấp: sạt lở đất, bà con tránh xa sườn đồi.',
        zones: ['thon-c', 'thon-d'],
        priority: 'emergency',
      });
      expect(post.status).toBe(201);
      const id = post.body.occurrenceId;
      // loa-c1, a simulated loudspeaker running the agent, plays what came framed.
      await waitFor('loa-c1 finished', async () => {
        const o = await occurrence(id);
        return o.deliveries.some((d) => d.deviceId === 'loa-c1' && d.stage === 'finished');
      });
      const sent = (zone: string) => published.find((p) => p.topic === topics.zoneCmd(zone))!.payload;
      const framed = sent('thon-c');
      expect(Buffer.isBuffer(framed) && framed.includes(0)).toBe(true);
      const decoded = commandDecoder.decode(framed);
      expect(decoded.ok).toBe(true);
      const asset = (decoded as { value: PlayNowCommand }).value.assets[0] as FileAsset;
      expect(asset.data).toBeUndefined();
      const bytes = attachedBytes(asset)!;
      expect(bytes.subarray(0, 4).toString('ascii')).toBe('OggS');
      expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(asset.sha256);
      // Raw bytes: smaller than the same command with the audio as base64.
      const plain = sent('thon-d');
      expect(typeof plain).toBe('string');
      expect(framed.length).toBeLessThan(Buffer.byteLength(plain));

      // The older agent got JSON it can read, with the same audio in base64.
      const [message] = await waitFor('loa-old got the command', async () => (received.length ? received : null));
      const command = JSON.parse(message!.toString('utf8')) as PlayNowCommand;
      expect(command.occurrenceId).toBe(id);
      expect(Buffer.from((command.assets[0] as FileAsset).data!, 'base64').equals(bytes)).toBe(true);
    } finally {
      bus.publish = publish;
      await old.endAsync();
      await server.services.registry.revokeDevice('loa-old');
    }
  });
});
