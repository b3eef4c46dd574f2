import { ACK_STAGES, ackDecoder, type AckPayload, type AckStage } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logger';
import type { AckOutbox, OutboxEntry } from '../outbox/outbox';
import type { AppendLog } from '../state/append-log';
import type { StateStore } from '../state/state-store';
import type { SentAckRecord } from './ack-reporter';

/** What the journal knows of one occurrence (`o:<id>`) or command (`c:<id>`). */
export interface JournalRef {
  /** Stages raised, in the order they were raised. */
  stages: AckStage[];
  /** Device-clock ms of the last record about it (old ones are dropped). */
  at: number;
  /** Device-clock instant from which its audio may have been heard; written before it can play. */
  armedAt?: number;
}

/**
 * The journal's lines. An `ack` line is at once "this stage was reached" and
 * "this ack waits for the broker": one append, so no crash can leave one
 * without the other (which is what let a restarted agent replay an item whose
 * "started" had reached the outbox but not the separate record of sent stages).
 */
export type JournalRecord =
  | { k: 'snapshot'; nextSeq: number; refs: Record<string, JournalRef>; pending: OutboxEntry[] }
  | { k: 'ack'; seq: number; ack: AckPayload; t: number }
  | { k: 'sent'; seqs: number[] }
  | { k: 'arm'; ref: string; at: number; t: number }
  | { k: 'disarm'; ref: string }
  | { k: 'forget'; ref: string };

export interface AckJournalOptions {
  clock: Clock;
  logger?: Logger;
  /** Most acks kept waiting: a node offline for weeks drops its oldest first. */
  limit?: number;
  /** Occurrences and commands untouched this long are dropped when the file is compacted. */
  maxAgeMs?: number;
  /** Where agents before the journal kept `outbox.json` and `acks-sent.json`: taken in once, then removed. */
  legacy?: StateStore;
}

/** Lines appended since the last snapshot before the file is compacted, at least. */
const COMPACT_MIN_LINES = 1_000;

/** `o:<occurrenceId>` or `c:<commandId>`: how acks, journal and reporter name what an ack is about. */
export function ackRef(ack: Pick<AckPayload, 'occurrenceId' | 'commandId'>): string {
  return ack.occurrenceId !== undefined ? `o:${ack.occurrenceId}` : `c:${ack.commandId}`;
}

/**
 * The agent's one durable record of acks: an append-only, fsynced journal from
 * which both the outbox (acks the broker has not confirmed) and the stages each
 * occurrence reached are derived. An ack is on disk before it is published,
 * and the "armed" record of an item is on disk before its audio can start, so
 * after power loss at any instant the agent knows whether an item may have
 * been heard (see occurrence/recovery.ts).
 *
 * The file is rewritten as one snapshot line at every load (which also drops a
 * torn last line) and whenever it has grown well past what it describes.
 */
export class AckJournal implements AckOutbox {
  private readonly refs = new Map<string, JournalRef>();
  private readonly entries = new Map<number, OutboxEntry>();
  private nextSeq = 1;
  private linesSinceSnapshot = 0;
  private loading: Promise<void> | undefined;
  private loaded = false;
  dropped = 0;

  constructor(
    private readonly log: AppendLog,
    private readonly options: AckJournalOptions,
  ) {}

  /**
   * What the journal at `log` says now, read without writing (the journal of a
   * running agent may be looked at, by a test or a support tool; only its owner loads it).
   */
  static async peek(
    log: AppendLog,
    clock: Clock,
  ): Promise<{ pending: OutboxEntry[]; occurrences: [string, Readonly<JournalRef>][] }> {
    const journal = new AckJournal(log, { clock });
    await journal.replay();
    return { pending: [...journal.entries.values()], occurrences: journal.occurrences() };
  }

  /** Reads what earlier runs left; every other method waits for it. */
  load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  // ---- AckOutbox ----

  async append(ack: AckPayload): Promise<OutboxEntry> {
    await this.load();
    const entry: OutboxEntry = { seq: this.nextSeq, ack };
    const records: JournalRecord[] = [{ k: 'ack', seq: entry.seq, ack, t: this.options.clock.now() }];
    const limit = this.options.limit ?? 10_000;
    if (this.entries.size >= limit) {
      const oldest = [...this.entries.keys()].slice(0, this.entries.size - limit + 1);
      records.push({ k: 'sent', seqs: oldest });
      this.dropped += oldest.length;
    }
    await this.record(records);
    return entry;
  }

  async remove(seqs: readonly number[]): Promise<void> {
    await this.load();
    const known = seqs.filter((seq) => this.entries.has(seq));
    if (known.length > 0) await this.record([{ k: 'sent', seqs: known }]);
  }

  async pending(): Promise<readonly OutboxEntry[]> {
    await this.load();
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  // ---- per-occurrence record ----

  /** Stages per occurrence/command, for AckReporter.restore. */
  sentRecord(): SentAckRecord {
    const record: SentAckRecord = {};
    for (const [ref, entry] of this.refs) record[ref] = { stages: [...entry.stages], at: entry.at };
    return record;
  }

  /** Every occurrence the journal holds, by id. */
  occurrences(): [string, Readonly<JournalRef>][] {
    return [...this.refs].filter(([ref]) => ref.startsWith('o:')).map(([ref, entry]) => [ref.slice(2), entry]);
  }

  /**
   * Records, durably, that the occurrence may be heard from `at` (device clock)
   * on. The runner awaits this before it lets the item start.
   */
  async arm(occurrenceId: string, at: number): Promise<void> {
    await this.load();
    await this.record([{ k: 'arm', ref: `o:${occurrenceId}`, at, t: this.options.clock.now() }]);
  }

  /**
   * Takes an arm back: the run ended before anything could be heard (replaced
   * by a newer plan, agent stopping). Never rejects: losing it only makes a
   * restart report the item instead of playing it.
   */
  disarm(occurrenceId: string): Promise<void> {
    const ref = `o:${occurrenceId}`;
    return this.quietly('disarm', () => (this.refs.get(ref)?.armedAt === undefined ? [] : [{ k: 'disarm', ref }]));
  }

  /**
   * Drops what is known of an occurrence or command (its plan is gone); its
   * unsent acks still go out. Never rejects: losing it only keeps a record a
   * week longer.
   */
  forget(ref: string): Promise<void> {
    return this.quietly('forget', () => (this.refs.has(ref) ? [{ k: 'forget', ref }] : []));
  }

  stalledForMs(): number {
    return this.log.stalledForMs();
  }

  /** Resolves when everything recorded so far is durable. */
  idle(): Promise<void> {
    return this.log.idle();
  }

  /** Waits for pending writes and releases the file (agent stopping); a later record opens it again. */
  close(): Promise<void> {
    return this.log.close();
  }

  // ---- internals ----

  /** Records what `make` returns once loaded; failures are logged, not thrown (callers do not wait). */
  private quietly(what: string, make: () => JournalRecord[]): Promise<void> {
    const task = () => {
      const records = make();
      return records.length > 0 ? this.record(records) : Promise.resolve();
    };
    return (this.loaded ? task() : this.load().then(task)).catch((err: unknown) =>
      this.options.logger?.error({ err }, `ack journal: ${what} not saved`),
    );
  }

  /** Applies the records in memory now (so reads see them at once) and resolves once they are on disk. */
  private record(records: readonly JournalRecord[]): Promise<void> {
    for (const r of records) this.apply(r);
    const written = Promise.all(records.map((r) => this.log.append(r)));
    this.linesSinceSnapshot += records.length;
    const compact =
      this.linesSinceSnapshot > Math.max(COMPACT_MIN_LINES, 2 * (this.refs.size + this.entries.size))
        ? this.compact()
        : Promise.resolve();
    return Promise.all([written, compact]).then(() => undefined);
  }

  private compact(): Promise<void> {
    this.linesSinceSnapshot = 0;
    return this.log.rewrite([this.snapshot()]);
  }

  private snapshot(): JournalRecord {
    const oldest = this.options.clock.now() - (this.options.maxAgeMs ?? 7 * 86_400_000);
    for (const [ref, entry] of this.refs) if (entry.at < oldest) this.refs.delete(ref);
    return {
      k: 'snapshot',
      nextSeq: this.nextSeq,
      refs: Object.fromEntries(this.refs),
      pending: [...this.entries.values()],
    };
  }

  private apply(r: JournalRecord): void {
    switch (r.k) {
      case 'snapshot':
        this.refs.clear();
        this.entries.clear();
        for (const [ref, entry] of Object.entries(r.refs)) {
          const stages = Array.isArray(entry?.stages) ? entry.stages.filter(isStage) : [];
          const clean: JournalRef = { stages, at: Number.isFinite(entry?.at) ? entry.at : 0 };
          if (Number.isFinite(entry?.armedAt)) clean.armedAt = entry.armedAt!;
          this.refs.set(ref, clean);
        }
        for (const entry of Array.isArray(r.pending) ? r.pending : []) this.addEntry(entry);
        this.nextSeq = Math.max(this.nextSeq, Number.isInteger(r.nextSeq) ? r.nextSeq : 1);
        return;
      case 'ack': {
        if (!this.addEntry({ seq: r.seq, ack: r.ack })) return;
        const entry = this.touch(ackRef(r.ack), r.t);
        if (!entry.stages.includes(r.ack.stage)) entry.stages.push(r.ack.stage);
        return;
      }
      case 'sent':
        for (const seq of Array.isArray(r.seqs) ? r.seqs : []) this.entries.delete(seq);
        return;
      case 'arm':
        if (typeof r.ref === 'string' && Number.isFinite(r.at)) this.touch(r.ref, r.t).armedAt = r.at;
        return;
      case 'disarm': {
        const entry = this.refs.get(r.ref);
        if (entry) delete entry.armedAt;
        return;
      }
      case 'forget':
        this.refs.delete(r.ref);
        return;
    }
  }

  private addEntry(entry: OutboxEntry): boolean {
    if (!Number.isInteger(entry?.seq) || !ackDecoder.check(entry.ack)) return false;
    this.entries.set(entry.seq, { seq: entry.seq, ack: entry.ack });
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    return true;
  }

  private touch(ref: string, at: number): JournalRef {
    let entry = this.refs.get(ref);
    if (!entry) this.refs.set(ref, (entry = { stages: [], at: 0 }));
    if (Number.isFinite(at)) entry.at = Math.max(entry.at, at);
    return entry;
  }

  /** Applies the file's records; the number of lines that could not be used. */
  private async replay(): Promise<number> {
    const { records, skipped } = await this.log.read();
    let bad = skipped;
    for (const r of records) {
      try {
        if (isRecord(r)) this.apply(r);
        else bad++;
      } catch {
        bad++; // a line that parses but says nothing sensible: same as torn
      }
    }
    return bad;
  }

  private async read(): Promise<void> {
    const { logger, legacy } = this.options;
    await this.log.removeTemp();
    if (await this.log.exists()) {
      const bad = await this.replay();
      // A torn last line is the expected trace of a power cut mid-append; its write never resolved.
      if (bad > 0) logger?.warn({ skipped: bad }, 'ack journal: unreadable lines skipped');
    } else if (legacy) {
      await this.takeLegacy(legacy);
    }
    // Entries beyond the limit (a smaller limit than the last run's) go now, oldest first.
    const limit = this.options.limit ?? 10_000;
    for (const seq of [...this.entries.keys()].slice(0, Math.max(0, this.entries.size - limit))) {
      this.entries.delete(seq);
      this.dropped++;
    }
    // One snapshot line: a torn tail is gone before anything is appended after it.
    await this.log.rewrite([this.snapshot()]);
    this.linesSinceSnapshot = 0;
    if (legacy) await Promise.all([legacy.remove(LEGACY_OUTBOX), legacy.remove(LEGACY_SENT)]);
    this.loaded = true;
    if (this.entries.size > 0) logger?.info({ acks: this.entries.size }, 'acks from an earlier run to send');
  }

  /** The two documents an agent before the journal kept; their union is the best that can be known. */
  private async takeLegacy(legacy: StateStore): Promise<void> {
    const sent = await legacy.read<Record<string, { stages?: unknown; at?: unknown }>>(LEGACY_SENT);
    for (const [ref, entry] of Object.entries(sent ?? {})) {
      const stages = Array.isArray(entry?.stages) ? entry.stages.filter(isStage) : [];
      this.refs.set(ref, { stages, at: typeof entry?.at === 'number' ? entry.at : 0 });
    }
    const outbox = await legacy.read<{ nextSeq?: unknown; entries?: unknown }>(LEGACY_OUTBOX);
    for (const entry of Array.isArray(outbox?.entries) ? (outbox.entries as OutboxEntry[]) : []) {
      if (!this.addEntry(entry)) continue;
      const ref = this.touch(ackRef(entry.ack), entry.ack.at);
      if (!ref.stages.includes(entry.ack.stage)) ref.stages.push(entry.ack.stage);
    }
    if (typeof outbox?.nextSeq === 'number') this.nextSeq = Math.max(this.nextSeq, outbox.nextSeq);
  }
}

const LEGACY_OUTBOX = 'outbox';
const LEGACY_SENT = 'acks-sent';

function isStage(stage: unknown): stage is AckStage {
  return (ACK_STAGES as readonly unknown[]).includes(stage);
}

function isRecord(value: unknown): value is JournalRecord {
  const k = (value as { k?: unknown } | null)?.k;
  return typeof k === 'string' && ['snapshot', 'ack', 'sent', 'arm', 'disarm', 'forget'].includes(k);
}
