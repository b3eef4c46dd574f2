/**
 * Restarts on the same dataDir against a real Aedes broker and media server:
 * nothing acked is lost, nothing finished is played again.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { pino } from 'pino';
import { topics, type AckPayload, type AckStage, type Asset, type PlanPayload } from '@loaxa/protocol';
import { createAgent, type Agent } from './agent';
import { AckJournal } from './ack/ack-journal';
import { skewedClock, systemClock, type Clock } from './clock/clock';
import type { OutboxEntry } from './outbox/outbox';
import { AppendLog } from './state/append-log';
import { NullPlayer, type PlayLogLine, type PlayStartLine } from './player/null-player';
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
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
let markerSeq = 0;

async function readLines<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** The acks waiting for the broker in a node's journal, as a restart would find them. */
async function journalledOutbox(dataDir: string): Promise<readonly OutboxEntry[]> {
  const log = new AppendLog(join(dataDir, 'state', 'acks.jsonl'));
  return (await AckJournal.peek(log, systemClock)).pending;
}

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
  const startLog = join(dataDir, 'starts.jsonl');
  /** What the agents logged (debug and up), newest last: the decisions they took. */
  const logs: { msg: string; occurrenceId?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const isAck = (m: Received): m is Received & { payload: AckPayload } => m.topic === topics.deviceAck(id);
  /** Every stage on the wire, one per entry: stages sent together as `earlier` are unpacked. */
  const acksFor = (occurrenceId: string): AckPayload[] =>
    server.messages
      .filter(isAck)
      .map((m) => m.payload)
      .filter((a) => a.occurrenceId === occurrenceId)
      .flatMap(({ earlier, ...last }) => [...(earlier ?? []).map((e) => ({ ...last, detail: undefined, ...e })), last]);
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
          // Acks at once: these tests wait for each stage within seconds (the spread: ack-dispatcher.test.ts).
          ackSpreadMs: 0,
        },
        {
          player: new NullPlayer(playLog, clock, { startLog }),
          ...(clock ? { clock } : {}),
          logger,
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
      return (await readLines<PlayLogLine>(playLog)).filter((l) => l.occurrenceId === occurrenceId);
    },
    /** Every time the item began to be heard, including plays a restart cut short. */
    async starts(occurrenceId: string): Promise<PlayStartLine[]> {
      return (await readLines<PlayStartLine>(startLog)).filter((l) => l.occurrenceId === occurrenceId);
    },
    /** Waits for a log line of the running agent, e.g. the decision it took about an occurrence. */
    waitLog: (msg: string, occurrenceId: string) =>
      until(() => logs.some((l) => l.msg === msg && l.occurrenceId === occurrenceId), `log "${msg}"`),
    /**
     * A fence: sends a volume command and waits for its ack. The agent publishes
     * in the order acks were raised and handles commands in the order they
     * arrive, so once this ack is in, so is every ack raised before it and
     * every command sent before it has been handled.
     */
    async marker(): Promise<void> {
      const commandId = `cmd-marker-${++markerSeq}`;
      await server.publish(topics.deviceCmd(id), {
        v: 1,
        commandId,
        issuedAt: Date.now(),
        expiresAt: Date.now() + 30_000,
        action: 'volume',
        level: 80,
      });
      await server.waitFor((m) => isAck(m) && m.payload.commandId === commandId, 5_000, `ack of ${commandId}`);
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
    await until(
      () => localAcks.some((a) => a.occurrenceId === 'occ-offline' && a.stage === 'finished'),
      'local finished',
    );
    await first.stop({ abrupt: true });
    expect(pi.stagesFor('occ-offline')).toEqual(['received', 'ready', 'started']);
    expect((await journalledOutbox(pi.dataDir)).map((e) => e.ack.stage)).toContain('finished');

    credentials.set(pi.id, SECRET);
    await pi.boot();
    await pi.waitAck('occ-offline', 'finished');
    await pi.marker();
    expect(pi.stagesFor('occ-offline')).toEqual(['received', 'ready', 'started', 'finished']);
    expect(await pi.plays('occ-offline')).toHaveLength(1);
    await until(async () => (await journalledOutbox(pi.dataDir)).length === 0, 'the outbox emptied by the PUBACK');
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
    await pi.waitLog('play-now already handled before a restart; ignored', 'occ-redelivered');
    await pi.marker();
    expect(await pi.starts('occ-redelivered')).toHaveLength(1);
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
    // The plan runner's decision on the resumed plan, taken by the journal and not the clock.
    await pi.waitLog('plan item already over before the agent restarted', 'occ-once');
    await pi.marker();
    expect(pi.stagesFor('occ-once')).toEqual(['received', 'ready', 'started', 'finished']);
    expect(await pi.starts('occ-once')).toHaveLength(1);
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
    await pi.marker();
    expect(pi.stagesFor('occ-cut')).toEqual(['received', 'ready', 'started', 'preempted']);
    expect((await pi.plays('occ-cut')).filter((l) => !l.interrupted)).toEqual([]);
    expect(await pi.plays('occ-cut')).toHaveLength(1);
    expect(await pi.starts('occ-cut')).toHaveLength(1);
  });
});
