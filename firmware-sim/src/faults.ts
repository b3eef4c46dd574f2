/**
 * Fault injection for the simulated fleet. Faults sit where they happen on a
 * real node: the network (a TCP proxy in front of the broker that can cut a
 * device off or drop its connection), the HTTP path to the media (a proxy that
 * slows, fails or corrupts one device's downloads), the disk (a cache whose
 * writes fail with ENOSPC), the clock (skew) and the power (an abrupt stop and
 * a boot with the same durable state, while the device is playing).
 */
import http from 'node:http';
import net from 'node:net';
import type { FileAsset } from '@loaxa/protocol';
import type { AssetCache, CachedAsset } from '@loaxa/device-agent';

/** A fraction of the fleet (0…1, spread evenly over it) or explicit device ids. */
export type DeviceSelector = number | readonly string[];

export interface FaultOptions {
  /** Devices cut off from the broker for `forMs`, `afterMs` after the fleet starts; without afterMs, when fleet.faults.goOffline() is called. */
  offline?: { devices: DeviceSelector; forMs: number; afterMs?: number };
  /** The device's MQTT connection is dropped every `everyMs` (it reconnects by its own backoff). */
  connectionDrops?: { devices: DeviceSelector; everyMs: number };
  /** Media downloads trickle at this rate. */
  slowDownloads?: { devices: DeviceSelector; bytesPerSecond: number };
  /** The first `failures` media requests of each device fail (503, or reset half-way through the body, in turn). */
  failingDownloads?: { devices: DeviceSelector; failures: number };
  /** The first `times` downloads of each device arrive with one byte flipped. */
  corruptDownloads?: { devices: DeviceSelector; times: number };
  /** Device clocks off by up to ±maxMs (alternating sign, spread over the selected devices). */
  clockSkew?: { devices: DeviceSelector; maxMs: number };
  /** The first `failures` cache writes of each device fail with ENOSPC. */
  diskFull?: { devices: DeviceSelector; failures: number };
  /** Power cut `afterMs` after the device starts playing (once per device), boot again after `downMs`. */
  rebootWhilePlaying?: { devices: DeviceSelector; afterMs: number; downMs: number };
}

export const FAULT_NAMES = [
  'offline',
  'connectionDrops',
  'slowDownloads',
  'failingDownloads',
  'corruptDownloads',
  'clockSkew',
  'diskFull',
  'rebootWhilePlaying',
] as const satisfies readonly (keyof FaultOptions)[];
export type FaultName = (typeof FAULT_NAMES)[number];

/** Which of `allIds` a selector picks: a fraction takes every k-th device so faults spread over zones. */
export function selectDevices(selector: DeviceSelector, allIds: readonly string[]): Set<string> {
  if (typeof selector !== 'number') return new Set(selector.filter((id) => allIds.includes(id)));
  const count = Math.round(Math.min(1, Math.max(0, selector)) * allIds.length);
  const picked = new Set<string>();
  for (let i = 0; i < count; i++) picked.add(allIds[Math.floor((i * allIds.length) / count)]!);
  return picked;
}

// ---- network: a TCP proxy in front of the broker ---------------------------

/** The client id of an MQTT CONNECT packet at the start of `buf`; undefined while incomplete. */
export function connectClientId(buf: Buffer): string | undefined | null {
  if (buf.length < 2) return undefined;
  if (buf[0]! >> 4 !== 1) return null; // not a CONNECT
  let i = 1;
  let multiplier = 1;
  let remaining = 0;
  for (;;) {
    if (i >= buf.length) return undefined;
    const byte = buf[i++]!;
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
    if (i > 4) return null;
  }
  if (buf.length < i + remaining) return undefined;
  const nameLen = buf.readUInt16BE(i);
  const payload = i + 2 + nameLen + 4; // protocol level, connect flags, keep alive
  const idLen = buf.readUInt16BE(payload);
  return buf.toString('utf8', payload + 2, payload + 2 + idLen);
}

export class NetworkFaults {
  private readonly server: net.Server;
  private readonly sockets = new Map<string, Set<net.Socket>>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Connections dropped by faults, per device. */
  readonly drops = new Map<string, number>();

  private constructor(
    private readonly upstream: { host: string; port: number },
    readonly port: number,
    server: net.Server,
  ) {
    this.server = server;
  }

  static async start(mqttUrl: string): Promise<NetworkFaults> {
    const url = new URL(mqttUrl);
    if (url.protocol !== 'mqtt:') throw new Error(`network faults need an mqtt:// broker URL, not ${url.protocol}//`);
    const upstream = { host: url.hostname, port: Number(url.port) || 1883 };
    const ref: { self?: NetworkFaults } = {};
    const server = net.createServer((socket) => ref.self!.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    ref.self = new NetworkFaults(upstream, (server.address() as net.AddressInfo).port, server);
    return ref.self;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Drops the devices' connections and refuses new ones for `forMs`. */
  cutOff(deviceIds: Iterable<string>, forMs: number): void {
    const until = Date.now() + forMs;
    for (const id of deviceIds) {
      this.blockedUntil.set(id, until);
      this.drop(id);
    }
  }

  /** Drops the devices' current connections once. */
  drop(deviceId: string): void {
    const live = this.sockets.get(deviceId);
    if (!live?.size) return;
    this.drops.set(deviceId, (this.drops.get(deviceId) ?? 0) + 1);
    for (const s of live) s.destroy();
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.add(t);
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.add(t);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const set of this.sockets.values()) for (const s of set) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    let head = Buffer.alloc(0);
    client.on('error', () => {});
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const id = connectClientId(head);
      if (id === undefined) return;
      client.off('data', onData);
      if (id === null || (this.blockedUntil.get(id) ?? 0) > Date.now()) return void client.destroy();
      client.pause();
      const upstream = net.connect(this.upstream.port, this.upstream.host);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      upstream.once('connect', () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      let set = this.sockets.get(id);
      if (!set) this.sockets.set(id, (set = new Set()));
      set.add(client);
      client.on('close', () => set.delete(client));
    };
    client.on('data', onData);
  }
}

// ---- media downloads: an HTTP proxy in front of the server ------------------

export interface DownloadFaultPlan {
  slow?: { devices: ReadonlySet<string>; bytesPerSecond: number };
  failing?: { devices: ReadonlySet<string>; failures: number };
  corrupt?: { devices: ReadonlySet<string>; times: number };
}

function basicUser(header: string | undefined): string | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  return Buffer.from(m[1]!, 'base64').toString('utf8').split(':')[0];
}

export class DownloadFaults {
  readonly requests = new Map<string, number>();
  /** Faults actually applied, per kind, for the report. */
  readonly applied = { failed: 0, reset: 0, corrupted: 0, slowed: 0 };

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(serverUrl: string, plan: DownloadFaultPlan): Promise<DownloadFaults> {
    const upstream = new URL(serverUrl);
    if (upstream.protocol !== 'http:') throw new Error('download faults need an http:// server URL');
    const ref: { self?: DownloadFaults } = {};
    const server = http.createServer((req, res) => ref.self!.handle(upstream, plan, req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    ref.self = new DownloadFaults(server, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    return ref.self;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(upstream: URL, plan: DownloadFaultPlan, req: http.IncomingMessage, res: http.ServerResponse): void {
    const deviceId = basicUser(req.headers.authorization) ?? '';
    const n = (this.requests.get(deviceId) ?? 0) + 1;
    this.requests.set(deviceId, n);
    const failing = plan.failing?.devices.has(deviceId) && n <= plan.failing.failures;
    if (failing && n % 2 === 1) {
      this.applied.failed++;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('simulated failure');
      return;
    }
    const corrupt = plan.corrupt?.devices.has(deviceId) && n <= plan.corrupt.times;
    const slow = plan.slow?.devices.has(deviceId) ? plan.slow.bytesPerSecond : 0;
    const up = http.request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (upRes) => {
        if (!failing && !corrupt && !slow) {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (failing) {
            // Half the body, then the connection dies (a 4G drop mid-transfer).
            this.applied.reset++;
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
            return;
          }
          if (corrupt && body.length > 0 && upRes.statusCode && upRes.statusCode < 300) {
            this.applied.corrupted++;
            body[Math.floor(body.length / 2)]! ^= 0xff;
          }
          if (!slow) return void res.end(body);
          this.applied.slowed++;
          const step = Math.max(1, Math.round(slow / 10));
          let at = 0;
          const tick = setInterval(() => {
            if (res.destroyed) return clearInterval(tick);
            res.write(body.subarray(at, at + step));
            at += step;
            if (at >= body.length) {
              clearInterval(tick);
              res.end();
            }
          }, 100);
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}

// ---- disk: a cache whose writes fail ---------------------------------------

export class DiskFullCache implements AssetCache {
  failed = 0;

  constructor(
    private readonly inner: AssetCache,
    private failuresLeft: number,
  ) {}

  lookup(asset: FileAsset): Promise<CachedAsset | null> {
    return this.inner.lookup(asset);
  }

  async store(asset: FileAsset, bytes: Uint8Array): Promise<CachedAsset> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      this.failed++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return this.inner.store(asset, bytes);
  }

  sizeBytes(): Promise<number> {
    return this.inner.sizeBytes();
  }
}

/** Skews for the selected devices: ±maxMs, alternating sign, spread evenly in between. */
export function clockSkews(selected: readonly string[], maxMs: number): Map<string, number> {
  const skews = new Map<string, number>();
  selected.forEach((id, i) => {
    const magnitude = selected.length === 1 ? maxMs : Math.round(maxMs * (1 - Math.floor(i / 2) / selected.length));
    skews.set(id, i % 2 === 0 ? magnitude : -magnitude);
  });
  return skews;
}

/** Parses a CLI fault flag such as "0.1:2000:5000" into numbers, naming the flag on error. */
export function parseFaultNumbers(flag: string, value: string, count: number): number[] {
  const parts = value.split(':').map(Number);
  if (parts.length !== count || parts.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new Error(`--${flag}: expected ${count} non-negative numbers separated by ":", got ${JSON.stringify(value)}`);
  }
  return parts;
}
