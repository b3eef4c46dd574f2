/**
 * A link given several broker nodes: one connection at a time, the next node after a
 * failed or lost one, and one backoff level per round over the nodes. Real brokers
 * (Aedes on loopback) and ports nothing listens on; the clustered session itself is
 * tested on a real NATS cluster (test/e2e/broker-failover.cluster.test.ts).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../clock/clock';
import type { BackoffPolicy } from './backoff';
import { MqttLink } from './mqtt-link';

interface TestBroker {
  url: string;
  port: number;
  /** Drops every connection and stops listening, as a dying node would. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

async function startBroker(port = 0): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = async (at: number) => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve) => server!.listen(at, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const bound = await listen(port);
  const kill = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    kill,
    revive: async () => void (await listen(bound)),
    async close() {
      await kill();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** A loopback URL nothing listens on: every connection is refused at once. */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `mqtt://127.0.0.1:${port}`;
}

type LogLine = { level: number; msg: string; [key: string]: unknown };

function recordingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

const links: MqttLink[] = [];
const brokers: TestBroker[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(links.splice(0).map((l) => l.stop({ abrupt: true })));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

function link(mqttUrl: string, mqttUrls: readonly string[] | undefined, backoff?: BackoffPolicy) {
  const { logger, lines } = recordingLogger();
  const l = new MqttLink(
    {
      deviceId: 'loa-cum-1',
      secret: 's',
      mqttUrl,
      ...(mqttUrls ? { mqttUrls } : {}),
      clock: systemClock,
      logger,
      ...(backoff ? { backoff } : {}),
      connectTimeoutMs: 2_000,
    },
    { plan: () => [], command: () => {}, connected: () => {}, disconnected: () => {}, online: () => {} },
  );
  links.push(l);
  return { link: l, lines };
}

const moves = (lines: LogLine[]) =>
  lines.filter((l) => l.msg === 'mqtt moving to the next broker node') as (LogLine & {
    from: string;
    to: string;
    delay: number;
  })[];

describe('MqttLink with several broker nodes', () => {
  it('moves past a dead first node within about a second, with the default backoff', async () => {
    const live = await startBroker();
    brokers.push(live);
    const dead = await deadUrl();
    const { link: l, lines } = link(dead, [live.url]);
    const started = Date.now();
    await l.start();
    await expect.poll(() => l.brokerUrl, { timeout: 5_000 }).toBe(live.url);
    expect(Date.now() - started).toBeLessThan(2_000); // one delay of [0, 1 s), not a growing one
    expect(moves(lines).map((m) => [m.from, m.to])).toEqual([[dead, live.url]]);
    expect(lines.find((m) => m.msg === 'mqtt connected')).toMatchObject({ level: 30, broker: live.url });
    expect(moves(lines)[0]!.level).toBe(40);
  });

  it('goes to the next node in turn each time its connection is lost, and back to the first', async () => {
    const [a, b, c] = [await startBroker(), await startBroker(), await startBroker()];
    brokers.push(a, b, c);
    const { link: l, lines } = link(a.url, [b.url, c.url], { baseMs: 50, maxMs: 200 });
    await l.start();
    await expect.poll(() => l.brokerUrl).toBe(a.url);
    // c is up all along: a lost connection goes to the next node (b), not to any that answers.
    await a.kill();
    await expect.poll(() => l.brokerUrl).toBe(b.url);
    await a.revive();
    await b.kill();
    await expect.poll(() => l.brokerUrl).toBe(c.url);
    await c.kill();
    await expect.poll(() => l.brokerUrl).toBe(a.url);
    expect(moves(lines).map((m) => `${m.from} → ${m.to}`)).toEqual([
      `${a.url} → ${b.url}`,
      `${b.url} → ${c.url}`,
      `${c.url} → ${a.url}`,
    ]);
    expect(lines.filter((m) => m.msg === 'mqtt connected').map((m) => m.broker)).toEqual([a.url, b.url, c.url, a.url]);
  });

  it('raises the backoff once per round over the nodes', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999); // each delay at its ceiling
    const [n1, n2, n3] = [await deadUrl(), await deadUrl(), await deadUrl()];
    const { link: l, lines } = link(n1, [n2, n3], { baseMs: 20, maxMs: 10_000 });
    await l.start();
    await expect.poll(() => moves(lines).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(7);
    await l.stop();
    expect(
      moves(lines)
        .slice(0, 7)
        .map((m) => [m.to, m.delay]),
    ).toEqual([
      [n2, 19],
      [n3, 19],
      [n1, 19],
      [n2, 39],
      [n3, 39],
      [n1, 39],
      [n2, 79],
    ]);
  });

  it('with one node (or only a duplicate of it) keeps the single-broker backoff and never moves', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const only = await deadUrl();
    for (const others of [undefined, [only]]) {
      const { link: l, lines } = link(only, others, { baseMs: 20, maxMs: 10_000 });
      await l.start();
      const scheduled = () => lines.filter((m) => m.msg === 'mqtt reconnect scheduled').map((m) => m.delay);
      await expect.poll(() => scheduled().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
      await l.stop();
      expect(scheduled().slice(0, 4)).toEqual([19, 39, 79, 159]);
      expect(moves(lines)).toEqual([]);
    }
  });
});
