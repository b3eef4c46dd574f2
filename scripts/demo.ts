/**
 * `npm start`: the server as `loaxa serve` runs it, plus — unless LOAXA_DEMO=0 —
 * a demo commune for a newcomer: three villages and five simulated
 * loudspeakers (firmware-sim) that connect over real MQTT and really download
 * and "play" the audio, so acknowledgements arrive in the console at once.
 *
 * A development entry only: the production server (`loaxa serve`, the systemd
 * unit) never seeds or starts simulated loudspeakers, and firmware-sim is no
 * dependency of the server package. Compiled to scripts/dist/demo.mjs by
 * scripts/build.mjs (`npm start` builds it when the sources changed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { startSimFleet } from '@loaxa/firmware-sim';
import type { DeviceRegistry } from '../server/src/devices/registry';
import { runServer } from '../server/src/main';

export interface DemoDevice {
  deviceId: string;
  secret: string;
}

const ZONES = [
  { id: 'thon-dong', name: 'Thôn Đông' },
  { id: 'thon-trung', name: 'Thôn Trung' },
  { id: 'thon-tay', name: 'Thôn Tây' },
];

const DEVICES = [
  { id: 'loa-01', name: 'Cụm loa Nhà văn hóa thôn Đông', zones: ['thon-dong'] },
  { id: 'loa-02', name: 'Cụm loa Chợ Đông', zones: ['thon-dong'] },
  { id: 'loa-03', name: 'Cụm loa Trường tiểu học', zones: ['thon-trung'] },
  { id: 'loa-04', name: 'Cụm loa Ngã ba thôn Tây', zones: ['thon-tay'] },
  { id: 'loa-05', name: 'Cụm loa Đình làng', zones: ['thon-trung', 'thon-tay'] },
];

function secretsFile(dataDir: string): string {
  return path.join(dataDir, 'demo-devices.json');
}

/**
 * Creates the demo commune on an empty database. Device secrets are stored
 * hashed in the database, so the simulator's copies are kept in a file
 * readable only by this user, beside the database.
 */
export function seedDemo(registry: DeviceRegistry, dataDir: string, logger: Logger): DemoDevice[] {
  const file = secretsFile(dataDir);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as DemoDevice[];
  if (registry.listZones().length > 0 || registry.listDevices().length > 0) {
    logger.info('database already has zones or devices: no demo loudspeakers started');
    return [];
  }
  for (const z of ZONES) registry.createZone(z.name, z.id);
  const devices = DEVICES.map((d) => {
    const { secret } = registry.createDevice({ id: d.id, name: d.name, zones: d.zones });
    return { deviceId: d.id, secret };
  });
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(devices, null, 2), { mode: 0o600 });
  fs.renameSync(temp, file);
  logger.info({ zones: ZONES.length, devices: devices.length }, 'demo commune created');
  return devices;
}

void runServer(async (server, config, logger) => {
  if (!config.demo) return null;
  const devices = seedDemo(server.services.registry, config.dataDir, logger);
  if (devices.length === 0) return null;
  const fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices, logger });
  logger.info({ devices: devices.length }, 'demo loudspeakers started (LOAXA_DEMO=0 turns them off)');
  return fleet;
});
