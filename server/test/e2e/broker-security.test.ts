/**
 * The embedded broker's door: per-device credentials, own-topics-only, and
 * garbage that is logged and ignored without hurting the server.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { row, signInProvince, sql, startTestServer, waitFor, type TestServer } from '../helpers';

let server: TestServer;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.services.registry.createZone('Thôn 1', 'default', 'thon-1');
  await server.services.registry.createZone('Thôn 2', 'default', 'thon-2');
  for (const [id, zone] of [
    ['dev-1', 'thon-1'],
    ['dev-2', 'thon-2'],
  ] as const) {
    secrets.set(id, (await server.services.registry.createDevice({ communeId: 'default', id, zones: [zone] })).secret);
  }
});
afterEach(() => {
  for (const c of clients.splice(0)) c.end(true);
});
afterAll(async () => {
  await server?.close();
});

function connect(username: string, password: string, clientId = username): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(server.mqttUrl, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 3000 });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (err) => reject(err));
  });
}

describe('device authentication', () => {
  it('accepts a device with its own secret, over TCP and over WebSocket', async () => {
    await expect(connect('dev-1', secrets.get('dev-1')!)).resolves.toBeDefined();
    const ws = await new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`${server.url.replace('http', 'ws')}/mqtt`, {
        clientId: 'dev-2',
        username: 'dev-2',
        password: secrets.get('dev-2')!,
        reconnectPeriod: 0,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    expect(ws.connected).toBe(true);
  });

  it.each([
    ['wrong secret', 'dev-1', 'nope', 'dev-1'],
    ["another device's secret", 'dev-1', 'dev-2', 'dev-1'],
    ['unknown device', 'ghost', 'x', 'ghost'],
    ['client id not the device id', 'dev-1', 'dev-1', 'someone-else'],
  ])('refuses %s', async (_case, username, password, clientId) => {
    const pw = secrets.get(password) ?? password;
    await expect(connect(username, pw, clientId)).rejects.toThrow(
      /Bad username or password|Identifier rejected|Not authorized/,
    );
  });
});

describe('topic access', () => {
  it("refuses to subscribe to another device's plan or another zone's commands", async () => {
    const c = await connect('dev-1', secrets.get('dev-1')!);
    const outcome = async (topic: string) =>
      c.subscribeAsync(topic).then(
        (granted) => granted[0]?.qos,
        (err: Error) => (/Subscribe error/.test(err.message) ? 'refused' : err.message),
      );
    expect(await outcome(topics.devicePlan('dev-1'))).toBe(0);
    expect(await outcome(topics.deviceCmd('dev-1'))).toBe(0);
    expect(await outcome(topics.zoneCmd('thon-1'))).toBe(0);
    expect(await outcome(topics.devicePlan('dev-2'))).toBe('refused');
    expect(await outcome(topics.zoneCmd('thon-2'))).toBe('refused');
    expect(await outcome('loaxa/v1/dev/+/plan')).toBe('refused');
    expect(c.connected).toBe(true);

    // And nothing published there reaches it. A marker on its own command topic, published
    // after the forbidden ones, goes down the same connection behind anything they could have
    // sent: once the marker is in, a leak would have been seen.
    const received: string[] = [];
    const marker = new Promise<void>((resolve) => {
      c.on('message', (topic, payload) => {
        received.push(topic);
        if (topic === topics.deviceCmd('dev-1') && payload.toString() === '{"marker":true}') resolve();
      });
    });
    await server.services.bus.publish(topics.devicePlan('dev-2'), '{}', { qos: 1 });
    await server.services.bus.publish(topics.zoneCmd('thon-2'), '{}', { qos: 1 });
    await server.services.bus.publish(topics.deviceCmd('dev-1'), '{"marker":true}', { qos: 1 });
    await marker;
    expect(received.filter((t) => t !== topics.devicePlan('dev-1') && t !== topics.deviceCmd('dev-1'))).toEqual([]);
  });

  it("a device cannot put an ack in another device's name", async () => {
    const spy = await connect('dev-2', secrets.get('dev-2')!);
    const c = await connect('dev-1', secrets.get('dev-1')!);
    c.publish(topics.deviceAck('dev-2'), JSON.stringify({ v: 1, commandId: 'forged', stage: 'finished', at: 1 }), {
      qos: 1,
    });
    await waitFor('the offending client to be disconnected', () => !c.connected || c.disconnecting, 5000);
    const forged = await row(server, sql`SELECT * FROM acks WHERE ref_id = 'forged'`);
    expect(forged).toBeUndefined();
    expect(spy.connected).toBe(true);
  });

  it('ignores garbage and keeps working', async () => {
    const c = await connect('dev-1', secrets.get('dev-1')!);
    for (const junk of [
      'not json',
      '{"v":2}',
      JSON.stringify({ v: 1, stage: 'finished', at: 1 }),
      'x'.repeat(10_000),
    ]) {
      await c.publishAsync(topics.deviceAck('dev-1'), junk, { qos: 1 });
    }
    await c.publishAsync(topics.deviceStatus('dev-1'), 'garbage', { qos: 1 });
    await c.publishAsync(
      topics.deviceAck('dev-1'),
      JSON.stringify({ v: 1, commandId: 'real-one', stage: 'finished', at: Date.now() }),
      { qos: 1 },
    );
    await waitFor('the valid ack to be stored', () =>
      row(server, sql`SELECT 1 AS one FROM acks WHERE ref_id = 'real-one'`),
    );
    const stored = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM acks WHERE device_id = ${'dev-1'}`,
    );
    expect(Number(stored?.n)).toBe(1);
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });

  it('disconnects a flooding device before acknowledging its excess, and keeps serving others', async () => {
    const other = await connect('dev-2', secrets.get('dev-2')!);
    const flooder = await connect('dev-1', secrets.get('dev-1')!);
    const junkAck = JSON.stringify({ v: 1, commandId: 'flood', stage: 'finished', at: Date.now() });
    for (let i = 0; i < 3000 && flooder.connected; i++) flooder.publish(topics.deviceAck('dev-1'), junkAck, { qos: 0 });
    await waitFor('the flooder to be disconnected', () => !flooder.connected, 10_000);
    expect(other.connected).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/loaxa_mqtt_rejected_total\{kind="flood"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('marks a device online on its status and offline when its connection drops', async () => {
    const c = await connect('dev-2', secrets.get('dev-2')!);
    await c.publishAsync(topics.deviceStatus('dev-2'), JSON.stringify({ v: 1, state: 'online', agentVersion: 't' }), {
      qos: 1,
      retain: true,
    });
    await waitFor('online', async () => (await server.services.registry.getDevice('dev-2'))?.online);
    c.stream.destroy();
    await waitFor('offline', async () => (await server.services.registry.getDevice('dev-2'))?.online === false);
  });
});

describe('communes', () => {
  it("a device hears only its own commune's zones: another commune's zone topic is refused", async () => {
    const province = await signInProvince(server);
    const created = await province<{ id: string }>('POST', '/api/v1/communes', { name: 'Xã Bên Kia' });
    expect(created.status).toBe(201);
    const other = created.body.id;
    const { registry } = server.services;
    // The same zone name as the default commune's "Thôn 1": a different zone, its own topic.
    await registry.createZone('Thôn 1', other, 'bk-thon-1');
    secrets.set(
      'dev-bk',
      (await registry.createDevice({ communeId: other, id: 'dev-bk', zones: ['bk-thon-1'] })).secret,
    );
    // The registry keeps a device's zones in its commune, so no ACL can ever grant the other's.
    await expect(registry.setDeviceZones('dev-1', ['thon-1', 'bk-thon-1'], { communeId: null })).rejects.toThrow(
      /unknown zone.*bk-thon-1/,
    );

    const outcome = async (c: MqttClient, topic: string) =>
      c.subscribeAsync(topic).then(
        (granted) => granted[0]?.qos,
        (err: Error) => (/Subscribe error/.test(err.message) ? 'refused' : err.message),
      );
    const mine = await connect('dev-1', secrets.get('dev-1')!);
    expect(await outcome(mine, topics.zoneCmd('thon-1'))).toBe(0);
    expect(await outcome(mine, topics.zoneCmd('bk-thon-1'))).toBe('refused');
    const theirs = await connect('dev-bk', secrets.get('dev-bk')!);
    expect(await outcome(theirs, topics.zoneCmd('bk-thon-1'))).toBe(0);
    expect(await outcome(theirs, topics.zoneCmd('thon-1'))).toBe('refused');
    expect(await outcome(theirs, topics.devicePlan('dev-1'))).toBe('refused');
  });
});
