/**
 * Inbound device messages are stored in batches (one commit per turn of the
 * event loop) and acknowledged only after their batch is stored.
 */
import { skipForEnvironment } from '../../../scripts/test/require-tool';
import { recordedNoDelay } from '../../../scripts/test/no-delay';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics } from '@loaxa/protocol';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded';

const devices = { verifySecret: (id: string, secret: string) => id === 'loa-1' && secret === 's', zonesOf: () => [] };
let broker: EmbeddedBroker | null = null;
let client: mqtt.MqttClient | null = null;

afterEach(async () => {
  await client?.endAsync(true);
  client = null;
  await broker?.bus.close();
  broker = null;
});

async function start(batch: (run: () => void) => void): Promise<string[]> {
  const seen: string[] = [];
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', devices, logger: pino({ level: 'silent' }), batch });
  broker.bus.onDeviceMessage((_topic, payload) => seen.push(payload.toString()));
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    clientId: 'loa-1',
    username: 'loa-1',
    password: 's',
    clean: false,
    reconnectPeriod: 50,
  });
  return seen;
}

describe('embedded broker inbound batches', () => {
  it('stores the messages of one turn with one commit', async () => {
    const batches: number[] = [];
    let current = 0;
    const seen = await start((run) => {
      current = 0;
      run();
      batches.push(current);
    });
    broker!.bus.onDeviceMessage(() => current++);
    const sent = Array.from({ length: 50 }, (_, i) =>
      client!.publishAsync(topics.deviceAck('loa-1'), `m${i}`, { qos: 1 }),
    );
    await Promise.all(sent);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(50);
    expect(batches.length).toBeLessThan(25);
  });

  it('does not acknowledge a message whose commit failed: the device sends it again', async () => {
    let failures = 1;
    let committed: string[] = [];
    const seen = await start((run) => {
      const before = seen.length;
      run();
      if (failures-- > 0) {
        seen.splice(before); // rolled back
        throw new Error('disk I/O error');
      }
      committed = [...seen];
    });
    await client!.publishAsync(topics.deviceAck('loa-1'), 'only-once-stored', { qos: 1 });
    expect(committed).toEqual(['only-once-stored']);
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
