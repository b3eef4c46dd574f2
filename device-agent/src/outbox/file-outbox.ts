import type { AckPayload } from '@loaxa/protocol';
import type { Logger } from '../logger';
import type { StateStore } from '../state/state-store';
import type { AckOutbox, OutboxEntry } from './outbox';

interface OutboxDocument {
  nextSeq: number;
  entries: OutboxEntry[];
}

/**
 * The ack outbox as one state document: an ack is on disk before it is
 * published and leaves the disk only after its PUBACK, so acks made while
 * offline reach the server even across a power cut. Bounded like the memory
 * outbox: a node offline for weeks drops its oldest acks first.
 */
export class FileAckOutbox implements AckOutbox {
  private readonly entries = new Map<number, OutboxEntry>();
  private nextSeq = 1;
  private loading: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly store: StateStore,
    private readonly options: { name?: string; limit?: number; logger?: Logger } = {},
  ) {}

  /** Reads what an earlier run left; every other method waits for it. */
  load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  async append(ack: AckPayload): Promise<OutboxEntry> {
    await this.load();
    const entry = { seq: this.nextSeq++, ack };
    this.entries.set(entry.seq, entry);
    if (this.entries.size > (this.options.limit ?? 10_000)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
      this.dropped++;
    }
    await this.save();
    return entry;
  }

  async remove(seqs: readonly number[]): Promise<void> {
    await this.load();
    let removed = 0;
    for (const seq of seqs) if (this.entries.delete(seq)) removed++;
    if (removed === 0) return;
    await this.save();
  }

  async pending(): Promise<readonly OutboxEntry[]> {
    await this.load();
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  private get name(): string {
    return this.options.name ?? 'outbox';
  }

  private async read(): Promise<void> {
    const doc = await this.store.read<Partial<OutboxDocument>>(this.name);
    if (!doc) return;
    const entries = Array.isArray(doc.entries) ? doc.entries : [];
    for (const entry of entries) {
      if (!Number.isInteger(entry?.seq) || typeof entry.ack !== 'object' || entry.ack === null) continue;
      this.entries.set(entry.seq, entry);
    }
    const highest = Math.max(0, ...this.entries.keys());
    this.nextSeq = Math.max(highest + 1, Number.isInteger(doc.nextSeq) ? doc.nextSeq! : 1);
    if (this.entries.size > 0)
      this.options.logger?.info({ acks: this.entries.size }, 'acks from an earlier run to send');
  }

  private save(): Promise<void> {
    const doc: OutboxDocument = { nextSeq: this.nextSeq, entries: [...this.entries.values()] };
    return this.store.write(this.name, doc);
  }
}
