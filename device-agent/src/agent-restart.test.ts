/**
 * Restarts on the same dataDir against a real Aedes broker and media server:
 * nothing acked is lost, nothing finished is played again.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { topics, type AckPayload, type AckStage, type Asset, type PlanPayload } from '@loaxa/protocol';
import { createAgent, type Agent } from './agent';
import { skewedClock, type Clock } from './clock/clock';
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

const SECRET = 'device-secret';
const ZONE = 'thon-1';
const credentials = new Map([['loaxa-server', 'server-secret']]);

let broker: TestBroker;
let media: TestMediaServer;
let server: ServerSide;
let audio: MediaAsset;
const brokerClients = new Map<string, Client>();
const running: Agent[] = [];
const dirs: string[] = [];
let deviceSeq = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function asset(durationMs: number): Asset {
  return {
    sha256: audio.sha256,
    url: `/media/${audio.sha256}.ogg`,
    bytes: audio.bytes.byteLength,
    durationMs,
    format: 'ogg',
  };
}

function plan(planVersion: number, items: PlanPayload['items']): PlanPayload {
  const now = Date.now();
  return { v: 1, planVersion, generatedAt: now, horizonEnd: now + 86_400_000, zones: [ZONE], items };
}

/** One simulated Pi: a device id, its dataDir and play log, and agents started on them one after another. */
async function device() {
  const id = `loa-restart-${++deviceSeq}`;
  credentials.set(id, SECRET);
  const dataDir = await mkdtemp(join(tmpdir(), 'loaxa-restart-'));
  dirs.push(dataDir);
  const playLog = join(dataDir, 'plays.jsonl');
  const isAck = (m: Received): m is Received & { payload: AckPayload } => m.topic === topics.deviceAck(id);
  const acksFor = (occurrenceId: string) =>
    server.messages
      .filter(isAck)
      .map((m) => m.payload)
      .filter((a) => a.occurrenceId === occurrenceId);
  return {
    id,
    dataDir,
    async boot(clock?: Clock): Promise<Agent> {
      const agent = createAgent(
        {
          deviceId: id,
          secret: SECRET,
          serverUrl: media.url,
          mqttUrl: broker.url,
          dataDir,
          player: { type: 'null', log: playLog },
        },
        {
          player: new NullPlayer(playLog, clock),
          ...(clock ? { clock } : {}),
          link: { backoff: { baseMs: 100, maxMs: 300 }, planWaitMs: 300 },
        },
      );
      running.push(agent);
      await agent.start();
      return agent;
    },
    stagesFor: (occurrenceId: string) => acksFor(occurrenceId).map((a) => a.stage),
    waitAck: (occurrenceId: string, stage: AckStage, timeoutMs = 5_000) =>
      server
        .waitFor(
          (m) => isAck(m) && m.payload.occurrenceId === occurrenceId && m.payload.stage === stage,
          timeoutMs,
          `${stage} of ${occurrenceId}`,
        )
        .then((m) => m.payload as AckPayload),
    async plays(occurrenceId: string): Promise<PlayLogLine[]> {
      const text = await readFile(playLog, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as PlayLogLine)
        .filter((l) => l.occurrenceId === occurrenceId);
    },
    publishPlan: (p: PlanPayload) => server.publish(topics.devicePlan(id), p, true),
  };
}

beforeAll(async () => {
  broker = await startTestBroker(credentials);
  broker.aedes.on('clientReady', (client) => brokerClients.set(client.id, client));
  media = await startMediaServer(credentials);
  audio = makeAudio(8_192);
  media.add(audio.sha256, audio.bytes);
  server = await ServerSide.connect(broker.url, 'loaxa-server', 'server-secret', [topics.allDevices('ack')]);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()));
});

afterAll(async () => {
  await server?.close();
  await media?.close();
  await broker?.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('agent restarts on the same dataDir', () => {
  it('sends acks made offline after a restart, once connected (outbox survives)', async () => {
    const pi = await device();
    await pi.publishPlan(plan(1, []));
    const first = await pi.boot();
    const localAcks: AckPayload[] = [];
    first.on('ack', (ack) => localAcks.push(ack));
    const online = new Promise<void>((resolve) => first.once('online', resolve));
    await online;

    await server.publish(topics.deviceCmd(pi.id), {
      v: 1,
      commandId: 'cmd-offline-1',
      issuedAt: Date.now(),
      expiresAt: Date.now() + 30_000,
      action: 'play-now',
      occurrenceId: 'occ-offline',
      priority: 'normal',
      assets: [asset(300)],
    });
    await pi.waitAck('occ-offline', 'started');
    credentials.delete(pi.id); // the link stays down: acks pile up locally
    brokerClients.get(pi.id)?.close();
    const deadline = Date.now() + 3_000;
    while (!localAcks.some((a) => a.occurrenceId === 'occ-offline' && a.stage === 'finished')) {
      if (Date.now() > deadline) throw new Error('no local finished ack');
      await sleep(20);
    }
    await first.stop({ abrupt: true });
    expect(pi.stagesFor('occ-offline')).toEqual(['received', 'ready', 'started']);
    const saved = JSON.parse(await readFile(join(pi.dataDir, 'state', 'outbox.json'), 'utf8')) as {
      entries: { ack: AckPayload }[];
    };
    expect(saved.entries.map((e) => e.ack.stage)).toContain('finished');

    credentials.set(pi.id, SECRET);
    await pi.boot();
    await pi.waitAck('occ-offline', 'finished');
    await sleep(300);
    expect(pi.stagesFor('occ-offline')).toEqual(['received', 'ready', 'started', 'finished']);
    expect(await pi.plays('occ-offline')).toHaveLength(1);
    const after = JSON.parse(await readFile(join(pi.dataDir, 'state', 'outbox.json'), 'utf8')) as {
      entries: unknown[];
    };
    expect(after.entries).toEqual([]);
  });

  it('does not replay a play-now command redelivered after a restart', async () => {
    const pi = await device();
    await pi.publishPlan(plan(1, []));
    const first = await pi.boot();
    await new Promise<void>((resolve) => first.once('online', resolve));
    const command = {
      v: 1,
      commandId: 'cmd-redelivered',
      issuedAt: Date.now(),
      expiresAt: Date.now() + 30_000,
      action: 'play-now',
      occurrenceId: 'occ-redelivered',
      priority: 'normal',
      assets: [asset(150)],
    };
    await server.publish(topics.deviceCmd(pi.id), command);
    await pi.waitAck('occ-redelivered', 'finished');
    await first.stop({ abrupt: true });

    const second = await pi.boot();
    await new Promise<void>((resolve) => (second.online ? resolve() : second.once('online', resolve)));
    await server.publish(topics.deviceCmd(pi.id), command); // as a persistent session would redeliver it
    await sleep(600);
    expect(await pi.plays('occ-redelivered')).toHaveLength(1);
    expect(pi.stagesFor('occ-redelivered')).toEqual(['received', 'ready', 'started', 'finished']);
  });

  it('does not play an item again that finished before the restart, even with the clock set back', async () => {
    const pi = await device();
    const startAt = Date.now() + 700;
    const item = { occurrenceId: 'occ-once', startAt, priority: 'normal' as const, assets: [asset(150)] };
    await pi.publishPlan(plan(2, [item]));
    const first = await pi.boot();
    await pi.waitAck('occ-once', 'finished', 3_000);
    await first.stop({ abrupt: true });

    // A Pi without a real-time clock boots with its clock behind until NTP: by that clock the item is still due.
    const behind = skewedClock(-1_500);
    expect(behind.now()).toBeLessThan(startAt);
    const second = await pi.boot(behind);
    expect(second.snapshot().planVersion).toBe(2); // resumed from disk before any broker delivery
    await sleep(Math.max(0, startAt - behind.now()) + 400);
    expect(pi.stagesFor('occ-once')).toEqual(['received', 'ready', 'started', 'finished']);
    expect(await pi.plays('occ-once')).toHaveLength(1);
  });

  it('reports an item cut off by the restart instead of playing it again', async () => {
    const pi = await device();
    const item = {
      occurrenceId: 'occ-cut',
      startAt: Date.now() + 300,
      priority: 'normal' as const,
      assets: [asset(4_000)],
    };
    await pi.publishPlan(plan(3, [item]));
    const first = await pi.boot();
    await pi.waitAck('occ-cut', 'started', 3_000);
    await first.stop({ abrupt: true });

    await pi.boot();
    const preempted = await pi.waitAck('occ-cut', 'preempted');
    expect(preempted.detail).toMatch(/stopping|restart/);
    await sleep(300);
    expect(pi.stagesFor('occ-cut')).toEqual(['received', 'ready', 'started', 'preempted']);
    expect((await pi.plays('occ-cut')).filter((l) => !l.interrupted)).toEqual([]);
    expect(await pi.plays('occ-cut')).toHaveLength(1);
  });
});
