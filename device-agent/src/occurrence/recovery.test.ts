import { describe, expect, it } from 'vitest';
import type { AckStage } from '@loaxa/protocol';
import { ARMED_AT_RESTART, CUT_BY_RESTART, recoverOccurrence, type JournalledOccurrence } from './recovery';

const START = 1_700_000_000_000;
/** When the journal's records about the item were written: the arm a second ahead of its start. */
const WRITTEN = START - 1_000;

type Row = [crashPoint: string, entry: JournalledOccurrence, now: number, expected: 'run' | 'over' | AckStage];

describe('recoverOccurrence: what a restarted agent does with an occurrence, by where the last run died', () => {
  it.each<Row>([
    ['before anything was journalled', { stages: [], at: 0 }, START + 500, 'run'],
    ['after received', { stages: ['received'], at: WRITTEN }, START + 500, 'run'],
    ['after ready (downloaded, waiting)', { stages: ['received', 'ready'], at: WRITTEN }, START + 500, 'run'],
    [
      'armed, restarted before its start (nothing can have been heard)',
      { stages: ['received', 'ready'], at: WRITTEN, armedAt: START },
      START - 200,
      'run',
    ],
    [
      'armed, restarted after its start, "started" not journalled (killed as the audio began)',
      { stages: ['received', 'ready'], at: WRITTEN, armedAt: START },
      START + 500,
      'failed',
    ],
    [
      'armed, restarted on the instant of its start',
      { stages: ['received', 'ready'], at: WRITTEN, armedAt: START },
      START,
      'failed',
    ],
    [
      'armed, device clock now behind the journal (no RTC, before NTP): cannot tell',
      { stages: ['received', 'ready'], at: WRITTEN, armedAt: START },
      WRITTEN - 60_000,
      'failed',
    ],
    [
      'started journalled (killed mid-play)',
      { stages: ['received', 'ready', 'started'], at: START, armedAt: START },
      START + 500,
      'preempted',
    ],
    [
      'started journalled, clock set back before its start',
      { stages: ['received', 'ready', 'started'], at: START, armedAt: START },
      START - 5_000,
      'preempted',
    ],
    [
      'finished journalled (killed before the ack was confirmed)',
      { stages: ['received', 'ready', 'started', 'finished'], at: START + 2_000, armedAt: START },
      START + 3_000,
      'over',
    ],
    ['skipped before it was armed', { stages: ['skipped'], at: WRITTEN }, START + 500, 'over'],
    ['failed download', { stages: ['received', 'failed'], at: WRITTEN }, START + 500, 'over'],
    [
      'preempted by an emergency',
      { stages: ['received', 'ready', 'started', 'preempted'], at: START + 100, armedAt: START },
      START + 500,
      'over',
    ],
    [
      'already recovered by an earlier restart',
      { stages: ['received', 'ready', 'failed'], at: START + 10, armedAt: START },
      START + 500,
      'over',
    ],
  ])('%s → %s', (_crashPoint, entry, now, expected) => {
    const recovery = recoverOccurrence(entry, now);
    if (expected === 'run' || expected === 'over') {
      expect(recovery).toBeNull();
      // 'run' and 'over' both leave it to the plan runner, which tells them apart by the final stage.
      expect(entry.stages.some((s) => ['finished', 'failed', 'skipped', 'preempted'].includes(s))).toBe(
        expected === 'over',
      );
    } else {
      expect(recovery?.stage).toBe(expected);
      expect(recovery?.detail).toBe(expected === 'preempted' ? CUT_BY_RESTART : ARMED_AT_RESTART);
    }
  });
});
