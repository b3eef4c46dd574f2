/**
 * A NATS cluster as the devices' MQTT broker (NATS_URLS): the authorization
 * include file the server keeps for its nodes, in step with the registry.
 *
 * NATS mode, in short (README "Scaling" has the steps): three nats-server
 * nodes (2.9+, Debian's package) with JetStream, a cluster block and an
 * `mqtt {}` listener each; every node's config says `include "loaxa-auth.conf"`
 * at top level and names a `pid_file`. The server is configured with
 * MQTT_URL (each node's MQTT listener, comma-separated: its own MQTT client
 * moves to the next one when its node dies), NATS_URLS (each node's client
 * port: the JetStream consumers of inbound messages, see jetstream-inbound.ts,
 * and the reload probe below), MQTT_USERNAME/MQTT_PASSWORD (its own identity),
 * NATS_AUTH_FILE (this file) and NATS_PID_FILES (the nodes' pid files).
 * Before the nodes' first start the file must exist with at least the server's
 * user; the server rewrites it at its start.
 *
 * What nats-server 2.9.10 requires (../../../shared/DESIGN.md, "Past one machine"):
 * - no `{username}` templates: one `authorization.users` entry per device, with
 *   its own subjects (MQTT `/` is NATS `.`; MQTT topics may not hold `.` or
 *   spaces, so a device or zone id with a `.` cannot use a NATS broker and is
 *   left out, with a warning);
 * - every entry has an explicit `permissions` block (2.9.10 crashes on a SIGHUP
 *   reload when one has none and retained messages exist);
 * - a subscribe allow list holds `$MQTT.sub.>`, or QoS 1 subscriptions fail;
 * - a refused SUBSCRIBE gets SUBACK 0x80; a refused PUBLISH is PUBACKed and dropped.
 * Passwords are bcrypt hashes (nats-server accepts `$2a$`/`$2b$` hashes in
 * place of a password), at the lowest cost: device secrets are 256 random
 * bits, so cost buys no safety, while every device (re)connection pays it on
 * the node. Device users may connect over MQTT only (`allowed_connection_types`).
 *
 * As with Mosquitto (mosquitto.ts), the file is the store of record for
 * broker credentials: the registry tells us a secret only when it makes one.
 * Several server instances share the file: each rewrite re-reads it under a
 * lock file, applies this instance's changes, keeps only the registry's
 * active devices, writes it atomically, signals every node (SIGHUP by pid
 * file) and then confirms: the file holds a probe user with a password new to
 * this generation, and the reload counts as done when that user can log in on
 * every node of NATS_URLS. A node reloaded by other means (its own machine's
 * watcher) is confirmed the same way. On reload a node drops connections whose
 * user is gone (a revoked device) and subscriptions no longer allowed.
 */
import crypto from 'node:crypto';
import { CoalescedFlush } from './coalesced-flush';
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { connect } from 'nats';
import type { Logger } from 'pino';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, ZONE_TOPIC_KINDS, topics, type DeviceTopicKind } from '@loaxa/protocol';

/** bcrypt's lowest cost (see above). */
const BCRYPT_COST = 4;
/** The user that proves a reload: cannot be a device id (those start with a letter or digit). */
export const RELOAD_PROBE_USER = '_loaxa_reload_probe';
/** Ids usable in NATS subjects and config strings: a protocol id (topics.ts) without `.`. */
const NATS_SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The server's own user name: written in a quoted string, so no quote, backslash or control character. */
const SAFE_USER = /^[A-Za-z0-9_.@-]{1,64}$/;

export const isNatsSafeId = (id: string): boolean => NATS_SAFE_ID.test(id);

/** MQTT topic or filter → NATS subject (`/` → `.`, `+` → `*`, `#` → `>`); throws on what NATS cannot carry. */
export function natsSubject(topic: string): string {
  if (/[.\s*>]/.test(topic) || topic.startsWith('/') || topic.endsWith('/') || topic.includes('//'))
    throw new Error(`MQTT topic ${JSON.stringify(topic)} has no NATS subject form`);
  return topic
    .split('/')
    .map((level) => (level === '+' ? '*' : level === '#' ? '>' : level))
    .join('.');
}

/** NATS subject of a message published by an MQTT client → its MQTT topic (inverse of natsSubject for our topics). */
export const mqttTopic = (subject: string): string => subject.split('.').join('/');

export function bcryptHash(secret: string): string {
  return bcrypt.hashSync(secret, BCRYPT_COST);
}

/** The same, off the event loop's critical path: bcryptjs hashes in slices (≈ 5 ms each in plain JS). */
const bcryptHashAsync = (secret: string): Promise<string> => bcrypt.hash(secret, BCRYPT_COST);

export interface NatsUser {
  user: string;
  hash: string;
}

const quoted = (s: string) => {
  if (/["\\\p{Cc}]/u.test(s)) throw new Error(`cannot quote ${JSON.stringify(s)} in a NATS config`);
  return `"${s}"`;
};
const list = (items: readonly string[]) => `[${items.map(quoted).join(', ')}]`;

const DEVICE_TOPIC: Record<DeviceTopicKind, (id: string) => string> = {
  status: topics.deviceStatus,
  telemetry: topics.deviceTelemetry,
  plan: topics.devicePlan,
  cmd: topics.deviceCmd,
  ack: topics.deviceAck,
  ping: topics.devicePing,
  pong: topics.devicePong,
  live: topics.deviceLive,
};
const ZONE_TOPIC = { cmd: topics.zoneCmd, live: topics.zoneLive } as const;

/** The subjects a device may publish and subscribe to: the same rules as access.ts and Mosquitto's ACL. */
export function devicePermissions(
  deviceId: string,
  zones: readonly string[],
): { publish: string[]; subscribe: string[] } {
  return {
    publish: DEVICE_PUBLISHES.map((kind) => natsSubject(DEVICE_TOPIC[kind](deviceId))),
    subscribe: [
      ...DEVICE_SUBSCRIBES.map((kind) => natsSubject(DEVICE_TOPIC[kind](deviceId))),
      ...zones.flatMap((z) => ZONE_TOPIC_KINDS.map((kind) => natsSubject(ZONE_TOPIC[kind](z)))),
      // The delivery subjects of the node's QoS 1 consumers for this client.
      '$MQTT.sub.>',
    ],
  };
}

/**
 * The include file: one line per user so it stays readable and parseable.
 * Devices whose id or a zone id is not NATS-safe must be filtered out before.
 */
export function renderNatsAuthorization(input: {
  server: NatsUser;
  probe: NatsUser;
  devices: readonly (NatsUser & { zones: readonly string[] })[];
}): string {
  if (!SAFE_USER.test(input.server.user))
    throw new Error(`server user ${JSON.stringify(input.server.user)}: use letters, digits, "_", ".", "@" or "-"`);
  const entry = (u: NatsUser, rest: string) => `    { user: ${quoted(u.user)}, password: ${quoted(u.hash)}, ${rest} }`;
  const lines = [
    '# Generated by the Loa Xã server from its device registry (NATS_AUTH_FILE). Do not edit:',
    '# it is rewritten on every change. Include it at top level of each node: include "loaxa-auth.conf"',
    'authorization {',
    '  users = [',
    entry(input.server, 'permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } }'),
    entry(
      input.probe,
      'allowed_connection_types: ["STANDARD"], permissions: { publish: { deny: [">"] }, subscribe: { deny: [">"] } }',
    ),
  ];
  for (const device of input.devices) {
    if (!isNatsSafeId(device.user) || !device.zones.every(isNatsSafeId))
      throw new Error(`device ${JSON.stringify(device.user)} or one of its zones has an id NATS cannot carry`);
    const p = devicePermissions(device.user, device.zones);
    lines.push(
      entry(
        device,
        `allowed_connection_types: ["MQTT"], permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} } }`,
      ),
    );
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}

/**
 * The include file an operator writes once, before the nodes' first start (`loaxa nats-auth-init`):
 * the server's own user (MQTT_USERNAME / MQTT_PASSWORD) and no devices yet; the server rewrites it
 * at its start. Refuses to replace a file that exists (it holds the devices' credentials).
 */
export function writeInitialNatsAuthorization(file: string, user: string, password: string): void {
  const text = renderNatsAuthorization({
    server: { user, hash: bcryptHash(password) },
    probe: { user: RELOAD_PROBE_USER, hash: bcryptHash(crypto.randomBytes(18).toString('base64url')) },
    devices: [],
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // 'wx': never over an existing file; readable by the group the nodes run as, not by others.
  fs.writeFileSync(file, text, { flag: 'wx', mode: 0o640 });
}

/** user → password hash, from a file renderNatsAuthorization wrote. */
export function parseNatsAuthorization(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const m of text.matchAll(/^\s*\{\s*user:\s*"([^"]+)",\s*password:\s*"([^"]+)"/gm)) users.set(m[1]!, m[2]!);
  return users;
}

export interface NatsRegistryView {
  listDevices():
    | readonly { id: string; zones: readonly string[]; revoked: boolean }[]
    | Promise<readonly { id: string; zones: readonly string[]; revoked: boolean }[]>;
}

/** Logs in as `user` on the one node at `url`; true when the node accepts. */
export async function natsLoginWorks(url: string, user: string, pass: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const nc = await connect({
      servers: url,
      user,
      pass,
      reconnect: false,
      ignoreClusterUpdates: true,
      timeout: timeoutMs,
      name: 'loaxa-reload-probe',
    });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export interface NatsAuthorizationOptions {
  file: string;
  /** Each node's pid file: SIGHUP after every rewrite. Empty: the nodes are reloaded by other means. */
  pidFiles: readonly string[];
  /** Each node's client URL (nats://host:port): the reload is confirmed on every one. */
  natsUrls: readonly string[];
  serverUser: string;
  serverPassword: string;
  registry: NatsRegistryView;
  logger: Logger;
  /** Coalescing window for bursts of changes. */
  delayMs?: number;
  /** How long every node has to accept the new probe credential. */
  confirmTimeoutMs?: number;
}

/**
 * Keeps the include file current. Changes are coalesced (provisioning a
 * thousand devices rewrites the file a few times, not a thousand), then every
 * node reloads and we wait until each has (see the probe above).
 */
export class NatsAuthorization {
  /** This instance's changes not yet written: a new hash (being computed), or null for a revoked device. */
  private pending = new Map<string, Promise<string> | null>();
  private readonly flush: CoalescedFlush;
  private readonly checkedServerHashes = new Set<string>();
  private readonly warnedUnsafe = new Set<string>();
  private warnedMissing = false;
  private readonly log: Logger;

  constructor(private readonly options: NatsAuthorizationOptions) {
    this.flush = new CoalescedFlush(
      () => this.writeReloadConfirm(),
      (err) => this.log.error({ err }, 'could not update the NATS authorization'),
      this.options.delayMs,
    );
    this.log = options.logger.child({ module: 'nats-auth' });
    if (!SAFE_USER.test(options.serverUser))
      throw new Error(`MQTT_USERNAME=${JSON.stringify(options.serverUser)}: use letters, digits, "_", ".", "@" or "-"`);
  }

  /** Writes the file from the registry (dropping revoked and deleted devices), reloads and confirms. */
  start(): Promise<boolean> {
    return this.flush.now();
  }

  deviceCreated(deviceId: string, secret: string): void {
    const hash = bcryptHashAsync(secret);
    hash.catch(() => {}); // awaited at the flush, which reports a failure
    this.pending.set(deviceId, hash);
    this.flush.request();
  }

  deviceRevoked(deviceId: string): void {
    this.pending.set(deviceId, null);
    this.flush.request();
  }

  zonesChanged(): void {
    this.flush.request();
  }

  /** Resolves once every change made so far is in force (false: it was not confirmed). */
  settled(): Promise<boolean> {
    return this.flush.settled();
  }

  close(): void {
    this.flush.close();
  }

  private async writeReloadConfirm(): Promise<boolean> {
    const { file } = this.options;
    const release = await acquireLock(`${file}.lock`, (this.options.confirmTimeoutMs ?? 10_000) + 20_000);
    // Taken before the registry is read: a device it announced is in the registry by then.
    const changes = this.pending;
    this.pending = new Map();
    try {
      const devices = await this.options.registry.listDevices();
      const known = fs.existsSync(file) ? parseNatsAuthorization(fs.readFileSync(file, 'utf8')) : new Map();
      for (const [id, hash] of changes) {
        if (hash === null) known.delete(id);
        else known.set(id, await hash);
      }
      const missing: string[] = [];
      const entries: (NatsUser & { zones: readonly string[] })[] = [];
      for (const d of devices) {
        if (d.revoked || d.id === this.options.serverUser) continue;
        const hash = known.get(d.id);
        if (!hash) missing.push(d.id);
        else if (!isNatsSafeId(d.id) || !d.zones.every(isNatsSafeId)) this.warnUnsafe(d.id);
        else entries.push({ user: d.id, hash, zones: d.zones });
      }
      // Told once, at this instance's first write: later, a device another instance has just
      // provisioned can be in the registry a moment before its credential is in the file.
      if (missing.length > 0 && !this.warnedMissing) {
        this.warnedMissing = true;
        this.log.warn(
          { count: missing.length, devices: missing.slice(0, 20) },
          'devices without a broker credential (provisioned before the NATS broker was configured): provision them again to get a new secret',
        );
      }
      this.warnedMissing = true;
      const probePassword = crypto.randomBytes(18).toString('base64url');
      const text = renderNatsAuthorization({
        server: { user: this.options.serverUser, hash: await this.serverHash(known.get(this.options.serverUser)) },
        probe: { user: RELOAD_PROBE_USER, hash: await bcryptHashAsync(probePassword) },
        devices: entries,
      });
      writeAtomically(file, text);
      const signalled = this.signalReload();
      const confirmed = await this.confirm(probePassword);
      return signalled && confirmed;
    } catch (err) {
      // Not written: the changes go with the next attempt, unless a newer one replaced them.
      for (const [id, hash] of changes) if (!this.pending.has(id)) this.pending.set(id, hash);
      throw err;
    } finally {
      release();
    }
  }

  /** The hash already in the file when it still matches MQTT_PASSWORD (checked once per hash), else a new one. */
  private async serverHash(existing: string | undefined): Promise<string> {
    if (existing && this.checkedServerHashes.has(existing)) return existing;
    if (existing && (await bcrypt.compare(this.options.serverPassword, existing))) {
      this.checkedServerHashes.add(existing);
      return existing;
    }
    const hash = await bcryptHashAsync(this.options.serverPassword);
    this.checkedServerHashes.add(hash);
    return hash;
  }

  private warnUnsafe(deviceId: string): void {
    if (this.warnedUnsafe.has(deviceId)) return;
    this.warnedUnsafe.add(deviceId);
    this.log.warn(
      { deviceId },
      'device left out of the NATS authorization: NATS cannot carry a "." in an MQTT topic (device or zone id)',
    );
  }

  private signalReload(): boolean {
    let ok = true;
    for (const pidFile of this.options.pidFiles) {
      try {
        const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no process id in ${pidFile}`);
        process.kill(pid, 'SIGHUP');
      } catch (err) {
        ok = false;
        this.log.error({ err, pidFile }, 'could not signal a NATS node to reload');
      }
    }
    return ok;
  }

  /** Every node accepts this generation's probe password: it has loaded the file we just wrote. */
  private async confirm(probePassword: string): Promise<boolean> {
    const deadline = Date.now() + (this.options.confirmTimeoutMs ?? 10_000);
    const results = await Promise.all(
      this.options.natsUrls.map(async (url) => {
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) return false;
          if (await natsLoginWorks(url, RELOAD_PROBE_USER, probePassword, Math.min(left, 2_000))) return true;
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    const late = this.options.natsUrls.filter((_, i) => !results[i]);
    if (late.length > 0) this.log.warn({ nodes: late }, 'NATS nodes did not confirm the authorization reload in time');
    return late.length === 0;
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  // Group-readable: nats-server usually runs as its own user in a group shared with the server.
  fs.writeFileSync(tmp, text, { mode: 0o640 });
  fs.renameSync(tmp, file);
}

/**
 * An exclusive lock file beside the auth file, so two server instances do not
 * interleave read-merge-write-confirm. A lock older than `staleMs` was left by
 * a dead instance and is taken over.
 */
async function acquireLock(lockFile: string, staleMs: number): Promise<() => void> {
  const deadline = Date.now() + staleMs + 5_000;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) fs.rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lockFile} is held by another server instance`);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
}
