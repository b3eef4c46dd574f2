import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type AckPayload, type AckStage } from '@loaxa/protocol';
import type { Clock } from '../clock/clock';
import { recoverOccurrence } from '../occurrence/recovery';
import { AppendLog } from '../state/append-log';
import { StateStore } from '../state/state-store';
import { AckJournal } from './ack-journal';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loaxa-journal-'));
});
const opened: AckJournal[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((j) => j.close()));
  await rm(dir, { recursive: true, force: true });
});

const START = 1_700_000_000_000;
const clockAt = (ms: number): Clock & { set(ms: number): void } => {
  let now = ms;
  return { now: () => now, set: (t) => (now = t) };
};
const ack = (occurrenceId: string, stage: AckStage, at = START): AckPayload => ({
  v: PROTOCOL_VERSION,
  occurrenceId,
  stage,
  at,
});
const FILE = 'acks.jsonl';
function journalIn(where: string, clock: Clock, options: { limit?: number; legacy?: StateStore } = {}) {
  const journal = new AckJournal(new AppendLog(join(where, FILE)), { clock, ...options });
  opened.push(journal);
  return journal;
}
const stagesOf = (entries: readonly { ack: AckPayload }[]) => entries.map((e) => e.ack.stage);

describe('AckJournal', () => {
  it('gives the next run the unconfirmed acks, in order, the stages reached, and fresh sequence numbers', async () => {
    const clock = clockAt(START);
    const first = journalIn(dir, clock);
    const a = await first.append(ack('o1', 'started'));
    await first.append(ack('o1', 'finished'));
    await first.append(ack('o2', 'skipped'));
    await first.remove([a.seq]);

    const second = journalIn(dir, clock);
    expect((await second.pending()).map((e) => [e.seq, e.ack.occurrenceId, e.ack.stage])).toEqual([
      [2, 'o1', 'finished'],
      [3, 'o2', 'skipped'],
    ]);
    // A confirmed ack has left the outbox but not the record of what was reached.
    expect(second.sentRecord()['o:o1']!.stages).toEqual(['started', 'finished']);
    expect((await second.append(ack('o3', 'received'))).seq).toBe(4);
  });

  it('drops the oldest acks beyond its limit', async () => {
    const clock = clockAt(START);
    const journal = journalIn(dir, clock, { limit: 2 });
    for (const id of ['o1', 'o2', 'o3']) await journal.append(ack(id, 'finished'));
    expect(journal.dropped).toBe(1);
    const reread = journalIn(dir, clock);
    expect((await reread.pending()).map((e) => e.ack.occurrenceId)).toEqual(['o2', 'o3']);
  });

  it('forgets an occurrence but still sends its unconfirmed acks; drops records a week old at the next load', async () => {
    const clock = clockAt(START);
    const first = journalIn(dir, clock);
    await first.append(ack('gone', 'finished'));
    await first.append(ack('old', 'finished'));
    await first.forget('o:gone');
    const second = journalIn(dir, clock);
    await second.load();
    expect(Object.keys(second.sentRecord())).toEqual(['o:old']);
    expect(stagesOf(await second.pending())).toEqual(['finished', 'finished']);
    clock.set(START + 8 * 86_400_000);
    const third = journalIn(dir, clock);
    await third.load();
    expect(third.sentRecord()).toEqual({});
  });

  it('compacts itself into one snapshot line at load and when it has grown, losing nothing', async () => {
    const clock = clockAt(START);
    const journal = journalIn(dir, clock);
    for (let i = 0; i < 600; i++) {
      const e = await journal.append(ack(`o${i % 3}`, i % 2 ? 'ready' : 'received'));
      await journal.remove([e.seq]);
    }
    await journal.append(ack('last', 'started'));
    await journal.idle();
    const lines = (await readFile(join(dir, FILE), 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThan(1_000); // 1,201 records appended; compacted on the way
    const reread = journalIn(dir, clock);
    expect(stagesOf(await reread.pending())).toEqual(['started']);
    expect(reread.sentRecord()['o:o0']!.stages).toEqual(['received', 'ready']);
    expect((await readFile(join(dir, FILE), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('takes in the outbox.json and acks-sent.json of an agent from before the journal, then removes them', async () => {
    const clock = clockAt(START);
    const legacy = new StateStore(dir);
    await legacy.write('acks-sent', { 'o:o1': { stages: ['received', 'ready'], at: START } });
    // The bug the journal fixes: "started" reached the outbox, the record of sent stages missed it.
    await legacy.write('outbox', { nextSeq: 8, entries: [{ seq: 7, ack: ack('o1', 'started') }] });
    const journal = journalIn(dir, clock, { legacy });
    expect(stagesOf(await journal.pending())).toEqual(['started']);
    expect(journal.sentRecord()['o:o1']!.stages).toEqual(['received', 'ready', 'started']);
    expect((await journal.append(ack('o2', 'received'))).seq).toBe(8);
    expect((await readdir(dir)).sort()).toEqual([FILE]);
  });

  it('skips a line a power cut tore or zeroed, and appends after it on a fresh line', async () => {
    const clock = clockAt(START);
    const first = journalIn(dir, clock);
    await first.append(ack('o1', 'received'));
    await first.idle();
    await writeFile(
      join(dir, FILE),
      (await readFile(join(dir, FILE), 'utf8')) + '{"k":"ack","seq":2,"ack":{"v":1,"occ',
    );
    const second = journalIn(dir, clock);
    expect(stagesOf(await second.pending())).toEqual(['received']);
    await second.append(ack('o1', 'ready'));
    await writeFile(join(dir, FILE), Buffer.concat([await readFile(join(dir, FILE)), Buffer.alloc(300)]));
    const third = journalIn(dir, clock);
    expect(stagesOf(await third.pending())).toEqual(['received', 'ready']);
  });
});

/**
 * One occurrence's life as the agent journals it, and power lost after each
 * record (whole, or torn half-way through the next): whatever survives, the
 * restarted agent reports an item that may have been heard instead of playing
 * it again, runs one that cannot have been, and still has every journalled
 * ack the broker did not confirm.
 */
describe('AckJournal + recoverOccurrence: power lost at every point of an occurrence', () => {
  const life: { after: string; write: (j: AckJournal) => Promise<unknown> }[] = [
    { after: 'received', write: (j) => j.append(ack('occ', 'received')) },
    { after: 'ready', write: (j) => j.append(ack('occ', 'ready')) },
    { after: 'received+ready confirmed', write: (j) => j.remove([1, 2]) },
    { after: 'armed', write: (j) => j.arm('occ', START) },
    { after: 'started', write: (j) => j.append(ack('occ', 'started')) },
    { after: 'started confirmed', write: (j) => j.remove([3]) },
    { after: 'finished', write: (j) => j.append(ack('occ', 'finished', START + 2_000)) },
    { after: 'finished confirmed', write: (j) => j.remove([4]) },
  ];

  /** The journal file after the first n records of `life`. */
  async function fileAfterEach(): Promise<Buffer[]> {
    const clock = clockAt(START - 5_000);
    const writer = await mkdtemp(join(dir, 'life-'));
    const journal = journalIn(writer, clock);
    await journal.load();
    const files = [await readFile(join(writer, FILE))];
    for (const step of life) {
      await step.write(journal);
      await journal.idle();
      files.push(await readFile(join(writer, FILE)));
    }
    return files;
  }

  // [crash after n records, restart instant relative to START, what the restart does, stages still to send]
  const table: [number, number, 'run' | 'over' | AckStage, AckStage[]][] = [
    [0, +500, 'run', []],
    [1, +500, 'run', ['received']],
    [2, +500, 'run', ['received', 'ready']],
    [3, +500, 'run', []],
    [4, -300, 'run', []], // armed, back up before its start: nothing can have been heard
    [4, +500, 'failed', ['failed']], // armed and due: it may have begun
    [5, +500, 'preempted', ['started', 'preempted']],
    [6, +500, 'preempted', ['preempted']],
    [7, +2_500, 'over', ['finished']],
    [8, +2_500, 'over', []],
  ];

  it.each(
    table.flatMap(([n, at, outcome, toSend]) => [
      [n, false, at, outcome, toSend] as const,
      [n, true, at, outcome, toSend] as const,
    ]),
  )(
    'crash after %i records (next one torn: %s), restart at start%+i ms → %s, sends %j',
    async (n, torn, at, outcome, toSend) => {
      const files = await fileAfterEach();
      let bytes = files[n]!;
      if (torn && n < life.length) {
        const next = files[n + 1]!;
        bytes = Buffer.concat([
          bytes,
          next.subarray(bytes.length, bytes.length + Math.floor((next.length - bytes.length) / 2)),
        ]);
      }
      const restart = await mkdtemp(join(dir, 'restart-'));
      await writeFile(join(restart, FILE), bytes);
      const clock = clockAt(START + at);
      const journal = journalIn(restart, clock);
      await journal.load();
      const entry = journal.occurrences().find(([id]) => id === 'occ')?.[1] ?? { stages: [], at: 0 };
      const recovery = recoverOccurrence(entry, clock.now());
      // What the agent does with it: send the recovery's final ack through the journal.
      if (recovery) await journal.append(ack('occ', recovery.stage, clock.now()));
      const decision = recovery?.stage ?? (entry.stages.some((s) => s === 'finished') ? 'over' : 'run');
      expect(decision).toBe(outcome);
      expect(stagesOf(await journal.pending())).toEqual(toSend);
      // Never two answers: at most one final stage, and one for anything that may have been heard.
      const after = journal.occurrences().find(([id]) => id === 'occ')?.[1].stages ?? [];
      const finals = after.filter((s) => ['finished', 'failed', 'skipped', 'preempted'].includes(s));
      expect(finals).toHaveLength(outcome === 'run' ? 0 : 1);
    },
  );
});
