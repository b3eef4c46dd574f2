/** /metrics reflects real traffic: devices online, MQTT messages, rejected garbage, acks, latency. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startSimFleet } from '@loaxa/firmware-sim';
import { topics } from '@loaxa/protocol';
import { startTestServer, waitFor, type TestServer } from '../helpers';

let server: TestServer;
let fleet: Awaited<ReturnType<typeof startSimFleet>>;
const secrets: Record<string, string> = {};

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(name.length).trim()) : 0;
}

beforeAll(async () => {
  server = await startTestServer();
  await server.services.registry.createZone('Thôn 1', 'default', 'thon-1');
  for (const id of ['m-1', 'm-2'])
    secrets[id] = (await server.services.registry.createDevice({ communeId: 'default', id, zones: ['thon-1'] })).secret;
  fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices: ['m-1', 'm-2'].map((deviceId) => ({ deviceId, secret: secrets[deviceId]! })),
  });
  await fleet.waitOnline(10_000);
});
afterAll(async () => {
  await fleet?.stop();
  await server?.close();
});

describe('/metrics', () => {
  it('counts devices, messages, rejections, acks and broadcast latency', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(before, 'loaxa_devices{state="online"}')).toBe(2);
    expect(metric(before, 'loaxa_mqtt_connections')).toBe(2);

    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thử.',
      zones: 'all',
    });
    expect(post.status).toBe(201);
    await waitFor('finished', async () => {
      const o = await server.api<{ deliveries: { stage: string }[] }>(
        'GET',
        `/api/v1/occurrences/${post.body.occurrenceId}`,
      );
      return o.body.deliveries.every((d) => d.stage === 'finished');
    });

    const rogue = await mqtt.connectAsync(server.mqttUrl, {
      clientId: 'm-3',
      username: 'm-3',
      password: (await server.services.registry.createDevice({ communeId: 'default', id: 'm-3' })).secret,
      reconnectPeriod: 0,
    });
    await rogue.publishAsync(topics.deviceAck('m-3'), 'garbage', { qos: 1 });
    await rogue.endAsync();

    const after = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(after, 'loaxa_acks_total{stage="finished"}')).toBe(2);
    expect(metric(after, 'loaxa_mqtt_rejected_total{kind="ack"}')).toBe(1);
    // Per device its start stages (received, ready, started: one to three messages, as stages raised
    // together travel in one) and its finished one; and the rogue's.
    expect(metric(after, 'loaxa_mqtt_messages_total{kind="ack"}')).toBeGreaterThanOrEqual(2 * 2 + 1);
    expect(metric(after, 'loaxa_broadcast_start_latency_seconds_count{priority="normal"}')).toBe(2);
    expect(metric(after, 'loaxa_render_seconds_count{engine="espeak",cached="false"}')).toBe(1);
    expect(after).toMatch(/loaxa_process_resident_memory_bytes \d+/);
  });
});
