/**
 * Inbound device messages are handed to the server's handlers in arrival order
 * and acknowledged (PUBACK) only once the handlers have stored them.
 */
import { skipForEnvironment } from '../../../scripts/test/require-tool';
import { recordedNoDelay } from '../../../scripts/test/no-delay';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics } from '@loaxa/protocol';
import type { InboundHandler } from './bus';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded';

const devices = {
  verifySecret: async (id: string, secret: string) => id === 'loa-1' && secret === 's',
  zonesOf: async () => [],
};
let broker: EmbeddedBroker | null = null;
let client: mqtt.MqttClient | null = null;

afterEach(async () => {
  await client?.endAsync(true);
  client = null;
  await broker?.bus.close();
  broker = null;
});

async function start(handler: InboundHandler): Promise<void> {
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', devices, logger: pino({ level: 'silent' }) });
  broker.bus.onDeviceMessage(handler);
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    clientId: 'loa-1',
    username: 'loa-1',
    password: 's',
    clean: false,
    reconnectPeriod: 50,
  });
}

describe('embedded broker inbound messages', () => {
  it('hands them over in arrival order and acknowledges each once it is stored', async () => {
    const seen: string[] = [];
    const stored: string[] = [];
    let store: () => void = () => {};
    const storing = new Promise<void>((resolve) => (store = resolve));
    await start((_topic, payload) => {
      const text = payload.toString();
      seen.push(text);
      return storing.then(() => void stored.push(text));
    });
    let acknowledged = 0;
    const sent = Array.from({ length: 50 }, (_, i) =>
      client!.publishAsync(topics.deviceAck('loa-1'), `m${i}`, { qos: 1 }).then(() => acknowledged++),
    );
    await vi.waitFor(() => expect(seen).toHaveLength(50));
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(acknowledged).toBe(0);
    store();
    await Promise.all(sent);
    expect(stored).toHaveLength(50);
  });

  it('does not acknowledge a message that was not stored: the device sends it again', async () => {
    let failures = 1;
    const stored: string[] = [];
    await start(async (_topic, payload) => {
      if (failures-- > 0) throw new Error('disk I/O error');
      stored.push(payload.toString());
    });
    await client!.publishAsync(topics.deviceAck('loa-1'), 'only-once-stored', { qos: 1 });
    expect(stored).toEqual(['only-once-stored']);
  });

  it('acknowledges at once what no handler stores', async () => {
    await start(() => {});
    await client!.publishAsync(topics.deviceAck('loa-1'), 'x', { qos: 1 });
  });
});

describe('embedded broker sockets', () => {
  it('turns Nagle off (TCP_NODELAY) on every accepted MQTT socket', async (ctx) => {
    // Calls through to Node's emit; only records which sockets each server accepted.
    const emit = vi.spyOn(net.Server.prototype, 'emit');
    try {
      broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', devices, logger: pino({ level: 'silent' }) });
      client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
        clientId: 'loa-1',
        username: 'loa-1',
        password: 's',
        reconnectPeriod: 0,
      });
      const accepted = emit.mock.calls
        .map((call, i) => ({ event: call[0] as string, socket: call[1], server: emit.mock.contexts[i] as net.Server }))
        .filter(({ event, server }) => {
          const address = server.address();
          return event === 'connection' && typeof address === 'object' && address?.port === broker!.port;
        })
        .map(({ socket }) => socket as net.Socket);
      expect(accepted).toHaveLength(1);
      const noDelay = recordedNoDelay(accepted[0]!);
      if (noDelay === undefined) skipForEnvironment(ctx, `Node ${process.version} keeps no kSetNoDelay on its sockets`);
      expect(noDelay).toBe(true);
    } finally {
      emit.mockRestore();
    }
  });
});

/**
 * A burst the embedded broker must survive (found by `npm run bench -- --devices 5000`: the
 * server died with "Maximum call stack size exceeded" in Aedes' message queue). Aedes hands every
 * publish to an in-process queue (mqemitter) that lets a fixed number of messages be delivered at
 * once; the rest wait in line, and when a slot frees, each waiting message nobody subscribes to
 * (a device's status or ack: the server takes those before the queue) finishes at once and calls
 * for the next one in the same stack. Thousands of them waiting in line behind a slow loudspeaker's
 * deliveries overflowed the stack. Here: one loudspeaker stops reading while the server sends it
 * more than such a limit of plans, then thousands of messages nobody follows are published, then
 * it reads again.
 */
describe('embedded broker under a burst', () => {
  it('delivers everything after a loudspeaker stalls while thousands of unfollowed messages wait', async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', devices, logger: pino({ level: 'silent' }) });
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      clientId: 'loa-1',
      username: 'loa-1',
      password: 's',
      clean: true,
      reconnectPeriod: 0,
    });
    await client.subscribeAsync(topics.deviceCmd('loa-1'), { qos: 0 });
    const STALLED = 2_500;
    const UNFOLLOWED = 20_000;
    let received = 0;
    client.on('message', () => received++);
    // The loudspeaker stops reading: its socket fills and every further delivery waits to drain.
    client.stream.pause();
    const payload = Buffer.alloc(16 * 1024, 'a');
    const sent: Promise<void>[] = [];
    for (let i = 0; i < STALLED; i++) sent.push(broker.bus.publish(topics.deviceCmd('loa-1'), payload, { qos: 0 }));
    // Messages no one subscribes to, queued behind those deliveries.
    for (let i = 0; i < UNFOLLOWED; i++) {
      sent.push(broker.bus.publish(topics.zoneCmd(`khong-ai-${i % 50}`), 'x', { qos: 0 }));
    }
    await new Promise((r) => setTimeout(r, 200));
    client.stream.resume();
    // Before the fix the queue's recursion threw in a drain callback: an uncaught error, and the
    // rest of the queue never ran (these promises never settled).
    await Promise.all(sent);
    await expect.poll(() => received, { timeout: 20_000 }).toBe(STALLED);
  }, 60_000);
});
