/**
 * The agent against a real Aedes broker and a real HTTP media server: what the
 * server sees on the wire is what is asserted.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { pino } from 'pino';
import {
  topics,
  type AckPayload,
  type AckStage,
  type Asset,
  type CommandPayload,
  type PlanPayload,
  type Priority,
  type StatusPayload,
} from '@loaxa/protocol';
import { createAgent, type Agent } from './agent';
import { NullPlayer, type PlayLogLine } from './player/null-player';
import {
  makeAudio,
  ServerSide,
  startMediaServer,
  startTestBroker,
  type MediaAsset,
  type Received,
  type TestBroker,
  type TestMediaServer,
} from '../test/fixtures';

const DEVICE = 'loa-thon1-01';
const SECRET = 'device-secret';
const ZONE = 'thon-1';

const credentials = new Map([
  [DEVICE, SECRET],
  ['loaxa-server', 'server-secret'],
  ['observer', 'observer-secret'],
]);

let broker: TestBroker;
let media: TestMediaServer;
let server: ServerSide;
let agent: Agent;
let dataDir: string;
let playLog: string;
let audio: MediaAsset;
let corrupt: MediaAsset;
const brokerClients = new Map<string, Client>();
/** Broker-side events in order, to prove "online" follows the zone subscription. */
const brokerEvents: string[] = [];
const localAcks: AckPayload[] = [];
/** What the agent logged (debug and up): the decisions it took about each input. */
const logs: { msg: string; commandId?: string }[] = [];
let seq = 0;

function asset(media: MediaAsset, durationMs: number): Asset {
  return {
    sha256: media.sha256,
    url: `/media/${media.sha256}.ogg`,
    bytes: media.bytes.byteLength,
    durationMs,
    format: 'ogg',
  };
}

function playNow(
  occurrenceId: string,
  a: Asset,
  options: { priority?: Priority; expiresAt?: number; commandId?: string } = {},
): CommandPayload {
  const now = Date.now();
  return {
    v: 1,
    commandId: options.commandId ?? `cmd-${++seq}`,
    issuedAt: now,
    expiresAt: options.expiresAt ?? now + 30_000,
    action: 'play-now',
    occurrenceId,
    priority: options.priority ?? 'normal',
    assets: [a],
  };
}

function plan(planVersion: number, items: PlanPayload['items'], zones = [ZONE]): PlanPayload {
  return { v: 1, planVersion, generatedAt: Date.now(), horizonEnd: Date.now() + 86_400_000, zones, items };
}

const isAck = (m: Received): m is Received & { payload: AckPayload } => m.topic === topics.deviceAck(DEVICE);
/** Every stage on the wire, one per entry: stages sent together as `earlier` are unpacked. */
const acksFor = (occurrenceId: string): AckPayload[] =>
  server.messages
    .filter(isAck)
    .map((m) => m.payload)
    .filter((a) => a.occurrenceId === occurrenceId)
    .flatMap(({ earlier, ...last }) => [...(earlier ?? []).map((e) => ({ ...last, detail: undefined, ...e })), last]);
const stagesFor = (occurrenceId: string) => acksFor(occurrenceId).map((a) => a.stage);
const waitAck = (occurrenceId: string, stage: AckStage, timeoutMs = 5_000) =>
  server
    .waitFor(
      (m) => isAck(m) && m.payload.occurrenceId === occurrenceId && m.payload.stage === stage,
      timeoutMs,
      `${stage} of ${occurrenceId}`,
    )
    .then((m) => m.payload as AckPayload);
const waitStatus = (side: ServerSide, state: StatusPayload['state'], after = 0) =>
  side.waitFor(
    (m) =>
      m.topic === topics.deviceStatus(DEVICE) &&
      (m.payload as StatusPayload).state === state &&
      side.messages.indexOf(m) >= after,
    5_000,
    `status ${state}`,
  );
async function playLogLines(): Promise<PlayLogLine[]> {
  const text = await readFile(playLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlayLogLine);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
/**
 * A fence instead of a pause: sends a volume command and waits for its ack.
 * The agent handles its messages in the order they arrive and publishes acks in
 * the order it raised them, so once this ack is in, everything sent before it
 * has been handled and every ack that handling raised has been published.
 */
async function marker(): Promise<void> {
  const commandId = `cmd-marker-${++seq}`;
  await server.publish(topics.deviceCmd(DEVICE), {
    v: 1,
    commandId,
    issuedAt: Date.now(),
    expiresAt: Date.now() + 30_000,
    action: 'volume',
    level: 100,
  });
  await server.waitFor((m) => isAck(m) && m.payload.commandId === commandId, 5_000, `ack of ${commandId}`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'loaxa-agent-'));
  playLog = join(dataDir, 'plays.jsonl');
  broker = await startTestBroker(credentials, (clientId, topic, payload) => {
    if (topic === topics.deviceStatus(DEVICE)) brokerEvents.push(`${clientId} status ${payload.toString()}`);
  });
  broker.aedes.on('clientReady', (client) => brokerClients.set(client.id, client));
  broker.aedes.on('subscribe', (subs, client) => {
    for (const s of subs) brokerEvents.push(`${client.id} subscribe ${s.topic}`);
  });
  broker.aedes.on('unsubscribe', (unsubs, client) => {
    for (const t of unsubs) brokerEvents.push(`${client.id} unsubscribe ${t}`);
  });
  media = await startMediaServer(credentials);
  audio = makeAudio(8_192);
  media.add(audio.sha256, audio.bytes);
  // The server announces one hash and serves other bytes under it.
  corrupt = makeAudio(2_048);
  media.add(
    corrupt.sha256,
    Buffer.concat([corrupt.bytes.subarray(0, 1000), Buffer.from('x'), corrupt.bytes.subarray(1001)]),
  );

  server = await ServerSide.connect(broker.url, 'loaxa-server', 'server-secret', [
    topics.allDevices('ack'),
    topics.allDevices('status'),
  ]);
  // Retained before the device connects, as the server keeps every device's plan.
  await server.publish(topics.devicePlan(DEVICE), plan(1, []), true);

  agent = createAgent(
    {
      deviceId: DEVICE,
      secret: SECRET,
      serverUrl: media.url,
      mqttUrl: broker.url,
      dataDir,
      player: { type: 'null', log: playLog },
      // Acks at once: these tests wait for each stage (the spread has its own tests, ack-dispatcher.test.ts).
      ackSpreadMs: 0,
    },
    {
      player: new NullPlayer(playLog),
      link: { backoff: { baseMs: 100, maxMs: 400 } },
      logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
    },
  );
  agent.on('ack', (ack) => localAcks.push(ack));
  await agent.start();
});

afterAll(async () => {
  await agent?.stop();
  await server?.close();
  await media?.close();
  await broker?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('agent over MQTT', () => {
  it('announces "online" (retained) only after subscribing to its plan\'s zones', async () => {
    const online = await waitStatus(server, 'online');
    expect(online.payload).toMatchObject({
      v: 1,
      state: 'online',
      agentVersion: expect.any(String),
      at: expect.any(Number),
    });
    const zoneSub = brokerEvents.indexOf(`${DEVICE} subscribe ${topics.zoneCmd(ZONE)}`);
    const onlineEvent = brokerEvents.findIndex((e) => e.startsWith(`${DEVICE} status`) && e.includes('"online"'));
    expect(zoneSub).toBeGreaterThanOrEqual(0);
    expect(onlineEvent).toBeGreaterThan(zoneSub);
    expect(agent.snapshot()).toMatchObject({ online: true, planVersion: 1, zones: [ZONE] });

    const late = await ServerSide.connect(broker.url, 'observer', 'observer-secret', []);
    try {
      await late.client.subscribeAsync(topics.deviceStatus(DEVICE), { qos: 1 });
      const retained = await late.waitFor((m) => m.topic === topics.deviceStatus(DEVICE), 2_000, 'retained status');
      expect(retained.retain).toBe(true);
      expect(retained.payload).toMatchObject({ state: 'online' });
    } finally {
      await late.close();
    }
  });

  it('plays a play-now command: received → ready → started → finished, from a verified download', async () => {
    await server.publish(topics.deviceCmd(DEVICE), playNow('occ-now-1', asset(audio, 200)));
    const finished = await waitAck('occ-now-1', 'finished');
    expect(stagesFor('occ-now-1')).toEqual(['received', 'ready', 'started', 'finished']);
    const started = acksFor('occ-now-1').find((a) => a.stage === 'started')!;
    expect(finished.at - started.at).toBeGreaterThanOrEqual(195);

    const cached = await readFile(join(dataDir, 'cache', `${audio.sha256}.ogg`));
    expect(createHash('sha256').update(cached).digest('hex')).toBe(audio.sha256);
    expect(media.requests.filter((r) => r.path.includes(audio.sha256))).toEqual([
      { path: `/media/${audio.sha256}.ogg`, user: DEVICE },
    ]);
    const lines = (await playLogLines()).filter((l) => l.occurrenceId === 'occ-now-1');
    expect(lines).toEqual([
      { occurrenceId: 'occ-now-1', sha256: audio.sha256, startedAt: expect.any(Number), endedAt: expect.any(Number) },
    ]);
    // The player stamps its own start a moment after the agent hands it the item (by the same
    // device clock; "a moment" is generous here, far below the item's own 200 ms).
    expect(lines[0]!.startedAt - started.at).toBeGreaterThanOrEqual(0);
    expect(lines[0]!.startedAt - started.at).toBeLessThan(150);
    expect(localAcks.filter((a) => a.occurrenceId === 'occ-now-1').map((a) => a.stage)).toEqual(stagesFor('occ-now-1'));
  });

  it('plays a command that arrives on both its device and zone topic only once', async () => {
    const command = playNow('occ-dup', asset(audio, 100));
    await Promise.all([
      server.publish(topics.deviceCmd(DEVICE), command),
      server.publish(topics.zoneCmd(ZONE), command),
    ]);
    await waitAck('occ-dup', 'finished');
    // The second copy was handled, and turned away.
    await until(
      () => logs.some((l) => l.msg === 'duplicate command ignored' && l.commandId === command.commandId),
      'the duplicate turned away',
    );
    await marker();
    expect(stagesFor('occ-dup')).toEqual(['received', 'ready', 'started', 'finished']);
    expect((await playLogLines()).filter((l) => l.occurrenceId === 'occ-dup')).toHaveLength(1);
    // The cached file is reused: no second download.
    expect(media.requests.filter((r) => r.path.includes(audio.sha256))).toHaveLength(1);
  });

  it('acks "failed" naming sha256 when the downloaded bytes do not match', async () => {
    await server.publish(topics.zoneCmd(ZONE), playNow('occ-corrupt', asset(corrupt, 100)));
    // Three downloads with retry gaps of up to 1.5 s in all, each stage journaled with an fsync:
    // ≈ 1–2 s here, but once over 5 s in CI's PostgreSQL run, whose database shares the disk.
    const failed = await waitAck('occ-corrupt', 'failed', 15_000);
    expect(failed.detail).toMatch(/sha256 mismatch/);
    expect(stagesFor('occ-corrupt')).toEqual(['received', 'failed']);
    expect((await playLogLines()).some((l) => l.occurrenceId === 'occ-corrupt')).toBe(false);
  });

  it('acks an expired command "skipped" and does not play it', async () => {
    await server.publish(
      topics.deviceCmd(DEVICE),
      playNow('occ-expired', asset(audio, 100), { expiresAt: Date.now() - 1_000 }),
    );
    const skipped = await waitAck('occ-expired', 'skipped');
    expect(skipped.detail).toMatch(/expired/);
    await marker(); // a run launched for it would have acked "received" before this
    expect(stagesFor('occ-expired')).toEqual(['skipped']);
  });

  it('ignores an invalid command and a plan older than the one held', async () => {
    await server.publish(topics.deviceCmd(DEVICE), { v: 1, action: 'play-now', commandId: 'bad' });
    await server.publish(topics.devicePlan(DEVICE), plan(2, []), true);
    await server.publish(
      topics.devicePlan(DEVICE),
      plan(1, [
        { occurrenceId: 'occ-stale', startAt: Date.now() + 500, priority: 'normal', assets: [asset(audio, 100)] },
      ]),
      true,
    );
    await marker(); // the stale plan was handled: had it been taken, "received" would be in by now
    expect(stagesFor('occ-stale')).toEqual([]);
    expect(agent.snapshot().planVersion).toBe(2);
  });

  it('starts a planned item on time by the device clock: never early, well within 250 ms', async () => {
    const startAt = Date.now() + 1_500;
    const item = { occurrenceId: 'occ-plan-1', startAt, priority: 'normal' as const, assets: [asset(audio, 100)] };
    const past = {
      occurrenceId: 'occ-plan-past',
      startAt: Date.now() - 60_000,
      priority: 'normal' as const,
      assets: [asset(audio, 100)],
    };
    await server.publish(topics.devicePlan(DEVICE), plan(3, [item, past]), true);
    await waitAck('occ-plan-1', 'ready', 1_400);
    const started = await waitAck('occ-plan-1', 'started', 3_000);
    // Device-clock figures. Typically within a millisecond; the margin is for a loaded CI machine.
    expect(started.at).toBeGreaterThanOrEqual(startAt);
    expect(started.at - startAt).toBeLessThan(250);
    await waitAck('occ-plan-1', 'finished');
    expect(stagesFor('occ-plan-1')).toEqual(['received', 'ready', 'started', 'finished']);
    const skipped = await waitAck('occ-plan-past', 'skipped');
    expect(skipped.detail).toMatch(/start time passed/);

    // Re-delivery of the same plan (e.g. after a reconnect) plays nothing twice.
    await server.publish(topics.devicePlan(DEVICE), plan(3, [item, past]), true);
    // A run launched again would ack "skipped" (its window has passed) before the fence's ack.
    await marker();
    expect(stagesFor('occ-plan-1')).toEqual(['received', 'ready', 'started', 'finished']);
    expect((await playLogLines()).filter((l) => l.occurrenceId === 'occ-plan-1')).toHaveLength(1);
  });

  it('cancels an item a newer plan removes', async () => {
    const item = {
      occurrenceId: 'occ-removed',
      startAt: Date.now() + 5_000,
      priority: 'normal' as const,
      assets: [asset(audio, 100)],
    };
    await server.publish(topics.devicePlan(DEVICE), plan(4, [item]), true);
    await waitAck('occ-removed', 'ready');
    await server.publish(topics.devicePlan(DEVICE), plan(5, []), true);
    const skipped = await waitAck('occ-removed', 'skipped');
    expect(skipped.detail).toBe('removed from plan v5');
  });

  it('lets an emergency preempt what is playing', async () => {
    await server.publish(topics.deviceCmd(DEVICE), playNow('occ-long', asset(audio, 5_000)));
    await waitAck('occ-long', 'started');
    await server.publish(topics.zoneCmd(ZONE), playNow('occ-flood', asset(audio, 100), { priority: 'emergency' }));
    const preempted = await waitAck('occ-long', 'preempted');
    expect(preempted.detail).toMatch(/emergency occurrence occ-flood/);
    await waitAck('occ-flood', 'finished');
    expect(stagesFor('occ-flood')).toEqual(['received', 'ready', 'started', 'finished']);
    const floodStart = acksFor('occ-flood').find((a) => a.stage === 'started')!;
    // At once, by the device clock: well within the half second a loaded machine may need, not after the 5 s item.
    expect(floodStart.at - preempted.at).toBeLessThan(500);
  });

  it('follows zone changes in a newer plan', async () => {
    await server.publish(topics.devicePlan(DEVICE), plan(6, [], ['thon-2']), true);
    await until(
      () => brokerEvents.includes(`${DEVICE} subscribe ${topics.zoneCmd('thon-2')}`),
      'subscription to thon-2',
    );
    await until(
      () => brokerEvents.includes(`${DEVICE} unsubscribe ${topics.zoneCmd(ZONE)}`),
      'unsubscribe from thon-1',
    );
    await server.publish(topics.zoneCmd(ZONE), playNow('occ-old-zone', asset(audio, 50)));
    await server.publish(topics.zoneCmd('thon-2'), playNow('occ-new-zone', asset(audio, 50)));
    await waitAck('occ-new-zone', 'finished');
    expect(stagesFor('occ-old-zone')).toEqual([]);
    await server.publish(topics.devicePlan(DEVICE), plan(7, []), true);
  });

  it('keeps acks made offline and sends them after reconnecting', async () => {
    await server.publish(topics.deviceCmd(DEVICE), playNow('occ-offline', asset(audio, 400)));
    await waitAck('occ-offline', 'started');
    const from = server.messages.length;
    credentials.delete(DEVICE); // refuse reconnects for a while
    brokerClients.get(DEVICE)?.close();
    await waitStatus(server, 'offline', from);
    // Finished while the broker refuses it: the ack waits in the outbox.
    await until(
      () => localAcks.some((a) => a.occurrenceId === 'occ-offline' && a.stage === 'finished'),
      'finished raised offline',
    );
    expect(stagesFor('occ-offline')).toEqual(['received', 'ready', 'started']);
    credentials.set(DEVICE, SECRET);
    await waitAck('occ-offline', 'finished', 5_000);
    await waitStatus(server, 'online', from);
    expect(stagesFor('occ-offline')).toEqual(['received', 'ready', 'started', 'finished']);
  });

  it('publishes its last will "offline" (retained) when the connection dies abruptly', async () => {
    const from = server.messages.length;
    await agent.stop({ abrupt: true });
    const offline = await waitStatus(server, 'offline', from);
    expect(offline.payload).toMatchObject({ v: 1, state: 'offline' });
    const late = await ServerSide.connect(broker.url, 'observer', 'observer-secret', []);
    try {
      await late.client.subscribeAsync(topics.deviceStatus(DEVICE), { qos: 1 });
      const retained = await late.waitFor((m) => m.topic === topics.deviceStatus(DEVICE), 2_000, 'retained status');
      expect(retained).toMatchObject({ retain: true, payload: { state: 'offline' } });
    } finally {
      await late.close();
    }
  });
});

describe('agent telemetry', () => {
  it('reports what io.systemReadings reads (a simulated fleet shares one reading of its host)', async () => {
    credentials.set('loa-readings', 'rd');
    const observer = await ServerSide.connect(broker.url, 'observer', 'observer-secret', [
      topics.deviceTelemetry('loa-readings'),
    ]);
    const node = createAgent(
      {
        deviceId: 'loa-readings',
        secret: 'rd',
        serverUrl: media.url,
        mqttUrl: broker.url,
        dataDir: join(dataDir, 'readings'),
        player: { type: 'sim' },
      },
      {
        player: new NullPlayer(join(dataDir, 'readings.jsonl')),
        link: { planWaitMs: 100 },
        systemReadings: async () => ({ freeDiskBytes: 4242, cpuTempC: 41.5 }),
      },
    );
    try {
      await node.start();
      const telemetry = await observer.waitFor(
        (m) => m.topic === topics.deviceTelemetry('loa-readings'),
        3_000,
        'telemetry of loa-readings',
      );
      expect(telemetry.payload).toMatchObject({ freeDiskBytes: 4242, cpuTempC: 41.5 });
    } finally {
      await node.stop();
      await observer.close();
    }
  });
});

describe('agent without a plan', () => {
  it('announces "online" after planWaitMs when no plan arrives', async () => {
    credentials.set('loa-noplan', 'np');
    const from = server.messages.length;
    const lonely = createAgent(
      {
        deviceId: 'loa-noplan',
        secret: 'np',
        serverUrl: media.url,
        mqttUrl: broker.url,
        // Its own dataDir: a shared one would hand it the other agent's saved plan.
        dataDir: join(dataDir, 'noplan'),
        player: { type: 'sim' },
      },
      { player: new NullPlayer(join(dataDir, 'noplan.jsonl')), link: { planWaitMs: 300 } },
    );
    const started = Date.now();
    try {
      await lonely.start();
      const online = await server.waitFor(
        (m) => m.topic === topics.deviceStatus('loa-noplan') && server.messages.indexOf(m) >= from,
        3_000,
        'status of loa-noplan',
      );
      expect(online.payload).toMatchObject({ state: 'online' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(lonely.snapshot()).toMatchObject({ online: true, planVersion: null, zones: [] });
    } finally {
      await lonely.stop();
    }
  });
});
