/**
 * Fuzz: 10,000 malformed inputs — MQTT payloads from authenticated devices and
 * HTTP bodies to every write route. The server stays up, answers no 5xx, and
 * stores nothing from them. Seeded, so a failure can be replayed.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { row, sql, startTestServer, type TestServer } from '../helpers';

const MQTT_CASES = Number(process.env.FUZZ_MQTT ?? 6000);
const HTTP_CASES = 4000;
const DEVICES = 8; // each stays under the flood guard's burst

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20261123);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const junkValues = [null, true, -1, 1e308, 'x'.repeat(3000), '', [], {}, [[[[]]]], 'đ\u0000\uFFFF', NaN, '<script>'];

/** Always invalid: each generator breaks at least one rule of the schema. */
const badPayloads: (() => string | Buffer)[] = [
  () => Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256))),
  () => '{"v":1,"stage":',
  () => JSON.stringify({ v: 1, stage: 'finished', at: Date.now() }), // neither id
  () => JSON.stringify({ v: 1, occurrenceId: 'o', commandId: 'c', stage: 'ready', at: 1 }), // both ids
  () => JSON.stringify({ v: 2, occurrenceId: 'o', stage: 'ready', at: 1 }),
  () => JSON.stringify({ v: 1, occurrenceId: 'o', stage: pick(['done', 'READY', '', 7]), at: 1 }),
  () => JSON.stringify({ v: 1, occurrenceId: pick(['', 'a b', 'x'.repeat(81), 5]), stage: 'ready', at: 1 }),
  () => JSON.stringify({ v: 1, occurrenceId: 'o', stage: 'ready', at: pick([-5, 'now', 1.5, null]) }),
  () =>
    JSON.stringify({
      v: 1,
      occurrenceId: 'o',
      stage: 'ready',
      at: 1,
      [pick(['extra', '__proto__', 'x'])]: pick(junkValues),
    }),
  () => JSON.stringify(pick(junkValues)),
  () => JSON.stringify({ v: 1, occurrenceId: 'o', stage: 'ready', at: 1, detail: 'x'.repeat(600) }),
  () => 'x'.repeat(5000),
];
const badStatus = () =>
  pick([JSON.stringify({ v: 1, state: 'maybe' }), '{', JSON.stringify({ state: 'online' }), 'online']);
const badTelemetry = () =>
  pick([
    JSON.stringify({ v: 1, at: 1, volume: 101, playing: null, cacheBytes: 0, uptimeS: 0 }),
    '[]',
    JSON.stringify({ v: 1 }),
  ]);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.services.registry.createZone('Thôn Fuzz', 'default', 'thon-fuzz');
});
afterAll(async () => {
  await server?.close();
});

describe('fuzz', () => {
  it(`${MQTT_CASES} malformed MQTT payloads: logged and ignored`, async () => {
    const clients = await Promise.all(
      Array.from({ length: DEVICES }, async (_, i) => {
        const id = `fuzz-${i}`;
        const { secret } = await server.services.registry.createDevice({
          communeId: 'default',
          id,
          zones: ['thon-fuzz'],
        });
        return mqtt.connectAsync(server.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
      }),
    );
    const sends: Promise<unknown>[] = [];
    for (let n = 0; n < MQTT_CASES; n++) {
      const c = clients[n % DEVICES]!;
      const id = `fuzz-${n % DEVICES}`;
      const kind = random();
      const [topic, payload] =
        kind < 0.8
          ? [topics.deviceAck(id), pick(badPayloads)()]
          : kind < 0.9
            ? [topics.deviceStatus(id), badStatus()]
            : [topics.deviceTelemetry(id), badTelemetry()];
      sends.push(c.publishAsync(topic, payload, { qos: 1 }));
    }
    await Promise.all(sends);
    expect(clients.every((c) => c.connected)).toBe(true);
    await Promise.all(clients.map((c) => c.endAsync()));

    const stored = await row<{ n: number | string }>(server, sql`SELECT COUNT(*) AS n FROM acks`);
    expect(Number(stored?.n)).toBe(0);
    expect(server.services.telemetry.size).toBe(0);
    expect((await server.services.registry.listDevices()).every((d) => !d.online)).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const rejected = [...metrics.matchAll(/loaxa_mqtt_rejected_total\{kind="(ack|status|telemetry)"\} (\d+)/g)].reduce(
      (sum, m) => sum + Number(m[2]),
      0,
    );
    expect(rejected).toBe(MQTT_CASES);
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });

  it(`${HTTP_CASES} malformed HTTP bodies: 4xx with a message, never 5xx`, async () => {
    const routes = [
      ['POST', '/api/v1/broadcasts'],
      ['POST', '/api/v1/zones'],
      ['POST', '/api/v1/devices'],
      ['POST', '/api/v1/users'],
      ['PUT', '/api/v1/session/password'],
      ['POST', '/api/v1/session'],
    ] as const;
    const bodies: (() => string)[] = [
      () => '{"text": ',
      () => JSON.stringify(pick(junkValues)),
      () => JSON.stringify({ text: pick(junkValues), zones: pick(junkValues), priority: pick(junkValues) }),
      () => JSON.stringify({ name: pick(junkValues), id: pick(junkValues) }),
      () => JSON.stringify({ username: pick(junkValues), password: pick(junkValues), role: pick(junkValues) }),
      () => JSON.stringify({ text: 'x', zones: 'all', at: pick(['yesterday', '2026-13-45T99:00:00Z', 5]) }),
      () => JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: {} } }),
      () => '\uFEFF{"a":1}',
      () => 'x'.repeat(Math.floor(random() * 2000)),
    ];
    const statuses = new Map<number, number>();
    let withoutMessage = 0;
    for (let n = 0; n < HTTP_CASES; n += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const [method, path] = pick(routes);
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: {
              cookie: server.cookie,
              'content-type': pick(['application/json', 'application/json', 'text/plain']),
            },
            body: pick(bodies)(),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const body = (await res.json().catch(() => null)) as { message?: string; stack?: unknown } | null;
          if (!body?.message || body.stack) withoutMessage++;
        }),
      );
    }
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500).reduce((sum, [, c]) => sum + c, 0);
    console.info(`HTTP fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(fiveHundreds).toBe(0);
    expect(withoutMessage).toBe(0);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    expect(await server.services.registry.listZones()).toHaveLength(1);
    expect((await server.services.registry.listDevices()).filter((d) => !d.id.startsWith('fuzz-'))).toHaveLength(0);
  });
});
