import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { systemClock } from '../clock/clock';
import { MqttLink } from './mqtt-link';

/** A broker that accepts everything but never confirms the device's acks (PUBACK never comes). */
let aedes: Aedes;
let server: Server;
let url: string;
beforeAll(async () => {
  aedes = await Aedes.createBroker({
    authorizePublish(_client, packet, done) {
      if (packet.topic !== topics.deviceAck('stuck-1')) done(null);
    },
  });
  server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('MqttLink.stop', () => {
  it('ends within its grace period even when an ack is never confirmed', async () => {
    const link = new MqttLink(
      { deviceId: 'stuck-1', secret: 's', mqttUrl: url, clock: systemClock, logger: pino({ level: 'silent' }) },
      { plan: () => [], command: () => {}, connected: () => {}, disconnected: () => {}, online: () => {} },
    );
    await link.start();
    await expect.poll(() => link.isConnected).toBe(true);
    const unconfirmed = link.publishAck({ v: 1, occurrenceId: 'occ-1', stage: 'received', at: Date.now() });
    const started = Date.now();
    await link.stop();
    expect(Date.now() - started).toBeLessThan(5_000); // mqtt.js alone waits for the PUBACK for ever
    await expect(unconfirmed).rejects.toBeDefined(); // left for the outbox to send again
  });
});
