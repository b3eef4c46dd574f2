import type { AckPayload } from '@loaxa/protocol';

export interface OutboxEntry {
  /** Increases with every append; publishing in seq order keeps each occurrence's stages in order. */
  seq: number;
  ack: AckPayload;
}

/**
 * Acks waiting for the broker's PUBACK. Async so a durable implementation
 * (append-only file with fsync, surviving power loss) fits behind the same door.
 */
export interface AckOutbox {
  append(ack: AckPayload): Promise<OutboxEntry>;
  /** Drops confirmed entries (one PUBACK can confirm several stages). */
  remove(seqs: readonly number[]): Promise<void>;
  /** Entries not yet confirmed, oldest first. */
  pending(): Promise<readonly OutboxEntry[]>;
}

/** Keeps acks across reconnects, not across restarts. Bounded: a node offline for weeks drops its oldest acks first. */
export class MemoryAckOutbox implements AckOutbox {
  private readonly entries = new Map<number, OutboxEntry>();
  private nextSeq = 1;
  dropped = 0;

  constructor(private readonly limit = 10_000) {}

  async append(ack: AckPayload): Promise<OutboxEntry> {
    const entry = { seq: this.nextSeq++, ack };
    this.entries.set(entry.seq, entry);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
      this.dropped++;
    }
    return entry;
  }

  async remove(seqs: readonly number[]): Promise<void> {
    for (const seq of seqs) this.entries.delete(seq);
  }

  async pending(): Promise<readonly OutboxEntry[]> {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }
}
