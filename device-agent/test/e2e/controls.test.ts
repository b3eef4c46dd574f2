/**
 * The technician's remote controls through the real server to a real agent
 * (null player): name and map location, volume and amplifier answered by the
 * device's ack, the test tone played and followed like a broadcast, stopping
 * a broadcast mid-play, and the clear refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, rows, sql, startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { startNode, type TestNode } from './in-process';

let server: TestServer;
let node: TestNode | undefined;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await node?.agent.stop();
  await server?.close();
});

interface Device {
  id: string;
  name: string;
  location: { latitude: number; longitude: number } | null;
  telemetry: { volume: number; uptimeS: number } | null;
}
interface Outcome {
  result: string;
  detail: string | null;
}
const stageOf = async (occurrenceId: string) =>
  (
    await row<{ stage: string }>(
      server,
      sql`SELECT stage FROM deliveries WHERE occurrence_id = ${occurrenceId} AND device_id = 'ctl-1'`,
    )
  )?.stage;

describe('device controls', () => {
  it('names and places a loudspeaker, sets volume and amplifier, plays the test tone, stops it', async () => {
    node = await startNode(server, 'ctl-1', { zone: 'thon-c', config: { telemetryIntervalMs: 1_000 } });
    await waitFor('node online', async () => (await server.services.registry.getDevice('ctl-1'))?.online, 15_000);

    const placed = await server.api<Device>('PATCH', '/api/v1/devices/ctl-1', {
      name: 'Loa cổng chợ',
      location: { latitude: 21.0285, longitude: 105.8542 },
    });
    expect(placed.status).toBe(200);
    expect(placed.body).toMatchObject({ name: 'Loa cổng chợ', location: { latitude: 21.0285, longitude: 105.8542 } });
    const bad = await server.api<{ field: string }>('PATCH', '/api/v1/devices/ctl-1', {
      location: { latitude: 91, longitude: 0 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('location.latitude');
    expect((await server.api('PATCH', '/api/v1/devices/ctl-1', {})).status).toBe(400);
    expect((await server.api('PATCH', '/api/v1/devices/nobody', { name: 'x' })).status).toBe(404);

    // Volume and amplifier: the answer is the device's own ack.
    const volume = await server.api<Outcome>('POST', '/api/v1/devices/ctl-1/volume', { level: 35 });
    expect(volume.status).toBe(200);
    expect(volume.body).toMatchObject({ result: 'finished' });
    expect(volume.body.detail).toMatch(/^volume 35/);
    const amp = await server.api<Outcome>('POST', '/api/v1/devices/ctl-1/amp', { on: true });
    expect(amp.body).toMatchObject({ result: 'finished' });
    expect(amp.body.detail).toMatch(/^amplifier on/);
    const tooLoud = await server.api<{ field: string }>('POST', '/api/v1/devices/ctl-1/volume', { level: 101 });
    expect(tooLoud.status).toBe(400);
    expect(tooLoud.body.field).toBe('level');
    // Telemetry (every second here) shows the new volume in the device list.
    await waitFor('telemetry with the new volume', async () => {
      const list = await server.api<Device[]>('GET', '/api/v1/devices');
      return list.body.find((d) => d.id === 'ctl-1')?.telemetry?.volume === 35;
    });

    // The test tone plays at once and ends finished, like a broadcast.
    const tone = await server.api<{ occurrenceId: string }>('POST', '/api/v1/devices/ctl-1/test-tone');
    expect(tone.status).toBe(202);
    await waitFor('tone finished', async () => (await stageOf(tone.body.occurrenceId)) === 'finished', 15_000);
    const played = node.plays().find((l) => l.occurrenceId === tone.body.occurrenceId)!;
    expect(played.endedAt - played.startedAt).toBeGreaterThanOrEqual(2900);
    const media = await row<{ duration_ms: number }>(
      server,
      sql`SELECT duration_ms FROM media WHERE sha256 = ${played.sha256}`,
    );
    expect(media?.duration_ms).toBe(3000);

    // Stop: the second tone is cut while it plays, acked preempted; stopping again is refused.
    const second = await server.api<{ occurrenceId: string }>('POST', '/api/v1/devices/ctl-1/test-tone');
    await waitFor('second tone started', async () => (await stageOf(second.body.occurrenceId)) === 'started', 15_000);
    const stop = await server.api<{ devices: string[] }>(
      'POST',
      `/api/v1/occurrences/${second.body.occurrenceId}/stop`,
    );
    expect(stop.status).toBe(202);
    expect(stop.body.devices).toEqual(['ctl-1']);
    await waitFor(
      'second tone preempted',
      async () => (await stageOf(second.body.occurrenceId)) === 'preempted',
      10_000,
    );
    const cut = node.plays().find((l) => l.occurrenceId === second.body.occurrenceId)!;
    expect(cut.interrupted).toBe(true);
    expect(cut.endedAt - cut.startedAt).toBeLessThan(2900);
    expect((await server.api('POST', `/api/v1/occurrences/${second.body.occurrenceId}/stop`)).status).toBe(409);
    expect((await server.api('POST', '/api/v1/occurrences/occ-none/stop')).status).toBe(404);

    const audit = await rows<{ action: string }>(server, sql`SELECT action FROM audit_log WHERE target = 'ctl-1'`);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['device.update', 'device.volume', 'device.amp', 'device.test-tone']),
    );

    // An offline device: the command waits in the broker ("sent"); a revoked one is refused.
    await node.agent.stop();
    await waitFor(
      'node offline',
      async () => (await server.services.registry.getDevice('ctl-1'))?.online === false,
      15_000,
    );
    const offline = await server.api<Outcome>('POST', '/api/v1/devices/ctl-1/volume', { level: 50 });
    expect(offline.body).toMatchObject({ result: 'sent', detail: null });
    expect((await server.api('POST', '/api/v1/devices/ctl-1/revoke')).status).toBe(200);
    expect((await server.api('POST', '/api/v1/devices/ctl-1/amp', { on: false })).status).toBe(409);
    expect((await server.api('POST', '/api/v1/devices/nobody/test-tone')).status).toBe(404);
  }, 60_000);
});
