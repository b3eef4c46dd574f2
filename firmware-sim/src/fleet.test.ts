import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics, type AckPayload, type PlanPayload } from '@loaxa/protocol';
import {
  makeAudio,
  ServerSide,
  startMediaServer,
  startTestBroker,
  type Received,
  type TestBroker,
  type TestMediaServer,
} from '../../device-agent/test/fixtures';
import { startSimFleet, type SimFleet } from './fleet';

const devices = [
  { deviceId: 'sim-1', secret: 'one' },
  { deviceId: 'sim-2', secret: 'two', clockSkewMs: 1_000 },
  { deviceId: 'sim-3', secret: 'three', clockSkewMs: -700 },
];
const credentials = new Map([
  ...devices.map((d) => [d.deviceId, d.secret] as const),
  ['loaxa-server', 'server-secret'],
]);
const audio = makeAudio(3_000);
const asset = {
  sha256: audio.sha256,
  url: `/media/${audio.sha256}.ogg`,
  bytes: audio.bytes.byteLength,
  durationMs: 150,
  format: 'ogg' as const,
};

let broker: TestBroker;
let media: TestMediaServer;
let server: ServerSide;
let fleet: SimFleet;

const ackOf = (m: Received) =>
  m.topic.endsWith('/ack') ? { device: m.topic.split('/')[3]!, ack: m.payload as AckPayload } : null;
const acks = () => server.messages.map(ackOf).filter((a) => a !== null);

beforeAll(async () => {
  broker = await startTestBroker(credentials);
  media = await startMediaServer(credentials);
  media.add(audio.sha256, audio.bytes);
  server = await ServerSide.connect(broker.url, 'loaxa-server', 'server-secret', [topics.allDevices('ack')]);
  for (const d of devices) {
    const plan: PlanPayload = {
      v: 1,
      planVersion: 1,
      generatedAt: Date.now(),
      horizonEnd: Date.now() + 60_000,
      zones: ['thon-3'],
      items: [],
    };
    await server.publish(topics.devicePlan(d.deviceId), plan, true);
  }
  fleet = await startSimFleet({ serverUrl: media.url, mqttUrl: broker.url, devices, batchSize: 2 });
});

afterAll(async () => {
  await fleet?.stop();
  await server?.close();
  await media?.close();
  await broker?.close();
});

describe('startSimFleet', () => {
  it('brings every simulated device online', async () => {
    await fleet.waitOnline(5_000);
    expect(fleet.agents.map((a) => a.snapshot())).toEqual(
      devices.map((d) => expect.objectContaining({ deviceId: d.deviceId, online: true, zones: ['thon-3'] })),
    );
  });

  it('plays a zone command on every device, each downloading and verifying the audio itself', async () => {
    const now = Date.now();
    await server.publish(topics.zoneCmd('thon-3'), {
      v: 1,
      commandId: 'zone-cmd-1',
      issuedAt: now,
      expiresAt: now + 10_000,
      action: 'play-now',
      occurrenceId: 'occ-zone',
      priority: 'emergency',
      assets: [asset],
    });
    await Promise.all(
      devices.map((d) =>
        server.waitFor(
          (m) => ackOf(m)?.device === d.deviceId && ackOf(m)?.ack.stage === 'finished',
          5_000,
          `${d.deviceId} finished`,
        ),
      ),
    );
    for (const d of devices) {
      expect(
        acks()
          .filter((a) => a.device === d.deviceId && a.ack.occurrenceId === 'occ-zone')
          .map((a) => a.ack.stage),
      ).toEqual(['received', 'ready', 'started', 'finished']);
    }
    expect(media.requests.map((r) => r.user).sort()).toEqual(devices.map((d) => d.deviceId));
  });

  it("starts planned items by each device's own (skewed) clock", async () => {
    const startAt = Date.now() + 1_500;
    for (const d of devices) {
      const plan: PlanPayload = {
        v: 1,
        planVersion: 2,
        generatedAt: Date.now(),
        horizonEnd: startAt + 60_000,
        zones: ['thon-3'],
        items: [{ occurrenceId: `occ-plan-${d.deviceId}`, startAt, priority: 'normal', assets: [asset] }],
      };
      await server.publish(topics.devicePlan(d.deviceId), plan, true);
    }
    const heard = new Map<string, number>();
    await Promise.all(
      devices.map(async (d) => {
        await server.waitFor(
          (m) =>
            ackOf(m)?.device === d.deviceId &&
            ackOf(m)?.ack.stage === 'started' &&
            ackOf(m)?.ack.occurrenceId === `occ-plan-${d.deviceId}`,
          4_000,
          `${d.deviceId} started`,
        );
        heard.set(d.deviceId, Date.now());
      }),
    );
    for (const d of devices) {
      const started = acks().find(
        (a) => a.device === d.deviceId && a.ack.stage === 'started' && a.ack.occurrenceId === `occ-plan-${d.deviceId}`,
      )!;
      // By its own clock every device is on time (never early; the margin is for a loaded CI machine) ...
      expect(started.ack.at).toBeGreaterThanOrEqual(startAt);
      expect(started.ack.at - startAt).toBeLessThan(250);
      // ... which, by the host clock, is early or late by its skew (0.7–1 s here: the margin tells them apart).
      expect(Math.abs(heard.get(d.deviceId)! - (startAt - (d.clockSkewMs ?? 0)))).toBeLessThan(350);
    }
  });

  it('names the devices that do not come online', async () => {
    const bad = await startSimFleet({
      serverUrl: media.url,
      mqttUrl: broker.url,
      devices: [{ deviceId: 'sim-1x', secret: 'wrong' }],
      backoff: { baseMs: 5_000, maxMs: 5_000 },
    });
    try {
      await expect(bad.waitOnline(800)).rejects.toThrow(/1 of 1 simulated devices not online after 800 ms: sim-1x/);
    } finally {
      await bad.stop();
    }
  });
});
