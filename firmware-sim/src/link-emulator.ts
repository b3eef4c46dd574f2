/**
 * A 4G-like link in user space (this kernel has no sch_netem): a TCP proxy
 * between the loudspeakers and the broker that cuts each direction's byte
 * stream into MQTT packets (mqtt-packet, the parser mqtt.js itself uses) and
 * forwards the original bytes of each one after a delay: a base delay plus
 * gaussian jitter, never before the packet ahead of it (TCP keeps order).
 * QoS 0 PUBLISH packets may be lost; QoS 1/2 ones never are (TCP would
 * retransmit them: their loss shows up as delay, when `retransmitMs` is set).
 * A blackout holds everything on every link and delivers it when it ends, as a
 * 4G stall does. Nagle is off on both sockets of every connection, as it is on
 * the broker's (DESIGN.md, "Live audio").
 */
import net from 'node:net';
import { parser as mqttParser, type Packet } from 'mqtt-packet';

export interface LinkDirection {
  /** Fixed one-way delay, ms. */
  baseMs: number;
  /** Standard deviation of the gaussian jitter added to each packet, ms. */
  jitterMs: number;
  /** Probability (0…1) that a QoS 0 PUBLISH is lost. */
  loss: number;
  /** A "lost" QoS ≥ 1 PUBLISH arrives this much later instead (TCP's retransmission); 0: never delayed. */
  retransmitMs?: number;
}

export interface LinkProfile {
  /** Broker → loudspeaker. */
  down: LinkDirection;
  /** Loudspeaker → broker. */
  up: LinkDirection;
}

/** The link the live bench starts from: 30 ms down, 40 ms up, σ 10 ms, no loss. */
export const FOUR_G: LinkProfile = {
  down: { baseMs: 30, jitterMs: 10, loss: 0 },
  up: { baseMs: 40, jitterMs: 10, loss: 0 },
};

export interface DirectionStats {
  packets: number;
  /** QoS 0 PUBLISH packets lost on purpose. */
  dropped: number;
  /** QoS ≥ 1 packets delayed by a simulated retransmission. */
  retransmitted: number;
  /** Packets that waited for a blackout to end. */
  held: number;
}

export interface LinkEmulatorOptions {
  profile?: LinkProfile;
  /** 0 ≤ x < 1; tests pass a seeded one. */
  random?: () => number;
}

/** Bytes of the remaining-length field of an MQTT fixed header for a body of `length` bytes. */
function varintBytes(length: number): number {
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
}

/** A standard normal deviate (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One direction of one connection: packets in, the same bytes out later, in order. */
class DelayLine {
  private readonly parser = mqttParser();
  /** Bytes given to the parser whose packets have not all come out yet. */
  private pending: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private readonly queue: { bytes: Buffer; at: number }[] = [];
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly link: LinkEmulator,
    private readonly direction: 'down' | 'up',
    private readonly out: net.Socket,
    onError: () => void,
  ) {
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', onError);
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.parser.parse(chunk);
    this.pending = this.pending.subarray(this.consumed);
    this.consumed = 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private onPacket(packet: Packet): void {
    const length = packet.length ?? 0;
    const size = 1 + varintBytes(length) + length;
    const bytes = this.pending.subarray(this.consumed, this.consumed + size);
    this.consumed += size;
    const spec = this.link.profile[this.direction];
    const stats = this.link.stats[this.direction];
    stats.packets++;
    let extra = 0;
    if (packet.cmd === 'publish' && spec.loss > 0 && this.link.random() < spec.loss) {
      if ((packet.qos ?? 0) === 0) {
        stats.dropped++;
        return;
      }
      if (spec.retransmitMs) {
        stats.retransmitted++;
        extra = spec.retransmitMs;
      }
    }
    const now = performance.now();
    const delay = Math.max(0, spec.baseMs + spec.jitterMs * gaussian(this.link.random)) + extra;
    const at = Math.max(now + delay, this.lastAt);
    this.lastAt = at;
    this.queue.push({ bytes, at });
    if (this.queue.length === 1) this.pump();
  }

  /** Writes what is due (nothing while the link is blacked out); sleeps until the next one. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    const blackoutEnd = this.link.blackoutEnd(now);
    if (blackoutEnd === null) {
      while (this.queue.length > 0 && this.queue[0]!.at <= now) {
        const { bytes, at } = this.queue.shift()!;
        if (at < this.link.lastBlackoutEnd) this.link.stats[this.direction].held++;
        this.out.write(bytes);
      }
    }
    if (this.queue.length === 0) return;
    const next = blackoutEnd ?? this.queue[0]!.at;
    this.timer = setTimeout(() => this.pump(), Math.max(0, next - now));
  }
}

export class LinkEmulator {
  readonly stats: Record<'down' | 'up', DirectionStats> = {
    down: { packets: 0, dropped: 0, retransmitted: 0, held: 0 },
    up: { packets: 0, dropped: 0, retransmitted: 0, held: 0 },
  };
  profile: LinkProfile;
  readonly random: () => number;
  private readonly lines = new Set<DelayLine>();
  private readonly sockets = new Set<net.Socket>();
  /** performance.now() span of the current (or last) blackout. */
  private blackout = { from: -Infinity, until: -Infinity };

  private constructor(
    private readonly server: net.Server,
    private readonly upstream: { host: string; port: number },
    options: LinkEmulatorOptions,
  ) {
    this.profile = structuredClone(options.profile ?? FOUR_G);
    this.random = options.random ?? Math.random;
  }

  /** Listens on 127.0.0.1 (a free port) in front of the broker at `mqttUrl`. */
  static async start(mqttUrl: string, options: LinkEmulatorOptions = {}): Promise<LinkEmulator> {
    const url = new URL(mqttUrl);
    if (url.protocol !== 'mqtt:')
      throw new Error(`the link emulator needs an mqtt:// broker URL, not ${url.protocol}//`);
    const ref: { self?: LinkEmulator } = {};
    const server = net.createServer({ noDelay: true }, (socket) => ref.self!.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ref.self = new LinkEmulator(server, { host: url.hostname, port: Number(url.port) || 1883 }, options);
    return ref.self;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Connections open through the link. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Both sockets of every open connection (the device's and the broker's ends). */
  get openSockets(): readonly net.Socket[] {
    return [...this.sockets];
  }

  /** Changes the link for packets from now on (those queued keep their time). */
  setProfile(profile: LinkProfile): void {
    this.profile = structuredClone(profile);
  }

  /** Holds everything on every link, both ways, for `forMs` from now; returns its span (performance.now()). */
  blackOut(forMs: number): { from: number; until: number } {
    const from = performance.now();
    this.blackout = { from, until: from + forMs };
    // Lines asleep until a packet due inside the blackout wake at its end instead; each re-arms itself.
    setTimeout(() => {
      for (const line of this.lines) line.pump();
    }, forMs).unref();
    return { ...this.blackout };
  }

  /** When the blackout covering `now` ends; null when none does. */
  blackoutEnd(now: number): number | null {
    return now >= this.blackout.from && now < this.blackout.until ? this.blackout.until : null;
  }

  /** End of the last blackout (packets due before it were held). */
  get lastBlackoutEnd(): number {
    return this.blackout.until;
  }

  async close(): Promise<void> {
    for (const line of this.lines) line.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    const upstream = net.connect({ port: this.upstream.port, host: this.upstream.host, noDelay: true });
    upstream.setNoDelay(true);
    this.sockets.add(client).add(upstream);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    const down = new DelayLine(this, 'down', client, teardown);
    const up = new DelayLine(this, 'up', upstream, teardown);
    this.lines.add(down).add(up);
    client.on('data', (chunk: Buffer) => up.push(chunk));
    upstream.on('data', (chunk: Buffer) => down.push(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', teardown);
      socket.on('close', () => {
        teardown();
        down.close();
        up.close();
        this.lines.delete(down);
        this.lines.delete(up);
        this.sockets.delete(socket);
      });
    }
  }
}
