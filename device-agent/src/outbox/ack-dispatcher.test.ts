import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AckPayload, AckStage } from '@loaxa/protocol';
import { AckDispatcher, type AckTransport } from './ack-dispatcher';
import { MemoryAckOutbox } from './outbox';

/** The broker's side of the link: what was published and when (performance.now()); PUBACK at once. */
class Broker implements AckTransport {
  isConnected = true;
  readonly published: { ack: AckPayload; at: number }[] = [];

  async publishAck(ack: AckPayload): Promise<void> {
    this.published.push({ ack, at: performance.now() });
  }

  /** Resolves once `count` messages are in, or rejects after `timeoutMs`. */
  async received(count: number, timeoutMs = 5_000): Promise<{ ack: AckPayload; at: number }[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.published.length < count) {
      if (performance.now() > deadline) throw new Error(`${this.published.length} of ${count} acks published`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.published;
  }
}

const logger = pino({ level: 'silent' });
const occurrenceAck = (stage: AckStage, at: number, occurrenceId = 'occ-1'): AckPayload => ({
  v: 1,
  occurrenceId,
  stage,
  at,
});
/** Each call returns the next value, the last one repeated. */
const draws =
  (...values: number[]) =>
  () =>
    values.length > 1 ? values.shift()! : values[0]!;

describe('AckDispatcher', () => {
  it('sends the acks of a broadcast after a random part of the spread, its stages in one message', async () => {
    const broker = new Broker();
    const outbox = new MemoryAckOutbox();
    // The later stages' draws would be sooner: they join the publish the first one planned.
    const dispatcher = new AckDispatcher(outbox, broker, logger, { spreadMs: 400, random: draws(0.5, 0.01) });
    const submitted = performance.now();
    // As a play-now with its audio inline: received, ready and started one after the other.
    await dispatcher.submit(occurrenceAck('received', 1));
    await dispatcher.submit(occurrenceAck('ready', 2));
    await dispatcher.submit(occurrenceAck('started', 3));
    const [message] = await broker.received(1);
    // 0.5 of 400 ms: not before 200 ms (a timer may fire up to a millisecond early by its clock).
    expect(message!.at - submitted).toBeGreaterThanOrEqual(199);
    expect(message!.ack).toEqual({
      ...occurrenceAck('started', 3),
      earlier: [
        { stage: 'received', at: 1 },
        { stage: 'ready', at: 2 },
      ],
    });
    await dispatcher.idle();
    expect(broker.published).toHaveLength(1);
    expect(outbox.size).toBe(0);
  });

  it('an ack of another broadcast joins the publish already planned, however its own draw falls', async () => {
    const broker = new Broker();
    const dispatcher = new AckDispatcher(new MemoryAckOutbox(), broker, logger, {
      spreadMs: 400,
      random: draws(0.5, 0.01),
    });
    const submitted = performance.now();
    await dispatcher.submit(occurrenceAck('started', 1, 'occ-a')); // planned in 200 ms
    await dispatcher.submit(occurrenceAck('started', 2, 'occ-b')); // its draw, 4 ms, is not used
    const published = await broker.received(2, 5_000);
    expect(published.map((p) => p.ack.occurrenceId).sort()).toEqual(['occ-a', 'occ-b']);
    for (const { at } of published) expect(at - submitted).toBeGreaterThanOrEqual(199);
  });

  it('a command’s ack takes the broadcast acks waiting for a later publish along', async () => {
    const broker = new Broker();
    const dispatcher = new AckDispatcher(new MemoryAckOutbox(), broker, logger, {
      spreadMs: 10_000,
      random: draws(0.99),
    });
    await dispatcher.submit(occurrenceAck('started', 1, 'occ-a')); // planned in 9.9 s
    await dispatcher.submit({ v: 1, commandId: 'cmd-1', stage: 'finished', at: 2 }); // next turn: takes both
    const published = await broker.received(2, 5_000);
    expect(published.map((p) => p.ack.occurrenceId ?? p.ack.commandId).sort()).toEqual(['cmd-1', 'occ-a']);
  });

  it('answers an officer’s command on the next turn, whatever the spread', async () => {
    const broker = new Broker();
    const dispatcher = new AckDispatcher(new MemoryAckOutbox(), broker, logger, {
      spreadMs: 10_000,
      random: draws(0.99),
    });
    await dispatcher.submit({ v: 1, commandId: 'cmd-1', stage: 'finished', at: 1 });
    const [message] = await broker.received(1, 5_000);
    expect(message!.ack.commandId).toBe('cmd-1');
  });

  it('idle() sends what waits at once; close() leaves it in the outbox for the next connection', async () => {
    const broker = new Broker();
    const outbox = new MemoryAckOutbox();
    const dispatcher = new AckDispatcher(outbox, broker, logger, { spreadMs: 10_000, random: draws(0.99) });
    await dispatcher.submit(occurrenceAck('started', 1, 'occ-a'));
    await dispatcher.idle();
    expect(broker.published.map((p) => p.ack.occurrenceId)).toEqual(['occ-a']);

    await dispatcher.submit(occurrenceAck('started', 2, 'occ-b'));
    dispatcher.close();
    expect((await outbox.pending()).map((e) => e.ack.occurrenceId)).toEqual(['occ-b']);
    await dispatcher.flush();
    expect(broker.published.map((p) => p.ack.occurrenceId)).toEqual(['occ-a', 'occ-b']);
  });
});
