import { describe, expect, it } from 'vitest';
import type { AckStage } from '@loaxa/protocol';
import { restartDecision } from './plan-runner';

describe('restartDecision (what a restarted agent does with a plan item, by the acks sent before)', () => {
  it.each<[AckStage[], ReturnType<typeof restartDecision>]>([
    [[], 'run'],
    [['received'], 'run'],
    [['received', 'ready'], 'run'],
    [['received', 'ready', 'started'], 'interrupted'],
    [['received', 'ready', 'started', 'finished'], 'over'],
    [['skipped'], 'over'],
    [['received', 'failed'], 'over'],
    [['received', 'ready', 'started', 'preempted'], 'over'],
  ])('%j → %s', (stages, expected) => {
    expect(restartDecision(stages)).toBe(expected);
  });
});
