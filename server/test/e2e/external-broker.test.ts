/**
 * The server against Debian's mosquitto (MQTT_URL) instead of its embedded
 * Aedes: the server writes mosquitto's password and ACL files from its
 * registry, simulated loudspeakers connect through mosquitto with their own
 * credentials, a zone broadcast reaches them, and mosquitto enforces the same
 * access rules as the embedded broker (own topics only, revocation).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, topics, type AckPayload, type CommandPayload } from '@loaxa/protocol';
import { startSimFleet, type SimFleet } from '@loaxa/firmware-sim';
import { requireTool } from '../../../scripts/test/require-tool';
import { rows, sql, startTestServer, waitFor, type TestServer } from '../helpers';
import { MOSQUITTO_BIN, startMosquitto, type TestMosquitto } from '../mosquitto';

const hasMosquitto = requireTool({
  tool: 'mosquitto',
  found: MOSQUITTO_BIN,
  install: 'apt-get install mosquitto',
  skips: 'the server with an external mosquitto',
});

let broker: TestMosquitto;
let server: TestServer;
let fleet: SimFleet;
const secrets = new Map<string, string>();
const agentAcks: { deviceId: string; ack: AckPayload }[] = [];
const clients: MqttClient[] = [];
const THON_1 = ['m-1', 'm-2', 'm-3'];
const THON_2 = ['m-4'];

function connect(username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(broker.url, {
      clientId: username,
      username,
      password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (err) => reject(err));
  });
}

/** Code-point order, whatever the database's collation. */
const byDevice = (a: { device_id: string }, b: { device_id: string }) =>
  a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0;

const ackRows = async (refId: string) =>
  (
    await rows<{ device_id: string; stage: string; n: number | string }>(
      server,
      sql`SELECT device_id, stage, COUNT(*) AS n FROM acks WHERE ref_id = ${refId}
          GROUP BY device_id, stage ORDER BY device_id, stage`,
    )
  ).map((r) => ({ device_id: r.device_id, stage: r.stage, n: Number(r.n) }));

const deliveries = async (occurrenceId: string) =>
  (
    await rows<{ device_id: string; stage: string }>(
      server,
      sql`SELECT device_id, stage FROM deliveries WHERE occurrence_id = ${occurrenceId} ORDER BY device_id`,
    )
  ).sort(byDevice);

async function broadcastTo(zones: string[], text: string): Promise<string> {
  const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
    text,
    zones,
    priority: 'emergency',
  });
  expect(res.status).toBe(201);
  return res.body.occurrenceId;
}

describe.skipIf(!hasMosquitto)('server with an external mosquitto (MQTT_URL)', () => {
  beforeAll(async () => {
    broker = await startMosquitto();
    server = await startTestServer(broker.serverEnv);
    for (const name of ['Thôn 1', 'Thôn 2'])
      expect((await server.api('POST', '/api/v1/zones', { name })).status).toBe(201);
    const zones = (await server.api<{ id: string; name: string }[]>('GET', '/api/v1/zones')).body;
    const zoneId = (name: string) => zones.find((z) => z.name === name)!.id;
    for (const [ids, zone] of [
      [THON_1, zoneId('Thôn 1')],
      [[...THON_2, 'm-spy'], zoneId('Thôn 2')],
    ] as const) {
      for (const id of ids) {
        const res = await server.api<{ agentConfig: { secret: string; mqttUrl: string } }>('POST', '/api/v1/devices', {
          id,
          zones: [zone],
        });
        expect(res.status).toBe(201);
        // Provisioned agents are pointed at the external broker, not at the server.
        expect(res.body.agentConfig.mqttUrl).toBe(broker.url);
        secrets.set(id, res.body.agentConfig.secret);
      }
    }
    expect(await server.brokerSettled()).toBe(true);
    fleet = await startSimFleet({
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      devices: [...THON_1, ...THON_2].map((deviceId) => ({ deviceId, secret: secrets.get(deviceId)! })),
      backoff: { baseMs: 200, maxMs: 1_000 },
    });
    for (const agent of fleet.agents) agent.on('ack', (ack) => agentAcks.push({ deviceId: agent.deviceId, ack }));
    await fleet.waitOnline(15_000);
    await waitFor('the server to see every device online through the retained status', async () => {
      const online = new Set((await server.services.registry.listDevices()).filter((d) => d.online).map((d) => d.id));
      return [...THON_1, ...THON_2].every((id) => online.has(id));
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fleet?.stop();
    await server?.close();
    await broker?.close();
  });

  it('writes mosquitto files: hashed secrets, the server user, per-device zone rules', async () => {
    const fs = await import('node:fs');
    const passwd = fs.readFileSync(broker.serverEnv.MOSQUITTO_PASSWORD_FILE!, 'utf8');
    expect(passwd).toMatch(/^loaxa-server:\$7\$/m);
    expect(passwd).toMatch(/^m-1:\$7\$101\$/m);
    for (const secret of secrets.values()) expect(passwd).not.toContain(secret);
    const acl = fs.readFileSync(broker.serverEnv.MOSQUITTO_ACL_FILE!, 'utf8');
    expect(acl).toContain(`pattern write ${topics.deviceAck('x').replace('/x/', '/%u/')}`);
    expect(acl).toContain(`pattern read ${topics.devicePlan('x').replace('/x/', '/%u/')}`);
    expect(acl).toMatch(/user m-1\ntopic read loaxa\/v1\/zone\/thon-1\/cmd/);
  });

  it('runs a broadcast to a zone through mosquitto: every stage acked once by every device there', async () => {
    const occurrenceId = await broadcastTo(['thon-1'], 'Thông báo qua máy chủ MQTT ngoài.');
    await waitFor(
      'thôn 1 to finish',
      async () => (await deliveries(occurrenceId)).every((d) => d.stage === 'finished'),
      20_000,
    );
    expect(await deliveries(occurrenceId)).toEqual(THON_1.map((device_id) => ({ device_id, stage: 'finished' })));
    const acked = await ackRows(occurrenceId);
    for (const id of THON_1) {
      expect(acked.filter((r) => r.device_id === id).map((r) => [r.stage, r.n])).toEqual(
        expect.arrayContaining([
          ['received', 1],
          ['ready', 1],
          ['started', 1],
          ['finished', 1],
        ]),
      );
      // ... and each agent sent each stage once.
      const stages = agentAcks.filter((a) => a.deviceId === id && a.ack.occurrenceId === occurrenceId);
      expect(stages.map((a) => a.ack.stage)).toEqual(['received', 'ready', 'started', 'finished']);
    }
    // Thôn 2's loudspeaker heard nothing of it.
    expect(acked.some((r) => r.device_id === 'm-4')).toBe(false);
    expect(agentAcks.some((a) => a.deviceId === 'm-4' && a.ack.occurrenceId === occurrenceId)).toBe(false);
  });

  it("keeps a device out of other devices' topics and off zone command topics", async () => {
    const spy = await connect('m-spy', secrets.get('m-spy')!);
    const heard: string[] = [];
    spy.on('message', (topic) => heard.push(topic));
    await spy.subscribeAsync({
      [topics.devicePlan('m-1')]: { qos: 1 },
      [topics.deviceCmd('m-1')]: { qos: 1 },
      [topics.deviceAck('m-1')]: { qos: 1 },
      [topics.zoneCmd('thon-1')]: { qos: 1 },
      'loaxa/v1/dev/+/plan': { qos: 1 },
      '#': { qos: 1 },
    });
    // A real broadcast to thôn 1 and m-1's retained plan must not reach the spy.
    const occurrenceId = await broadcastTo(['thon-1'], 'Bản tin thứ hai cho thôn 1.');
    await waitFor(
      'thôn 1 to finish',
      async () => (await deliveries(occurrenceId)).every((d) => d.stage === 'finished'),
      20_000,
    );
    // A forged play-now on thôn 1's command topic, and a forged ack in m-1's name.
    const now = Date.now();
    const forged: CommandPayload = {
      v: 1,
      commandId: 'cmd-forged',
      issuedAt: now,
      expiresAt: now + 60_000,
      action: 'play-now',
      occurrenceId: 'occ-forged',
      priority: 'emergency',
      assets: [],
    };
    // Mosquitto acknowledges a refused QoS 1 publish and drops it (MQTT 3.1.1 has no refusal code).
    await spy.publishAsync(topics.zoneCmd('thon-1'), encode(forged), { qos: 1 });
    await spy.publishAsync(
      topics.deviceAck('m-1'),
      encode({ v: 1, occurrenceId: 'occ-forged', stage: 'finished', at: now }),
      { qos: 1 },
    );
    // The spy's own topics do pass: its plan arrives, so the silence above is the ACL, not a dead client.
    await server.services.planner.publishPlan('m-spy');
    await waitFor('the spy to get its own plan', () => heard.includes(topics.devicePlan('m-spy')));
    await new Promise((r) => setTimeout(r, 500));
    const foreign = heard.filter((t) => !t.startsWith('loaxa/v1/dev/m-spy/') && t !== topics.zoneCmd('thon-2'));
    expect(foreign).toEqual([]);
    expect(agentAcks.some((a) => a.ack.commandId === 'cmd-forged' || a.ack.occurrenceId === 'occ-forged')).toBe(false);
    expect(await ackRows('occ-forged')).toEqual([]);
    expect(await ackRows('cmd-forged')).toEqual([]);
  });

  it('follows a zone move: the ACL is rewritten and the moved device hears its new zone', async () => {
    const res = await server.api('PUT', '/api/v1/devices/m-3/zones', { zones: ['thon-2'] });
    expect(res.status).toBe(200);
    expect(await server.brokerSettled()).toBe(true);
    const m3 = fleet.agents.find((a) => a.deviceId === 'm-3')!;
    await waitFor('m-3 to follow thôn 2', () => m3.snapshot().zones.includes('thon-2'));
    const occurrenceId = await broadcastTo(['thon-2'], 'Thông báo cho thôn 2.');
    expect((await deliveries(occurrenceId)).map((d) => d.device_id)).toEqual(['m-3', 'm-4', 'm-spy']);
    const finished = (all: { device_id: string; stage: string }[], id: string) =>
      all.find((d) => d.device_id === id)?.stage === 'finished';
    await waitFor(
      'm-3 and m-4 to finish',
      async () => {
        const all = await deliveries(occurrenceId);
        return finished(all, 'm-3') && finished(all, 'm-4');
      },
      20_000,
    );
    expect((await ackRows(occurrenceId)).filter((r) => r.device_id === 'm-3' && r.stage === 'started')).toEqual([
      { device_id: 'm-3', stage: 'started', n: 1 },
    ]);
  });

  it('refuses a revoked device and drops its live connection', async () => {
    const m2 = fleet.agents.find((a) => a.deviceId === 'm-2')!;
    expect(m2.online).toBe(true);
    const dropped = new Promise<void>((resolve) => m2.once('offline', () => resolve()));
    expect((await server.api('POST', '/api/v1/devices/m-2/revoke')).status).toBe(200);
    expect(await server.brokerSettled()).toBe(true);
    await dropped;
    await expect(connect('m-2', secrets.get('m-2')!)).rejects.toThrow(/Not authorized|Bad username or password/);
    // The others are untouched.
    expect(fleet.agents.filter((a) => a.deviceId !== 'm-2').every((a) => a.online)).toBe(true);
  });
});
