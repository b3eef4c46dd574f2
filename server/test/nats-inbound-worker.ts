/**
 * A server instance's inbound consumer in its own process, for
 * nats-inbound.cluster.test.ts to kill -9 while it holds a message: its handler prints
 * what it got and never finishes, so the message is never acked.
 *
 *     node --import tsx server/test/nats-inbound-worker.ts nats://127.0.0.1:4222,… ACK_WAIT_MS
 */
import pino from 'pino';
import { startJetStreamInbound } from '../src/broker/jetstream-inbound';

const [urls = '', ackWaitMs = '2000'] = process.argv.slice(2);
await startJetStreamInbound({
  servers: urls.split(','),
  logger: pino({ level: 'silent' }),
  ackWaitMs: Number(ackWaitMs),
  concurrency: 1,
  batch: 1,
  handle: (topic, payload) => {
    process.stdout.write(`got ${topic} ${payload.toString()}\n`);
    return new Promise<void>(() => {});
  },
});
process.stdout.write('ready\n');
