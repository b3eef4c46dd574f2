import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { skipForEnvironment } from '../../scripts/test/require-tool';
import { recordedNoDelay } from '../../scripts/test/no-delay';
import { generate, parser as mqttParser, type IPublishPacket, type Packet } from 'mqtt-packet';
import { LinkEmulator, type LinkProfile } from './link-emulator';

/** A small seeded PRNG (mulberry32): the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quiet = { baseMs: 0, jitterMs: 0, loss: 0 };

interface Arrival {
  seq: number;
  qos: number;
  at: number;
}

/** What one end of the link receives: each PUBLISH's number (its payload) and arrival time. */
function receiver(socket: net.Socket): Arrival[] {
  const got: Arrival[] = [];
  const parse = mqttParser();
  parse.on('packet', (p: Packet) => {
    if (p.cmd === 'publish') got.push({ seq: Number(p.payload.toString()), qos: p.qos, at: performance.now() });
  });
  socket.on('data', (chunk: Buffer) => parse.parse(chunk));
  return got;
}

const publish = (seq: number, qos: 0 | 1 = 0): Buffer =>
  generate({
    cmd: 'publish',
    topic: 'loaxa/test',
    payload: Buffer.from(String(seq)),
    qos,
    dup: false,
    retain: false,
    ...(qos > 0 ? { messageId: (seq % 65_000) + 1 } : {}),
  } as IPublishPacket);

/** A "broker" and a "device" joined through the emulator; `broker` is the broker's end of the connection. */
async function rig(profile: LinkProfile, random = seeded(19)) {
  let accepted: (s: net.Socket) => void = () => {};
  const brokerSide = new Promise<net.Socket>((resolve) => (accepted = resolve));
  const server = net.createServer({ noDelay: true }, (s) => accepted(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const link = await LinkEmulator.start(`mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`, {
    profile,
    random,
  });
  const device = net.connect({ port: link.port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve) => device.once('connect', resolve));
  device.write(publish(0)); // the emulator dials the broker when the device connects
  const broker = await brokerSide;
  const close = async () => {
    device.destroy();
    broker.destroy();
    await link.close();
    await new Promise((resolve) => server.close(resolve));
  };
  cleanups.push(close);
  return { link, device, broker, close };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, test: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('LinkEmulator', () => {
  it('delays each packet by the base plus gaussian jitter, in order, both ways', async () => {
    const { device, broker } = await rig({
      down: { baseMs: 30, jitterMs: 10, loss: 0 },
      up: { baseMs: 40, jitterMs: 10, loss: 0 },
    });
    const down = receiver(device);
    const up = receiver(broker);
    const sentDown: number[] = [];
    const sentUp: number[] = [];
    // 20 ms apart, as live frames are: order makes some wait for a slower one ahead.
    for (let seq = 1; seq <= 60; seq++) {
      sentDown[seq] = performance.now();
      broker.write(publish(seq));
      sentUp[seq] = performance.now();
      device.write(publish(seq));
      await sleep(20);
    }
    await until('every packet', () => down.length === 60 && up.length === 61);
    for (const [got, sent, base] of [
      [down, sentDown, 30],
      [up.slice(1), sentUp, 40],
    ] as const) {
      expect(got.map((a) => a.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      const delays = got.map((a) => a.at - sent[a.seq]!);
      const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
      // Never before its base less 4σ; never far past 5σ (plus timer and loop slack).
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(base - 40);
      expect(Math.max(...delays)).toBeLessThan(base + 50 + 30);
      // Waiting for a slower one ahead puts the mean a little above the base.
      expect(mean).toBeGreaterThan(base - 4);
      expect(mean).toBeLessThan(base + 10);
      const spread = Math.sqrt(delays.reduce((s, d) => s + (d - mean) ** 2, 0) / delays.length);
      expect(spread).toBeGreaterThan(3);
      expect(spread).toBeLessThan(14);
    }
  });

  it('loses QoS 0 publishes at the given rate and never a QoS 1 one', async () => {
    const { link, device, broker } = await rig({ down: { ...quiet, loss: 0.05 }, up: quiet });
    const got = receiver(device);
    const N = 4_000;
    for (let seq = 1; seq <= N; seq++) broker.write(publish(seq, 0));
    for (let seq = 1; seq <= 1_000; seq++) broker.write(publish(N + seq, 1));
    await until('the QoS 1 packets', () => got.filter((a) => a.qos === 1).length === 1_000);
    const qos0 = got.filter((a) => a.qos === 0).length;
    // Binomial(4000, 0.05): σ ≈ 14 packets; ±5σ.
    expect(N - qos0).toBeGreaterThan(200 - 70);
    expect(N - qos0).toBeLessThan(200 + 70);
    expect(link.stats.down.dropped).toBe(N - qos0);
    const seqs = got.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('delays a "lost" QoS 1 publish by the retransmission time instead, when asked', async () => {
    const { link, device, broker } = await rig({ down: { ...quiet, loss: 1, retransmitMs: 60 }, up: quiet });
    const got = receiver(device);
    const sent = performance.now();
    broker.write(publish(1, 1));
    await until('the packet', () => got.length === 1);
    expect(got[0]!.at - sent).toBeGreaterThanOrEqual(59);
    expect(link.stats.down.retransmitted).toBe(1);
  });

  it('holds everything through a blackout and delivers it, in order, when it ends', async () => {
    const { link, device, broker } = await rig({ down: { ...quiet, baseMs: 5 }, up: { ...quiet, baseMs: 5 } });
    const down = receiver(device);
    const up = receiver(broker);
    await until('the first packet up', () => up.length === 1);
    // Long beside the writes (≈ 100 ms), so all twenty fall inside it even on a busy machine.
    const { until: end } = link.blackOut(1_000);
    for (let seq = 1; seq <= 20; seq++) {
      broker.write(publish(seq));
      device.write(publish(seq));
      await sleep(5);
    }
    // Nothing got through before the blackout's end: read from the arrivals' own times, not
    // checked after a fixed sleep.
    await until('the held packets', () => down.length === 20 && up.length === 21);
    for (const a of [...down, ...up.slice(1)]) expect(a.at).toBeGreaterThanOrEqual(end - 1);
    expect(down.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(link.stats.down.held).toBe(20);
    // After it, the link is its plain self again.
    const sent = performance.now();
    broker.write(publish(99));
    await until('a packet after the blackout', () => down.length === 21);
    expect(down[20]!.at - sent).toBeLessThan(50);
  });

  it('turns Nagle off on both of its sockets', async (ctx) => {
    const { link } = await rig({ down: quiet, up: quiet });
    expect(link.openSockets).toHaveLength(2);
    const flags = link.openSockets.map(recordedNoDelay);
    if (flags.includes(undefined))
      skipForEnvironment(ctx, `Node ${process.version} keeps no kSetNoDelay on its sockets`);
    expect(flags).toEqual([true, true]);
  });
});
