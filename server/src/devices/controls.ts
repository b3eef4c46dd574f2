/**
 * The technician's remote hands on one loudspeaker: volume, amplifier relay,
 * a test tone; and stopping an occurrence wherever it still plays. Commands
 * go to the device's own command topic (QoS 1, persistent session, five
 * minutes to live) and the answer is the device's ack of the command.
 */
import { sql } from 'kysely';
import { encode, isFinalStage, topics, type CommandPayload, type DeliveryStage } from '@loaxa/protocol';
import type { SqlDb } from '../db/sql';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry, DeviceView } from './registry';
import type { BroadcastService } from '../broadcasts/service';
import { commandHeader } from '../broadcasts/service';
import type { ContentLibrary } from '../schedule/content';
import type { Scope } from '../tenancy/scope';

/** How long a request waits for the device's answer before replying "sent". */
const ANSWER_WAIT_MS = 3_000;

export type ControlAction = { action: 'volume'; level: number } | { action: 'amp'; on: boolean };

export interface CommandOutcome {
  commandId: string;
  /** `sent`: the device has not answered yet (offline, or slow); it gets the command when it connects. */
  result: 'finished' | 'skipped' | 'failed' | 'sent';
  detail: string | null;
}

export class ControlError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export class DeviceControls {
  constructor(
    private readonly deps: {
      sql: SqlDb;
      bus: MessageBus;
      registry: DeviceRegistry;
      broadcasts: BroadcastService;
      content: ContentLibrary;
      /** Publishes fresh plans to these devices (Scheduling.replan). */
      replan: (deviceIds: Set<string>) => Promise<void>;
      answerWaitMs?: number;
    },
  ) {}

  /** Sends a control to a device of `scope`; the outcome names the device's commune (for the audit log). */
  async command(
    deviceId: string,
    control: ControlAction,
    scope: Scope,
  ): Promise<CommandOutcome & { communeId: string }> {
    const { communeId } = await this.activeDevice(deviceId, scope);
    const command: CommandPayload = { ...commandHeader(), ...control };
    await this.deps.bus.publish(topics.deviceCmd(deviceId), encode(command), { qos: 1 });
    return { ...(await this.answer(deviceId, command.commandId)), communeId };
  }

  /** Plays the test tone now on this loudspeaker of `scope`; it shows in deliveries like any broadcast. */
  async testTone(deviceId: string, actor: string, scope: Scope): Promise<{ occurrenceId: string; communeId: string }> {
    const { communeId } = await this.activeDevice(deviceId, scope);
    const tone = await this.deps.content.toneAsset();
    // playFile puts the tone's occurrence in the loudspeaker's commune, like any broadcast there.
    const occurrenceId = await this.deps.broadcasts.playFile({
      title: 'Thử loa / Test tone',
      audio: tone,
      deviceIds: [deviceId],
      createdBy: actor,
    });
    return { occurrenceId, communeId };
  }

  /**
   * Stops an occurrence on every device where it has not ended yet, and for
   * good: the stop is stored (compare-and-set, so two stops cannot both
   * count), the occurrence leaves every plan — the retained plans of offline
   * devices included — and a device added to its zones later never gets it.
   */
  async stop(occurrenceId: string, actor: string, scope: Scope): Promise<{ devices: string[]; communeId: string }> {
    const { bus } = this.deps;
    const { db } = this.deps.sql;
    const occurrence = (await db
      .selectFrom('occurrences')
      .select(['stopped_at', 'stopped_by', 'commune_id'])
      .where('id', '=', occurrenceId)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst()) as { stopped_at: number | null; stopped_by: string | null; commune_id: string } | undefined;
    if (!occurrence) throw new ControlError(404, 'id', `no occurrence with id ${occurrenceId}`);
    if (occurrence.stopped_at !== null) {
      throw new ControlError(
        409,
        'id',
        `this broadcast was already stopped by ${occurrence.stopped_by ?? '?'} at ${new Date(occurrence.stopped_at).toISOString()}`,
      );
    }
    const rows = (await db
      .selectFrom('deliveries')
      .select(['device_id', 'stage'])
      .where('occurrence_id', '=', occurrenceId)
      .execute()) as { device_id: string; stage: DeliveryStage }[];
    const devices = rows.filter((r) => !isFinalStage(r.stage)).map((r) => r.device_id);
    if (devices.length === 0) {
      throw new ControlError(409, 'id', 'this broadcast has already ended on every loudspeaker');
    }
    const { numUpdatedRows } = await db
      .updateTable('occurrences')
      .set({ stopped_at: Date.now(), stopped_by: actor })
      .where('id', '=', occurrenceId)
      .where('stopped_at', 'is', null)
      .executeTakeFirst();
    if (Number(numUpdatedRows) === 0) throw new ControlError(409, 'id', 'someone else stopped this broadcast just now');
    await this.deps.replan(new Set(devices));
    await Promise.all(
      devices.map((d) => {
        const command: CommandPayload = { ...commandHeader(), action: 'stop', occurrenceId };
        return bus.publish(topics.deviceCmd(d), encode(command), { qos: 1 });
      }),
    );
    return { devices, communeId: occurrence.commune_id };
  }

  /** A device of `scope` that is not revoked; another commune's is as unknown as a missing one. */
  private async activeDevice(deviceId: string, scope: Scope): Promise<DeviceView> {
    const device = await this.deps.registry.getDevice(deviceId, scope);
    if (!device) throw new ControlError(404, 'id', `no device with id ${deviceId}`);
    if (device.revoked) throw new ControlError(409, 'id', `the device ${deviceId} is revoked`);
    return device;
  }

  /** The device's final ack of the command, if it comes within the wait. */
  private async answer(deviceId: string, commandId: string): Promise<CommandOutcome> {
    const read = async () =>
      (
        await sql<{ stage: 'finished' | 'skipped' | 'failed'; detail: string | null }>`SELECT stage, detail FROM acks
          WHERE device_id = ${deviceId} AND ref_id = ${commandId} AND stage IN ('finished', 'skipped', 'failed')`.execute(
          this.deps.sql.db,
        )
      ).rows[0];
    const deadline = Date.now() + (this.deps.answerWaitMs ?? ANSWER_WAIT_MS);
    for (;;) {
      const ack = await read();
      if (ack) return { commandId, result: ack.stage, detail: ack.detail };
      if (Date.now() >= deadline) return { commandId, result: 'sent', detail: null };
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
