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
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics } from '@loaxa/protocol';
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
