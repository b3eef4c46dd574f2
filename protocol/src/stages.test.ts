import { describe, expect, it } from 'vitest';
import { deliveryOutcome, MISSED_AFTER_MS, type DeliveryOutcome, type DeliveryStage } from './stages';

const START = Date.UTC(2026, 11, 4, 10, 0, 0);
const before = START - 1_000;
const justAfter = START + MISSED_AFTER_MS - 1_000;
const wellAfter = START + MISSED_AFTER_MS + 1_000;

describe('deliveryOutcome', () => {
  it.each<[string, DeliveryStage, { stopped: boolean; cancelled?: boolean }, number, DeliveryOutcome]>([
    ['not started before its time', 'pending', { stopped: false }, before, 'waiting'],
    ['downloaded, before its time', 'ready', { stopped: false }, before, 'waiting'],
    ['not started within the grace', 'received', { stopped: false }, justAfter, 'waiting'],
    ['never acknowledged, past the grace (offline)', 'pending', { stopped: false }, wellAfter, 'missed'],
    ['ready but never started, past the grace', 'ready', { stopped: false }, wellAfter, 'missed'],
    ['playing', 'started', { stopped: false }, wellAfter, 'playing'],
    ['played to the end', 'finished', { stopped: false }, wellAfter, 'finished'],
    ['failed', 'failed', { stopped: false }, wellAfter, 'failed'],
    ['cut by an emergency', 'preempted', { stopped: false }, wellAfter, 'preempted'],
    ['skipped by the device', 'skipped', { stopped: false }, wellAfter, 'skipped'],
    // A stop is its own outcome: neither success nor failure nor missed.
    ['stopped before it started', 'pending', { stopped: true }, wellAfter, 'stopped'],
    ['stopped while playing, ack not in yet', 'started', { stopped: true }, wellAfter, 'stopped'],
    ['stopped while playing, device acked preempted', 'preempted', { stopped: true }, wellAfter, 'stopped'],
    ['finished before the stop', 'finished', { stopped: true }, wellAfter, 'finished'],
    ['failed before the stop', 'failed', { stopped: true }, wellAfter, 'failed'],
    ['cancelled in advance', 'pending', { stopped: false, cancelled: true }, wellAfter, 'stopped'],
  ])('%s', (_name, stage, state, now, expected) => {
    expect(deliveryOutcome(stage, { startAt: START, ...state }, now)).toBe(expected);
  });
});
