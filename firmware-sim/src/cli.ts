/**
 * `npm run sim -- --server-url http://127.0.0.1:8080 --mqtt-url mqtt://127.0.0.1:1883 --devices-file devices.json`
 * Devices must already be registered on the server (the file carries their ids and secrets).
 * Faults (each takes the fraction of devices it hits first, e.g. 0.1 = every tenth device):
 *   --offline F:AFTER_MS:FOR_MS  --drops F:EVERY_MS  --slow F:BYTES_PER_S  --fail F:N  --corrupt F:N
 *   --skew F:MAX_MS  --disk-full F:N  --reboot F:AFTER_MS:DOWN_MS
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { AckPayload } from '@loaxa/protocol';
import { pino } from 'pino';
import { parseDevicesFile } from './devices-file';
import { FAULT_FLAGS, faultsFromFlags } from './fault-flags';
import { startSimFleet } from './fleet';
import { floorArrivals, timerLateness } from './floor';
import { startGcLog } from './gc-log';
import { startProfile, type ProfileSummary } from './profile';

/** How long the fleet waits for the floor message to reach all its devices before reporting those it reached. */
const FLOOR_DELIVERY_TIMEOUT_MS = 15_000;

const USAGE =
  'usage: loaxa-sim --server-url <http url> --mqtt-url <mqtt|ws url> --devices-file <path> [--batch-size 50]\n' +
  '          [--ack-spread-ms 0]   (acks of a broadcast leave within this random delay; an installed agent: 1000)\n' +
  '  faults: [--offline F:AFTER_MS:FOR_MS] [--drops F:EVERY_MS] [--slow F:BYTES_PER_S] [--fail F:N] [--corrupt F:N]\n' +
  '          [--skew F:MAX_MS] [--disk-full F:N] [--reboot F:AFTER_MS:DOWN_MS]   (F = fraction of devices, 0…1)';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'server-url': { type: 'string' },
      'mqtt-url': { type: 'string' },
      'devices-file': { type: 'string' },
      'batch-size': { type: 'string' },
      'ack-spread-ms': { type: 'string' },
      'online-timeout-ms': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      ...Object.fromEntries(FAULT_FLAGS.map((flag) => [flag, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const serverUrl = values['server-url'];
  const mqttUrl = values['mqtt-url'];
  const devicesFile = values['devices-file'];
  if (!serverUrl || !mqttUrl || !devicesFile) {
    console.error(USAGE);
    process.exit(2);
  }
  const ackSpreadMs = Number(values['ack-spread-ms'] ?? 0);
  if (!Number.isInteger(ackSpreadMs) || ackSpreadMs < 0 || ackSpreadMs > 10_000) {
    console.error(`loaxa-sim: --ack-spread-ms: a whole number of ms, 0 … 10000 (got "${values['ack-spread-ms']}")`);
    process.exit(2);
  }
  const logger = pino({ level: values['log-level'] });
  const devices = parseDevicesFile(await readFile(devicesFile, 'utf8'), devicesFile);
  const faults = faultsFromFlags(values as Partial<Record<(typeof FAULT_FLAGS)[number], string>>);
  const fleet = await startSimFleet({
    serverUrl,
    mqttUrl,
    devices,
    logger,
    ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}),
    ackSpreadMs,
    faults,
  });
  if (Object.keys(faults).length > 0) logger.info({ faults: Object.keys(faults) }, 'fault injection on');
  // Spawned with an IPC channel (npm run bench): report each accepted plan, for plan re-delivery timing.
  // It can also profile this process over a window the parent chooses, and measure the floor (floor.ts).
  if (process.send) {
    fleet.events.on('plan', (deviceId, plan) =>
      process.send!({ type: 'plan', deviceId, planVersion: plan.planVersion, zones: plan.zones, at: Date.now() }),
    );
    // Which devices started each occurrence, by their own account: the bench sets it beside the
    // "started" acks the server stored, so an ack lost on the way is told from a command never heard.
    // A play-now heard after it ended is "skipped" (expired): counted apart, it tells late from lost.
    const startedBy = new Map<string, Set<string>>();
    const skippedBy = new Map<string, Set<string>>();
    const note = (byOccurrence: Map<string, Set<string>>, occurrenceId: string, deviceId: string) => {
      const devices = byOccurrence.get(occurrenceId) ?? new Set<string>();
      byOccurrence.set(occurrenceId, devices.add(deviceId));
    };
    fleet.events.on('ack', (deviceId: string, ack: AckPayload) => {
      if (!ack.occurrenceId) return;
      if (ack.stage === 'started' || ack.earlier?.some((e) => e.stage === 'started')) {
        note(startedBy, ack.occurrenceId, deviceId);
      } else if (ack.stage === 'skipped') note(skippedBy, ack.occurrenceId, deviceId);
    });
    const deviceIds = devices.map((d) => d.deviceId);
    let stopProfile: ((limit?: number) => Promise<ProfileSummary>) | null = null;
    const gcLog = startGcLog();
    process.on('message', (m: { type?: string; at?: number; to?: number; marker?: string; occurrenceId?: string }) => {
      if (m.type === 'started-by' && m.occurrenceId) {
        const ids = [...(startedBy.get(m.occurrenceId) ?? [])];
        const skipped = [...(skippedBy.get(m.occurrenceId) ?? [])];
        process.send!({ type: 'started-by', occurrenceId: m.occurrenceId, deviceIds: ids, skippedIds: skipped });
      } else if (m.type === 'profile-start' && !stopProfile) {
        void startProfile().then((stop) => {
          stopProfile = stop;
          process.send!({ type: 'profile-started' });
        });
      } else if (m.type === 'profile-stop' && stopProfile) {
        const stop = stopProfile;
        stopProfile = null;
        void stop().then((summary) => process.send!({ type: 'profile', summary }));
      } else if (m.type === 'floor-delivery' && m.marker) {
        const arrivals = floorArrivals(deviceIds, m.marker, FLOOR_DELIVERY_TIMEOUT_MS);
        process.send!({ type: 'floor-delivery-armed' });
        void arrivals.then((arrivals) => process.send!({ type: 'floor-delivery', arrivals }));
      } else if (m.type === 'gc-pauses' && m.at !== undefined && m.to !== undefined) {
        process.send!({ type: 'gc-pauses', pauses: gcLog.between(m.at, m.to) });
      } else if (m.type === 'floor-timer' && m.at !== undefined) {
        void timerLateness(fleet.clocks.values(), m.at).then((lateMs) =>
          process.send!({ type: 'floor-timer', lateMs }),
        );
      }
    });
  }
  const timeoutMs = Number(values['online-timeout-ms'] ?? 60_000);
  fleet.waitOnline(timeoutMs).then(
    () => logger.info({ devices: devices.length }, 'all simulated devices online'),
    (err: unknown) => logger.warn({ err: (err as Error).message }, 'some simulated devices are not online yet'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping simulated fleet');
    fleet.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'fleet did not stop cleanly');
        process.exit(1);
      },
    );
  };
  // Spawned by a bench: when the bench dies (its IPC channel closes), the fleet goes with it
  // instead of reconnecting thousands of devices in the background of the next run.
  if (process.send) process.on('disconnect', () => stop('parent gone'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`loaxa-sim: ${(err as Error).message}`);
  process.exit(1);
});
