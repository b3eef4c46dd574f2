import { PROTOCOL_VERSION, type AckPayload, type AckStage } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';

const MAX_DETAIL = 500;
const FINAL_STAGES: ReadonlySet<AckStage> = new Set(['finished', 'failed', 'skipped', 'preempted']);

export function isFinalStage(stage: AckStage): boolean {
  return FINAL_STAGES.has(stage);
}

/** Which stages were sent per occurrence (`o:<id>`) or command (`c:<id>`), and when last; what a restart restores. */
export type SentAckRecord = Record<string, { stages: AckStage[]; at: number }>;

/**
 * The durable side of a node's acks (AckJournal). The stages themselves reach
 * it through the outbox, in the same record as the ack waiting to be sent.
 */
export interface StageJournal {
  /** Resolves once it is durable that the occurrence may be heard from `at` (device clock) on. */
  arm(occurrenceId: string, at: number): Promise<void>;
  /** The run ended before anything could be heard. Never rejects. */
  disarm(occurrenceId: string): Promise<void>;
  /** Never rejects. */
  forget(ref: string): Promise<void>;
}

/**
 * Builds acks and sends each (occurrence|command, stage) at most once, however
 * often a plan is re-delivered or a command arrives by two topics.
 */
export class AckReporter {
  private readonly sent = new Map<string, Set<AckStage>>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly sink: (ack: AckPayload) => void,
    /** Absent on nodes that keep nothing across restarts (simulated fleets). */
    private readonly journal?: StageJournal,
  ) {}

  /** Stages already sent for an occurrence, in this run or (after `restore`) an earlier one. */
  stagesOf(occurrenceId: string): readonly AckStage[] {
    return [...(this.sent.get(`o:${occurrenceId}`) ?? [])];
  }

  /** Takes back what an earlier run sent, dropping entries untouched for `maxAgeMs` (their plans are long gone). */
  restore(record: SentAckRecord, maxAgeMs = 7 * 86_400_000): void {
    const oldest = this.clock.now() - maxAgeMs;
    for (const [key, entry] of Object.entries(record)) {
      if (!Array.isArray(entry?.stages) || !(entry.at >= oldest)) continue;
      const stages = this.sent.get(key) ?? new Set<AckStage>();
      for (const stage of entry.stages) stages.add(stage);
      this.sent.set(key, stages);
      this.touched.set(key, Math.max(entry.at, this.touched.get(key) ?? 0));
    }
  }

  occurrence(occurrenceId: string, stage: AckStage, detail?: string, at?: number): boolean {
    return this.emit(`o:${occurrenceId}`, { occurrenceId }, stage, detail, at);
  }

  command(commandId: string, stage: AckStage, detail?: string): boolean {
    return this.emit(`c:${commandId}`, { commandId }, stage, detail, undefined);
  }

  /**
   * Resolves once it is durable that the occurrence may be heard from `at` on:
   * the runner waits for this before letting it start, so a restart after a
   * power cut never plays it again from the top (see occurrence/recovery.ts).
   */
  arm(occurrenceId: string, at: number): Promise<void> {
    return this.journal?.arm(occurrenceId, at) ?? Promise.resolve();
  }

  /** Takes an arm back: the run ended unheard and without an ack (replaced by a newer plan, agent stopping). */
  disarm(occurrenceId: string): void {
    void this.journal?.disarm(occurrenceId);
  }

  /** Drops the memory of an occurrence the server no longer plans. */
  forgetOccurrence(occurrenceId: string): void {
    this.drop(`o:${occurrenceId}`);
  }

  forgetCommand(commandId: string): void {
    this.drop(`c:${commandId}`);
  }

  private drop(key: string): void {
    this.touched.delete(key);
    if (this.sent.delete(key)) void this.journal?.forget(key);
  }

  private emit(
    key: string,
    ref: { occurrenceId: string } | { commandId: string },
    stage: AckStage,
    detail: string | undefined,
    at: number | undefined,
  ): boolean {
    let stages = this.sent.get(key);
    if (!stages) this.sent.set(key, (stages = new Set()));
    if (stages.has(stage)) return false;
    stages.add(stage);
    this.touched.set(key, this.clock.now());
    const ack: AckPayload = { v: PROTOCOL_VERSION, ...ref, stage, at: Math.max(0, Math.round(at ?? this.clock.now())) };
    if (detail !== undefined) ack.detail = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
    this.sink(ack);
    return true;
  }
}
