import type { Clock } from '../clock/clock';
import type { AmpConfig, MixerConfig, PlayerConfig } from '../config';
import type { AmpSwitch } from '../gpio/amp-switch';
import { GpiosetAmpSwitch } from '../gpio/gpioset-amp-switch';
import { AmixerMixer, type Mixer } from '../mixer/mixer';
import { AlsaPlayer } from './alsa-player';
import { AmpControlledPlayer } from './amp-controlled-player';
import { NullPlayer } from './null-player';
import type { OutputControls, Player } from './player';
import { SimPlayer } from './sim-player';
import { VolumePlayer } from './volume-player';

/** The output part of the agent configuration. */
export interface OutputConfig {
  player: PlayerConfig;
  amp?: AmpConfig;
  mixer?: MixerConfig;
}

export interface OutputPlayer extends Player {
  readonly controls: OutputControls;
  /** Releases the relay line and child processes (agent stopping). */
  close(): Promise<void>;
}

export interface OutputHooks {
  /** Relay or mixer trouble that did not stop a broadcast; the caller logs it. */
  onHardwareError?: (err: unknown, part: 'amp' | 'mixer') => void;
}

function basePlayer(config: PlayerConfig, clock?: Clock): Player {
  switch (config.type) {
    case 'null':
      return new NullPlayer(config.log, clock, config.startLog !== undefined ? { startLog: config.startLog } : {});
    case 'sim':
      return new SimPlayer(clock);
    case 'alsa':
      return new AlsaPlayer(
        {
          device: config.device,
          command: config.command,
          ...(config.path ? { path: config.path } : {}),
          ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
        },
        clock,
      );
  }
}

function ampSwitch(config: AmpConfig | undefined): AmpSwitch | undefined {
  if (!config || config.type === 'none') return undefined;
  return new GpiosetAmpSwitch({
    chip: config.chip,
    line: config.line,
    ...(config.activeLow !== undefined ? { activeLow: config.activeLow } : {}),
    ...(config.path ? { path: config.path } : {}),
  });
}

function mixer(config: MixerConfig | undefined): Mixer | undefined {
  if (!config || config.type === 'none') return undefined;
  return new AmixerMixer({ card: config.card, control: config.control, ...(config.path ? { path: config.path } : {}) });
}

/**
 * The whole output chain from config: mixer level → amplifier relay → backend.
 * The volume is set before the relay closes so a new level never starts loud.
 */
export function createPlayer(config: OutputConfig, clock?: Clock, hooks: OutputHooks = {}): OutputPlayer {
  const report = hooks.onHardwareError ?? (() => {});
  let player = basePlayer(config.player, clock);
  const amp = ampSwitch(config.amp);
  const ampPlayer =
    amp && config.amp?.type === 'gpioset'
      ? new AmpControlledPlayer(player, amp, { preRollMs: config.amp.preRollMs, holdMs: config.amp.holdMs }, (err) =>
          report(err, 'amp'),
        )
      : undefined;
  if (ampPlayer) player = ampPlayer;
  const mix = mixer(config.mixer);
  if (mix) player = new VolumePlayer(player, mix, (err) => report(err, 'mixer'));
  const controls: OutputControls = {
    ...(mix ? { mixer: mix } : {}),
    ...(ampPlayer ? { amp: { set: (on: boolean) => ampPlayer.setManual(on) } } : {}),
  };
  const inner = player;
  return {
    controls,
    play: (item, signal) => inner.play(item, signal),
    close: async () => {
      await ampPlayer?.close();
    },
  };
}
