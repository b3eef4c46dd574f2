import { PROTOCOL_VERSION, type AckPayload, type CommandPayload } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { AckReporter } from '../ack/ack-reporter';
import { FakeAmpSwitch } from '../gpio/amp-switch';
import { silentLogger } from '../logger';
import { FakeMixer } from '../mixer/mixer';
import type { OccurrenceRunner } from '../occurrence/occurrence-runner';
import type { Playback } from '../playback/playback';
import type { OutputControls } from '../player/player';
import { CommandGate } from './command-gate';
import { handleCommand, type DeviceState } from './command-handler';

const clock = { now: () => 1_000 };
let seq = 0;
const volume = (level: number): CommandPayload => ({
  v: PROTOCOL_VERSION,
  commandId: `c${++seq}`,
  issuedAt: 900,
  expiresAt: 5_000,
  action: 'volume',
  level,
});
const amp = (on: boolean): CommandPayload => ({
  v: PROTOCOL_VERSION,
  commandId: `c${++seq}`,
  issuedAt: 900,
  expiresAt: 5_000,
  action: 'amp',
  on,
});

function run(command: CommandPayload, controls?: OutputControls) {
  const acks: AckPayload[] = [];
  const state: DeviceState = { volume: 100, ampOn: false };
  handleCommand(command, {
    gate: new CommandGate(),
    runner: {} as OccurrenceRunner,
    playback: {} as Playback,
    acks: new AckReporter(clock, (ack) => acks.push(ack)),
    clock,
    logger: silentLogger(),
    state,
    ...(controls ? { controls } : {}),
  });
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  return { acks, state, settled };
}

const summary = (acks: AckPayload[]) => acks.map((a) => [a.stage, a.detail]);

describe('volume and amp commands', () => {
  it('volume: acks finished once the mixer holds the level', async () => {
    const mixer = new FakeMixer();
    const { acks, state, settled } = run(volume(35), { mixer });
    await settled();
    expect(mixer.level).toBe(35);
    expect(state.volume).toBe(35);
    expect(summary(acks)).toEqual([['finished', 'volume 35']]);
  });

  it('volume: a mixer error acks failed with the reason and keeps the old level', async () => {
    const mixer = new FakeMixer();
    mixer.failWith = "Unable to find simple control 'PCM',0";
    const { acks, state, settled } = run(volume(35), { mixer });
    await settled();
    expect(state.volume).toBe(100);
    expect(summary(acks)).toEqual([['failed', "mixer: Unable to find simple control 'PCM',0"]]);
  });

  it('amp: drives the relay and acks when switched', async () => {
    const relay = new FakeAmpSwitch(clock);
    const { acks, state, settled } = run(amp(true), { amp: relay });
    await settled();
    expect(relay.isOn).toBe(true);
    expect(state.ampOn).toBe(true);
    expect(summary(acks)).toEqual([['finished', 'amplifier on (held until "amp off")']]);
  });

  it('amp: a relay error acks failed', async () => {
    const relay = new FakeAmpSwitch(clock);
    relay.failWith = 'Device or resource busy';
    const { acks, state, settled } = run(amp(true), { amp: relay });
    await settled();
    expect(state.ampOn).toBe(false);
    expect(summary(acks)).toEqual([['failed', 'relay: Device or resource busy']]);
  });

  it.each([
    [volume(20), 'volume 20 (recorded; no mixer configured)'],
    [amp(false), 'amplifier off (recorded; no relay configured)'],
  ])('without hardware the setting is recorded (%#)', (command, detail) => {
    const { acks } = run(command);
    expect(summary(acks)).toEqual([['finished', detail]]);
  });
});
