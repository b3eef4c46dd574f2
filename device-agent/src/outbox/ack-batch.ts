import { ACK_STAGES, encode, MAX_PAYLOAD_BYTES, type AckPayload } from '@loaxa/protocol';
import type { OutboxEntry } from './outbox';

export interface AckBatch {
  /** The outbox entries the message carries; all leave the outbox on its PUBACK. */
  seqs: number[];
  ack: AckPayload;
}

/** Most stages one message carries: the protocol lets every stage but the last ride along as `earlier`. */
const MAX_STAGES = ACK_STAGES.length;

/**
 * Groups pending acks into as few messages as the protocol allows: the stages
 * of one occurrence (or command) waiting together go out as one ack whose
 * `earlier` lists all but the last, in the order they were raised. A message
 * never exceeds the server's ack size limit; what does not fit starts the next.
 */
export function batchAcks(entries: readonly OutboxEntry[], maxBytes: number = MAX_PAYLOAD_BYTES.ack): AckBatch[] {
  const byRef = new Map<string, OutboxEntry[]>();
  for (const entry of entries) {
    const key = entry.ack.occurrenceId ? `o:${entry.ack.occurrenceId}` : `c:${entry.ack.commandId}`;
    const group = byRef.get(key);
    if (group) group.push(entry);
    else byRef.set(key, [entry]);
  }
  const batches: AckBatch[] = [];
  for (const group of byRef.values()) {
    let current: OutboxEntry[] = [];
    for (const entry of group) {
      const candidate = [...current, entry];
      if (current.length > 0 && (candidate.length > MAX_STAGES || size(combine(candidate)) > maxBytes)) {
        batches.push({ seqs: current.map((e) => e.seq), ack: combine(current) });
        current = [entry];
      } else {
        current = candidate;
      }
    }
    if (current.length > 0) batches.push({ seqs: current.map((e) => e.seq), ack: combine(current) });
  }
  return batches.sort((a, b) => a.seqs[0]! - b.seqs[0]!);
}

function combine(entries: readonly OutboxEntry[]): AckPayload {
  const last = entries[entries.length - 1]!.ack;
  if (entries.length === 1) return last;
  const earlier = entries
    .slice(0, -1)
    .map(({ ack }) =>
      ack.detail === undefined
        ? { stage: ack.stage, at: ack.at }
        : { stage: ack.stage, at: ack.at, detail: ack.detail },
    );
  return { ...last, earlier };
}

function size(ack: AckPayload): number {
  return Buffer.byteLength(encode(ack));
}
