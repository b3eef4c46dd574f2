import { describe, expect, it } from 'vitest';
import { ackDecoder, encode, type AckPayload, type AckStage } from '@loaxa/protocol';
import { batchAcks } from './ack-batch';
import type { OutboxEntry } from './outbox';

let seq = 0;
const entry = (ref: string, stage: AckStage, at: number, detail?: string): OutboxEntry => {
  const ack: AckPayload = ref.startsWith('cmd')
    ? { v: 1, commandId: ref, stage, at }
    : { v: 1, occurrenceId: ref, stage, at };
  if (detail !== undefined) ack.detail = detail;
  return { seq: ++seq, ack };
};

describe('batchAcks', () => {
  it('sends the stages of one occurrence raised together as one message, oldest first', () => {
    const entries = [entry('occ-a', 'received', 1), entry('occ-a', 'ready', 2), entry('occ-a', 'started', 3)];
    const batches = batchAcks(entries);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.seqs).toEqual(entries.map((e) => e.seq));
    expect(batches[0]!.ack).toEqual({
      v: 1,
      occurrenceId: 'occ-a',
      stage: 'started',
      at: 3,
      earlier: [
        { stage: 'received', at: 1 },
        { stage: 'ready', at: 2 },
      ],
    });
    // What goes on the wire passes the server's decoder.
    expect(ackDecoder.decode(encode(batches[0]!.ack)).ok).toBe(true);
  });

  it('keeps occurrences and commands apart, in the order each was first raised', () => {
    const entries = [
      entry('occ-a', 'received', 1),
      entry('cmd-b', 'received', 2),
      entry('occ-a', 'ready', 3),
      entry('occ-c', 'skipped', 4, 'window passed'),
      entry('cmd-b', 'finished', 5),
    ];
    const batches = batchAcks(entries);
    expect(batches.map((b) => [b.ack.occurrenceId ?? b.ack.commandId, b.ack.stage, b.seqs.length])).toEqual([
      ['occ-a', 'ready', 2],
      ['cmd-b', 'finished', 2],
      ['occ-c', 'skipped', 1],
    ]);
    expect(batches[2]!.ack).toEqual({ v: 1, occurrenceId: 'occ-c', stage: 'skipped', at: 4, detail: 'window passed' });
    expect(batches[2]!.ack.earlier).toBeUndefined();
  });

  it('starts a new message where the next stage would pass the size limit; every message fits', () => {
    const long = 'x'.repeat(500);
    const entries = (['received', 'ready', 'started', 'finished'] as const).map((s, i) => entry('occ-a', s, i, long));
    const batches = batchAcks(entries, 1_200);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flatMap((b) => b.seqs)).toEqual(entries.map((e) => e.seq));
    for (const b of batches) expect(Buffer.byteLength(encode(b.ack))).toBeLessThanOrEqual(1_200);
    // Stage order survives the split.
    const stages = batches.flatMap((b) => [...(b.ack.earlier ?? []).map((e) => e.stage), b.ack.stage]);
    expect(stages).toEqual(['received', 'ready', 'started', 'finished']);
  });

  it('sends nothing for nothing', () => {
    expect(batchAcks([])).toEqual([]);
  });
});
