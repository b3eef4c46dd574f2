import type { AckPayload } from '@loaxa/protocol';
import type { Logger } from '../logger';
import { batchAcks } from './ack-batch';
import type { AckOutbox } from './outbox';

export interface AckTransport {
  readonly isConnected: boolean;
  /** Resolves on PUBACK; rejects when the connection drops first. */
  publishAck(ack: AckPayload): Promise<void>;
}

/**
 * Moves acks from the outbox to the broker, the stages of one occurrence that
 * wait together in one message (see batchAcks). An ack leaves the outbox only after
 * its PUBACK; anything unconfirmed when the link drops is published again on
 * the next connection (the server treats repeats as no-ops).
 */
export class AckDispatcher {
  private readonly inflight = new Set<number>();
  /** Appends and flushes run one at a time so publish order equals append order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly outbox: AckOutbox,
    private readonly transport: AckTransport,
    private readonly logger: Logger,
  ) {}

  /**
   * Files the ack in the outbox now, and publishes on the next turn of the event
   * loop: a "started" ack is raised as the audio starts, and the network write
   * must not run ahead of the player (nor, in a simulated fleet, ahead of the
   * other devices starting on the same instant).
   */
  submit(ack: AckPayload): Promise<void> {
    return this.enqueue(async () => {
      await this.outbox.append(ack);
      await this.nextTurn();
      await this.publishPending();
    });
  }

  private nextTurn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Call when a connection is up. */
  flush(): Promise<void> {
    return this.enqueue(() => this.publishPending());
  }

  /** Call when the connection drops: nothing in flight will be confirmed any more. */
  connectionLost(): void {
    this.inflight.clear();
  }

  /** Resolves when every queued append/flush has been handed to the transport. */
  idle(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task).catch((err: unknown) => {
      this.logger.error({ err }, 'ack outbox failure');
    });
    this.chain = next;
    return next;
  }

  private async publishPending(): Promise<void> {
    if (!this.transport.isConnected) return;
    const waiting = (await this.outbox.pending()).filter((entry) => !this.inflight.has(entry.seq));
    for (const { seqs, ack } of batchAcks(waiting)) {
      if (!this.transport.isConnected) return;
      for (const seq of seqs) this.inflight.add(seq);
      this.transport.publishAck(ack).then(
        () => {
          for (const seq of seqs) this.inflight.delete(seq);
          return this.outbox.remove(seqs);
        },
        (err: unknown) => {
          for (const seq of seqs) this.inflight.delete(seq);
          this.logger.debug({ err, seqs }, 'ack not confirmed; kept for the next connection');
        },
      );
    }
  }
}
