/**
 * NATS mode on a real 3-node cluster (Debian's nats-server): the per-device
 * authorization the server writes and reloads (broker/nats.ts), and the
 * server's own MQTT client moving to another node when its node is killed
 * (broker/nats-broker.ts). Inbound messages go through JetStream here too;
 * nats-inbound.cluster.test.ts (npm run test:cluster) tests those consumers on their own.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { connectNatsBroker, type NatsBroker, type NatsBrokerRegistry } from '../src/broker/nats-broker';
import {
  NatsAuthorization,
  natsLoginWorks,
  parseNatsAuthorization,
  writeInitialNatsAuthorization,
} from '../src/broker/nats';
import { waitFor } from './helpers';
import { requireNats, startNatsCluster, type TestNatsCluster } from './nats-cluster';

const hasNats = requireNats('the NATS broker tests');

const SERVER_USER = 'loaxa-server';
const SERVER_PASSWORD = crypto.randomBytes(16).toString('hex');
const logger = pino({ level: 'silent' });

/** The registry as the broker sees it: devices, their zones, revocation, and the observer calls. */
class FakeRegistry implements NatsBrokerRegistry {
  readonly devices = new Map<string, { zones: string[]; revoked: boolean }>();
  private readonly observers: Parameters<NatsBrokerRegistry['observe']>[0][] = [];
  listDevices() {
    return [...this.devices].map(([id, d]) => ({ id, ...d }));
  }
  observe(observer: Parameters<NatsBrokerRegistry['observe']>[0]) {
    this.observers.push(observer);
  }
  create(id: string, zones: string[]): string {
    const secret = crypto.randomBytes(32).toString('base64url');
    this.devices.set(id, { zones, revoked: false });
    for (const o of this.observers) o.deviceCreated?.(id, secret);
    return secret;
  }
  revoke(id: string): void {
    this.devices.get(id)!.revoked = true;
    for (const o of this.observers) o.deviceRevoked?.(id);
  }
}

/** A loudspeaker's connection: its id is its user name, a persistent session, QoS 1. */
function connectDevice(url: string, id: string, secret: string) {
  return mqtt.connectAsync(
    url,
    { clientId: id, username: id, password: secret, clean: false, reconnectPeriod: 0, connectTimeout: 5_000 },
    false, // a refused CONNECT rejects instead of retrying
  );
}

/** SUBACK return codes (mqtt.js rejects a SUBACK holding 0x80; its packet still says which). */
async function granted(client: mqtt.MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw err;
  }
}

describe.skipIf(!hasNats)('a NATS cluster as the broker (NATS_AUTH_FILE, NATS_PID_FILES)', () => {
  let dir: string;
  let authFile: string;
  let cluster: TestNatsCluster;
  let broker: NatsBroker;
  const registry = new FakeRegistry();
  const inbound: { topic: string; deviceId: string; text: string }[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-nats-auth-'));
    authFile = path.join(dir, 'loaxa-auth.conf');
    // What an operator writes before the nodes' first start (`loaxa nats-auth-init`): the server's own user.
    writeInitialNatsAuthorization(authFile, SERVER_USER, SERVER_PASSWORD);
    cluster = await startNatsCluster(3, {
      include: authFile,
      probe: { username: SERVER_USER, password: SERVER_PASSWORD },
    });
    broker = await connectNatsBroker({
      mqttUrls: cluster.nodes.map((n) => n.mqttUrl),
      natsUrls: cluster.nodes.map((n) => n.natsUrl),
      clientId: 'loaxa-test',
      username: SERVER_USER,
      password: SERVER_PASSWORD,
      authFile,
      pidFiles: cluster.nodes.map((n) => n.pidFile),
      registry,
      logger,
      ackWaitMs: 5_000,
    });
    broker.bus.onDeviceMessage((topic, payload, deviceId) => {
      inbound.push({ topic, deviceId, text: payload.toString() });
    });
  }, 120_000);

  afterAll(async () => {
    await broker?.bus.close();
    await cluster?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets a device use its own topics and its zones’, and no other device’s', async () => {
    const [n1, n2] = cluster.nodes as [TestNatsCluster['nodes'][0], TestNatsCluster['nodes'][0]];
    const secretA = registry.create('dev-a', ['thon-1']);
    registry.create('dev-b', ['thon-2']);
    expect(await broker.credentialsSettled()).toBe(true);
    expect(parseNatsAuthorization(fs.readFileSync(authFile, 'utf8')).get('dev-a')).toMatch(/^\$2b\$04\$/);

    const device = await connectDevice(n1.mqttUrl, 'dev-a', secretA);
    const got: { topic: string; text: string }[] = [];
    device.on('message', (topic, payload) => got.push({ topic, text: payload.toString() }));
    try {
      const own = await granted(device, [
        topics.devicePlan('dev-a'),
        topics.deviceCmd('dev-a'),
        topics.zoneCmd('thon-1'),
      ]);
      expect(own).toEqual([1, 1, 1]);
      // Another device's command topic and another zone's: SUBACK 0x80, the connection stays.
      const foreign = await granted(device, [topics.deviceCmd('dev-b'), topics.zoneCmd('thon-2')]);
      expect(foreign).toEqual([128, 128]);
      expect(device.connected).toBe(true);

      // The server (its client on whichever node) reaches the device's own and zone topics.
      await broker.bus.publish(topics.devicePlan('dev-a'), 'plan v1', { retain: true });
      await broker.bus.publish(topics.zoneCmd('thon-1'), 'zone command');
      await waitFor('the plan and the zone command', () => got.length >= 2);
      expect(got.map((m) => m.text).sort()).toEqual(['plan v1', 'zone command']);

      // Its own ack reaches the server through JetStream; one forged as dev-b's is PUBACKed and dropped.
      await device.publishAsync(topics.deviceAck('dev-b'), 'forged', { qos: 1 });
      await device.publishAsync(topics.deviceAck('dev-a'), 'own ack', { qos: 1 });
      await device.publishAsync(topics.deviceTelemetry('dev-a'), 'marker', { qos: 1 });
      await waitFor('the marker through JetStream', () => inbound.some((m) => m.text === 'marker'), 20_000);
      expect(inbound.find((m) => m.text === 'own ack')).toMatchObject({
        topic: topics.deviceAck('dev-a'),
        deviceId: 'dev-a',
      });
      expect(inbound.some((m) => m.text === 'forged' || m.deviceId === 'dev-b')).toBe(false);

      // A device user may not publish as the server would (no NATS protocol login), nor with a wrong secret.
      expect(await natsLoginWorks(n2.natsUrl, 'dev-a', secretA)).toBe(false);
      await expect(connectDevice(n2.mqttUrl, 'dev-a', 'not-the-secret')).rejects.toThrow();
    } finally {
      await device.endAsync(true);
    }
  }, 60_000);

  it('drops a revoked device once every node has reloaded, and admits a new one', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      TestNatsCluster['nodes'][0],
      TestNatsCluster['nodes'][0],
      TestNatsCluster['nodes'][0],
    ];
    const secretR = registry.create('dev-r', ['thon-1']);
    expect(await broker.credentialsSettled()).toBe(true);
    const device = await connectDevice(n2.mqttUrl, 'dev-r', secretR);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));

    registry.revoke('dev-r');
    broker.bus.disconnect('dev-r');
    // Confirmed: this generation's probe credential logs in on all three nodes.
    expect(await broker.credentialsSettled()).toBe(true);
    expect(parseNatsAuthorization(fs.readFileSync(authFile, 'utf8')).has('dev-r')).toBe(false);
    await closed; // the node dropped the live connection at reload
    for (const node of [n1, n2, n3]) await expect(connectDevice(node.mqttUrl, 'dev-r', secretR)).rejects.toThrow();

    const secretC = registry.create('dev-c', ['thon-2']);
    expect(await broker.credentialsSettled()).toBe(true);
    const fresh = await connectDevice(n3.mqttUrl, 'dev-c', secretC);
    try {
      expect(await granted(fresh, [topics.zoneCmd('thon-2'), topics.zoneCmd('thon-1')])).toEqual([1, 128]);
    } finally {
      await fresh.endAsync(true);
    }

    // A second server instance on the same file: it keeps what the first wrote (dev-c), and its
    // reload is not confirmed while a node it does not signal has not loaded the file.
    const other = new NatsAuthorization({
      file: authFile,
      pidFiles: [n1.pidFile, n2.pidFile],
      natsUrls: cluster.nodes.map((n) => n.natsUrl),
      serverUser: SERVER_USER,
      serverPassword: SERVER_PASSWORD,
      registry,
      logger,
      confirmTimeoutMs: 1_500,
    });
    other.zonesChanged();
    expect(await other.settled()).toBe(false);
    other.close();
    expect(parseNatsAuthorization(fs.readFileSync(authFile, 'utf8')).has('dev-c')).toBe(true);
    const again = await connectDevice(n1.mqttUrl, 'dev-c', secretC);
    await again.endAsync(true);
  }, 60_000);

  it('moves the server’s MQTT client to another node when its node is killed', async () => {
    const before = broker.mqttNode();
    const at = cluster.nodes.findIndex((n) => n.mqttUrl === before);
    expect(at).toBeGreaterThanOrEqual(0);
    // The loudspeaker sits on a node that stays.
    const deviceNode = cluster.nodes[(at + 1) % 3]!;
    const secret = registry.create('dev-f', ['thon-1']);
    expect(await broker.credentialsSettled()).toBe(true);
    const device = await connectDevice(deviceNode.mqttUrl, 'dev-f', secret);
    const got: string[] = [];
    device.on('message', (_t, payload) => got.push(payload.toString()));
    try {
      await device.subscribeAsync(topics.deviceCmd('dev-f'), { qos: 1 });
      const killedAt = Date.now();
      await cluster.stop(at); // kill -9
      // Sent while the server's client is between nodes: mqtt.js holds it and sends it on the next node.
      await broker.bus.publish(topics.deviceCmd('dev-f'), 'after the kill');
      const after = await waitFor('the server on another node', () => broker.mqttNode(), 30_000);
      expect(after).not.toBe(before);
      await waitFor('the command on the loudspeaker', () => got.includes('after the kill'), 30_000);
      console.log(
        `NATS broker: server client moved ${before} → ${after}, command delivered ${Date.now() - killedAt} ms after kill -9`,
      );
      // JetStream still takes the loudspeaker's acks (its R3 consumers elect new leaders).
      await device.publishAsync(topics.deviceAck('dev-f'), 'ack after the kill', { qos: 1 });
      await waitFor('the ack through JetStream', () => inbound.some((m) => m.text === 'ack after the kill'), 40_000);
      console.log(`NATS broker: ack through JetStream ${Date.now() - killedAt} ms after kill -9`);
    } finally {
      await device.endAsync(true);
    }
  }, 100_000);
});
