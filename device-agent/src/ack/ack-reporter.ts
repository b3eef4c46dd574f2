import { PROTOCOL_VERSION, type AckPayload, type AckStage } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';

const MAX_DETAIL = 500;

/**
 * Builds acks and sends each (occurrence|command, stage) at most once, however
 * often a plan is re-delivered or a command arrives by two topics.
 */
export class AckReporter {
  private readonly sent = new Map<string, Set<AckStage>>();

  constructor(
    private readonly clock: Clock,
    private readonly sink: (ack: AckPayload) => void,
  ) {}

  occurrence(occurrenceId: string, stage: AckStage, detail?: string, at?: number): boolean {
    return this.emit(`o:${occurrenceId}`, { occurrenceId }, stage, detail, at);
  }

  command(commandId: string, stage: AckStage, detail?: string): boolean {
    return this.emit(`c:${commandId}`, { commandId }, stage, detail, undefined);
  }

  /** Drops the memory of an occurrence the server no longer plans. */
  forgetOccurrence(occurrenceId: string): void {
    this.sent.delete(`o:${occurrenceId}`);
  }

  forgetCommand(commandId: string): void {
    this.sent.delete(`c:${commandId}`);
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
    const ack: AckPayload = { v: PROTOCOL_VERSION, ...ref, stage, at: Math.max(0, Math.round(at ?? this.clock.now())) };
    if (detail !== undefined) ack.detail = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
    this.sink(ack);
    return true;
  }
}
