/**
 * The simulated fleet of the benchmarks: devices split over fleet processes
 * (so the devices due on one instant are not queued behind each other on one
 * event loop; real loudspeakers each have their own CPU), each process the
 * firmware simulator's command line with an IPC channel to the bench.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ACK_SPREAD_MS } from '@loaxa/device-agent';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface FleetDevice {
  deviceId: string;
  secret: string;
  /** The device's own broker URLs in its order (a cluster's mqttUrl, then mqttUrls); default the fleet's. */
  brokers?: readonly string[];
}

/** The p-th percentile of ascending `sorted` (NaN when empty). */
export const pct = (sorted: readonly number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes each process's share of `devices` (round robin) to `dir`; the files and who went where. */
export function splitFleet(
  dir: string,
  devices: readonly FleetDevice[],
  processes: number,
): { files: string[]; processOf: Map<string, number> } {
  const processOf = new Map(devices.map((d, i) => [d.deviceId, i % processes]));
  const files = Array.from({ length: processes }, (_, p) => {
    const file = path.join(dir, `devices-${p}.json`);
    fs.writeFileSync(file, JSON.stringify(devices.filter((d) => processOf.get(d.deviceId) === p)));
    return file;
  });
  return { files, processOf };
}

let simBuilt = false;

/**
 * One fleet process running the devices of `devicesFile` against the server: the simulator's
 * compiled build (scripts/build.mjs, target sim; made here when missing or stale), so the agents
 * run as an installed loudspeaker's do, without tsx and the wrappers it adds to every function.
 */
export function spawnFleetProcess(server: { url: string; mqttUrl: string }, devicesFile: string): ChildProcess {
  simBuilt ||=
    (execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'sim'], { stdio: 'inherit' }), true);
  return spawn(
    process.execPath,
    [
      // Thousands of devices' messages per second: a larger young generation saves scavenges (harness tuning).
      '--max-semi-space-size=64',
      ...(process.env.FLEET_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--cpu-prof-interval=100'] : []),
      path.join(ROOT, 'firmware-sim/dist/loaxa-sim.mjs'),
      '--server-url',
      server.url,
      '--mqtt-url',
      server.mqttUrl,
      '--devices-file',
      devicesFile,
      '--batch-size',
      '100',
      // The agents answer a broadcast as installed ones do (their acks spread, see AckDispatcher).
      '--ack-spread-ms',
      String(DEFAULT_ACK_SPREAD_MS),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: ROOT },
  );
}
