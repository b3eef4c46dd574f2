import type { AckPayload } from '@loaxa/protocol';
import type { Logger } from '../logger';
import { batchAcks } from './ack-batch';
import type { AckOutbox } from './outbox';

export interface AckTransport {
  readonly isConnected: boolean;
  /** Resolves on PUBACK; rejects when the connection drops first. */
  publishAck(ack: AckPayload): Promise<void>;
}

export interface AckDispatcherOptions {
  /**
   * Acks of an occurrence leave within a random delay of up to this many ms (0: on the next turn
   * of the event loop). See AckDispatcher.
   */
  spreadMs?: number;
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * Moves acks from the outbox to the broker, the stages of one occurrence that
 * wait together in one message (see batchAcks). An ack leaves the outbox only after
 * its PUBACK; anything unconfirmed when the link drops is published again on
 * the next connection (the server treats repeats as no-ops).
 *
 * Acks of an occurrence are spread: each is filed at once but published within a random
 * delay of up to `spreadMs`, one draw for each message. A zone's command and a planned start
 * reach thousands of loudspeakers in the same instant; were all their acks sent the moment
 * they play, the broker would take them in while it is still delivering the broadcast to the
 * rest of the fleet, and the last loudspeakers would hear it later. Stages raised while an
 * ack waits go out with it, in one message. Command acks (volume, stop, …) answer one
 * officer's action on one loudspeaker: they leave on the next turn.
 */
export class AckDispatcher {
  private readonly inflight = new Set<number>();
  /** Appends and flushes run one at a time so publish order equals append order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly spreadMs: number;
  private readonly random: () => number;
  /** The publish already planned, and when (performance.now()). */
  private planned: { at: number; cancel: () => void } | undefined;

  constructor(
    private readonly outbox: AckOutbox,
    private readonly transport: AckTransport,
    private readonly logger: Logger,
    options: AckDispatcherOptions = {},
  ) {
    this.spreadMs = options.spreadMs ?? 0;
    this.random = options.random ?? Math.random;
  }

  /**
   * Files the ack in the outbox now, and publishes it on a later turn of the event loop (see
   * the class): a "started" ack is raised as the audio starts, and the network write must not
   * run ahead of the player (nor, in a simulated fleet, ahead of the other devices starting on
   * the same instant). Resolves once it is filed.
   */
  submit(ack: AckPayload): Promise<void> {
    return this.enqueue(async () => {
      await this.outbox.append(ack);
      if (ack.occurrenceId === undefined) this.publishWithin(0);
      // One draw a message, not a stage: an ack joins the publish already planned (due within
      // the spread of the ack it was planned for). The earliest of a play-now's three draws would
      // put half a fleet's acks in the spread's first fifth, while the broker still delivers.
      else if (!this.planned) this.publishWithin(this.random() * this.spreadMs);
    });
  }

  /** Plans a publish of everything pending within `ms`; one already planned sooner covers it. */
  private publishWithin(ms: number): void {
    const at = performance.now() + ms;
    if (this.planned && this.planned.at <= at) return;
    this.planned?.cancel();
    const run = () => {
      this.planned = undefined;
      void this.enqueue(() => this.publishPending());
    };
    if (ms < 1) {
      const immediate = setImmediate(run);
      this.planned = { at, cancel: () => clearImmediate(immediate) };
    } else {
      const timer = setTimeout(run, ms);
      this.planned = { at, cancel: () => clearTimeout(timer) };
    }
  }

  /** Drops the planned publish; what it would have sent stays in the outbox. */
  private cancelPlanned(): boolean {
    const planned = this.planned;
    this.planned = undefined;
    planned?.cancel();
    return planned !== undefined;
  }

  /** Call when a connection is up. */
  flush(): Promise<void> {
    return this.enqueue(() => this.publishPending());
  }

  /** Call when the connection drops: nothing in flight will be confirmed any more. */
  connectionLost(): void {
    this.inflight.clear();
  }

  /** Publishes what waits without waiting for its spread; resolves once all of it is handed to the transport. */
  idle(): Promise<void> {
    return this.enqueue(async () => {
      if (this.cancelPlanned()) await this.publishPending();
    });
  }

  /** Stops planning publishes (the agent is stopping); what waits stays in the outbox for the next run. */
  close(): void {
    this.cancelPlanned();
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
