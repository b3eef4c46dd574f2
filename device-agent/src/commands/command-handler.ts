import type { CommandPayload } from '@loaxa/protocol';
import type { AckReporter } from '../ack/ack-reporter';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logger';
import type { OccurrenceRunner } from '../occurrence/occurrence-runner';
import type { Playback } from '../playback/playback';
import type { OutputControls } from '../player/player';
import type { CommandGate } from './command-gate';

/** Device settings commands change; telemetry reports them. */
export interface DeviceState {
  volume: number;
  ampOn: boolean;
  /** Server clock − device clock: the median of recent GET /api/v1/time exchanges, or the last sync-time command. */
  clockOffsetMs?: number;
}

export interface CommandHandlerDeps {
  gate: CommandGate;
  runner: OccurrenceRunner;
  playback: Playback;
  acks: AckReporter;
  clock: Clock;
  logger: Logger;
  state: DeviceState;
  /** Performs a reboot; absent on nodes (and simulators) that cannot reboot themselves. */
  reboot?: () => Promise<void>;
  /** Mixer and relay the volume/amp commands drive; without them the setting is only recorded. */
  controls?: OutputControls;
}

export function handleCommand(command: CommandPayload, deps: CommandHandlerDeps): void {
  const { acks, clock, logger, state } = deps;
  const now = clock.now();
  const verdict = deps.gate.admit(command, now);
  if (verdict === 'duplicate') {
    logger.debug({ commandId: command.commandId }, 'duplicate command ignored');
    return;
  }
  if (verdict === 'expired') {
    const detail = `command expired at ${iso(command.expiresAt)}; received at ${iso(now)} by the device clock`;
    if (command.action === 'play-now') acks.occurrence(command.occurrenceId, 'skipped', detail);
    else acks.command(command.commandId, 'skipped', detail);
    return;
  }
  logger.info({ commandId: command.commandId, action: command.action }, 'command');
  switch (command.action) {
    case 'play-now': {
      // A persistent session may redeliver a play-now after a restart: never play it twice.
      if (acks.stagesOf(command.occurrenceId).some((stage) => stage !== 'received' && stage !== 'ready')) {
        logger.info({ occurrenceId: command.occurrenceId }, 'play-now already handled before a restart; ignored');
        return;
      }
      const launched = deps.runner.launch(
        {
          occurrenceId: command.occurrenceId,
          priority: command.priority,
          assets: command.assets,
          startAt: null,
          ...(command.volume !== undefined ? { volume: command.volume } : {}),
          ...(command.after !== undefined ? { after: command.after } : {}),
        },
        'command',
      );
      if (!launched) logger.info({ occurrenceId: command.occurrenceId }, 'occurrence already known; play-now ignored');
      return;
    }
    case 'stop': {
      const reason = `stopped by command ${command.commandId}`;
      const playing = deps.playback.playing;
      const target = command.occurrenceId;
      // A targeted item that has not started yet is withdrawn (acked skipped), so a later plan cannot bring it back.
      const withdrawn = target !== undefined && deps.runner.phase(target) === 'pending';
      if (withdrawn) deps.runner.cancel(target, reason);
      const stopped = withdrawn || deps.playback.stop(reason, target);
      acks.command(command.commandId, 'finished', stopped ? `stopped ${target ?? playing}` : 'nothing was playing');
      return;
    }
    case 'volume': {
      const { level, commandId } = command;
      const mixer = deps.controls?.mixer;
      if (!mixer) {
        state.volume = level;
        acks.command(commandId, 'finished', `volume ${level} (recorded; no mixer configured)`);
        return;
      }
      // Acked only once the hardware holds the level, so "finished" means the speaker is at it.
      mixer.set(level).then(
        () => {
          state.volume = level;
          acks.command(commandId, 'finished', `volume ${level}`);
        },
        (err: unknown) => {
          logger.warn({ err, commandId }, 'volume command failed');
          acks.command(commandId, 'failed', `mixer: ${errorText(err)}`);
        },
      );
      return;
    }
    case 'amp': {
      const { on, commandId } = command;
      const amp = deps.controls?.amp;
      const word = on ? 'on' : 'off';
      if (!amp) {
        state.ampOn = on;
        acks.command(commandId, 'finished', `amplifier ${word} (recorded; no relay configured)`);
        return;
      }
      amp.set(on).then(
        () => {
          state.ampOn = on;
          acks.command(commandId, 'finished', on ? 'amplifier on (held until "amp off")' : 'amplifier off');
        },
        (err: unknown) => {
          logger.warn({ err, commandId }, 'amp command failed');
          acks.command(commandId, 'failed', `relay: ${errorText(err)}`);
        },
      );
      return;
    }
    case 'sync-time':
      state.clockOffsetMs = command.serverTime - now;
      acks.command(command.commandId, 'finished', `clock offset ${state.clockOffsetMs} ms`);
      return;
    case 'reboot':
      if (!deps.reboot) {
        acks.command(command.commandId, 'skipped', 'reboot is not supported on this node');
        return;
      }
      acks.command(command.commandId, 'finished', 'rebooting');
      deps.reboot().catch((err: unknown) => logger.error({ err }, 'reboot failed'));
      return;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
