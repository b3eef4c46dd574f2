/**
 * Real infrastructure for agent and simulator tests: an Aedes broker with
 * per-device authentication, a media server that demands the device's Basic
 * header, and an MQTT client playing the server's part.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { parseBasicAuthorization } from '@loaxa/protocol';

export interface TestBroker {
  url: string;
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

/**
 * Aedes on a free loopback port; `credentials` maps username (device id) → password.
 * `onPublish` sees each client publish as the broker receives it, before delivery.
 */
export async function startTestBroker(
  credentials: ReadonlyMap<string, string>,
  onPublish?: (clientId: string, topic: string, payload: Buffer) => void,
): Promise<TestBroker> {
  const aedes = await Aedes.createBroker({
    drainTimeout: 5_000,
    authorizePublish(client, packet, done) {
      if (client) onPublish?.(client.id, packet.topic, packet.payload as Buffer);
      done(null);
    },
    authenticate(client, username, password, done) {
      const expected = username === undefined ? undefined : credentials.get(username);
      if (expected !== undefined && password?.toString('utf8') === expected && client.id === username) {
        done(null, true);
        return;
      }
      const error = new Error('bad username or password') as AuthenticateError;
      error.returnCode = 4;
      done(error, false);
    },
  });
  const server: NetServer = createNetServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    aedes,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface MediaAsset {
  bytes: Buffer;
  sha256: string;
}

export function makeAudio(size = 4096): MediaAsset {
  const bytes = randomBytes(size);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface TestMediaServer {
  url: string;
  /** Serve `bytes` at /media/<sha>.<ext>. */
  add(sha256: string, bytes: Buffer, ext?: string): void;
  /** Request paths with the user that asked, in order. */
  requests: { path: string; user: string | null }[];
  close(): Promise<void>;
}

export async function startMediaServer(credentials: ReadonlyMap<string, string>): Promise<TestMediaServer> {
  const files = new Map<string, Buffer>();
  const requests: TestMediaServer['requests'] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const auth = parseBasicAuthorization(req.headers.authorization);
    requests.push({ path: req.url ?? '', user: auth?.user ?? null });
    if (!auth || credentials.get(auth.user) !== auth.secret) {
      res.writeHead(401).end();
      return;
    }
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': body.byteLength }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add(sha256, bytes, ext = 'ogg') {
      files.set(`/media/${sha256}.${ext}`, bytes);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Received {
  topic: string;
  payload: unknown;
  retain: boolean;
}

/** An MQTT client in the server's role: publishes plans/commands and records everything it hears. */
export class ServerSide {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let parsed: unknown;
      try {
        parsed = payload.byteLength === 0 ? null : JSON.parse(payload.toString('utf8'));
      } catch {
        parsed = payload.toString('utf8');
      }
      const message = { topic, payload: parsed, retain: packet.retain };
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  static async connect(
    brokerUrl: string,
    username: string,
    password: string,
    subscriptions: string[],
  ): Promise<ServerSide> {
    const client = await connectAsync(brokerUrl, { clientId: username, username, password, reconnectPeriod: 0 });
    const side = new ServerSide(client);
    if (subscriptions.length > 0) await client.subscribeAsync(subscriptions, { qos: 1 });
    return side;
  }

  publish(topic: string, payload: unknown, retain = false): Promise<unknown> {
    return this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain });
  }

  /** The first message (already heard or future) that matches; rejects after timeoutMs. */
  waitFor(match: (m: Received) => boolean, timeoutMs = 5_000, what = 'message'): Promise<Received> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (m: Received) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}
