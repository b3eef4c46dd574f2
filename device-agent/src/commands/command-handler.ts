import type { CommandPayload } from '@loaxa/protocol';
import type { AckReporter } from '../ack/ack-reporter';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logger';
import type { OccurrenceRunner } from '../occurrence/occurrence-runner';
import type { Playback } from '../playback/playback';
import type { CommandGate } from './command-gate';

/** Device settings commands change; telemetry reports them. */
export interface DeviceState {
  volume: number;
  ampOn: boolean;
  /** serverTime − device clock at the last sync-time command. */
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
      const launched = deps.runner.launch(
        {
          occurrenceId: command.occurrenceId,
          priority: command.priority,
          assets: command.assets,
          startAt: null,
          ...(command.volume !== undefined ? { volume: command.volume } : {}),
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
    case 'volume':
      state.volume = command.level;
      acks.command(command.commandId, 'finished', `volume ${command.level}`);
      return;
    case 'amp':
      state.ampOn = command.on;
      acks.command(
        command.commandId,
        'finished',
        `amplifier ${command.on ? 'on' : 'off'} (state recorded; no relay driver yet)`,
      );
      return;
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

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
