/**
 * A broker that refuses a subscription for a while (a clustered broker that cannot store it
 * during an election, access rules not reloaded yet): the link must not sit connected and deaf.
 * Real Aedes on loopback, refusing through its authorizeSubscribe hook.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Subscription } from 'aedes';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { systemClock } from '../clock/clock';
import { MqttLink } from './mqtt-link';

const DEVICE = 'loa-tu-choi';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Aedes refusing every subscription to a topic `refuse(topic)` says no to; records what it granted. */
async function broker(refuse: (topic: string) => boolean) {
  const aedes = await Aedes.createBroker();
  const granted: string[] = [];
  let connects = 0;
  aedes.on('client', () => connects++);
  aedes.authorizeSubscribe = (_client, sub: Subscription, done) => {
    if (refuse(sub.topic)) return done(null, null as unknown as Subscription);
    granted.push(sub.topic);
    done(null, sub);
  };
  const server: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    server.close();
  });
  return {
    aedes,
    /** Publishes the device's plan, retained, as the server does. */
    plan: (zones: string[]) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic: topics.devicePlan(DEVICE),
            payload: Buffer.from(
              JSON.stringify({
                v: 1,
                planVersion: 1,
                generatedAt: Date.now(),
                horizonEnd: Date.now() + 3600_000,
                zones,
                items: [],
              }),
            ),
            qos: 1,
            retain: true,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      ),
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    granted,
    connects: () => connects,
  };
}

function startLink(url: string, zones: string[], commands: unknown[]) {
  const link = new MqttLink(
    {
      deviceId: DEVICE,
      secret: 's',
      mqttUrl: url,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      backoff: { baseMs: 50, maxMs: 200 },
      connectTimeoutMs: 2_000,
    },
    {
      plan: () => zones,
      command: (c) => commands.push(c),
      connected: () => {},
      disconnected: () => {},
      online: () => {},
    },
  );
  cleanups.push(() => link.stop({ abrupt: true }));
  return link;
}

describe('MqttLink when the broker refuses a subscription', () => {
  it('connects again until its plan and command topics are granted', async () => {
    let refusals = 2;
    const b = await broker((topic) => topic === topics.devicePlan(DEVICE) && refusals-- > 0);
    await startLink(b.url, [], []).start();
    await expect.poll(() => b.granted.includes(topics.devicePlan(DEVICE)), { timeout: 10_000 }).toBe(true);
    // The refused connection was given up for a new one (the session's own subscriptions are
    // restored by Aedes too, so how many refusals one connection meets is the broker's affair).
    expect(b.connects()).toBeGreaterThan(1);
    expect(b.granted.filter((t) => t === topics.deviceCmd(DEVICE)).length).toBeGreaterThanOrEqual(1);
  });

  it('asks again, on the same connection, for a zone it was refused', async () => {
    let refusals = 1;
    const zone = topics.zoneCmd('thon-a');
    const b = await broker((topic) => topic === zone && refusals-- > 0);
    await b.plan(['thon-a']);
    const commands: unknown[] = [];
    const link = startLink(b.url, ['thon-a'], commands);
    await link.start();
    await expect.poll(() => b.granted.includes(zone), { timeout: 10_000 }).toBe(true);
    expect(b.connects()).toBe(1); // a zone is asked for again on the same connection
  });
});
