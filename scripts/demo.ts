/**
 * `npm start`: the server as `loaxa serve` runs it, plus — unless LOAXA_DEMO=0 —
 * a demo province for a newcomer: three communes with two villages and three
 * simulated loudspeakers each (firmware-sim) that connect over real MQTT and
 * really download and "play" the audio, so acknowledgements arrive in the
 * console at once. `admin` administers the first commune; the province
 * administrator's account is printed beside it at first start.
 *
 * A development entry only: the production server (`loaxa serve`, the systemd
 * unit) never seeds or starts simulated loudspeakers, and firmware-sim is no
 * dependency of the server package. Compiled to scripts/dist/demo.mjs by
 * scripts/build.mjs (`npm start` builds it when the sources changed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_ACK_SPREAD_MS } from '@loaxa/device-agent';
import { startSimFleet } from '@loaxa/firmware-sim';
import type { DeviceRegistry } from '../server/src/devices/registry';
import type { CommuneService } from '../server/src/tenancy/communes';
import { PROVINCE } from '../server/src/tenancy/scope';
import { runServer } from '../server/src/main';

export interface DemoDevice {
  deviceId: string;
  secret: string;
}

/** A small province: three communes, each with its villages and a few loudspeakers (ids unique province-wide). */
const COMMUNES: {
  id: string;
  name: string;
  zones: { id: string; name: string; languages?: string[] }[];
  devices: { id: string; name: string; zones: string[] }[];
}[] = [
  {
    // The commune `admin` administers: the database's first commune, renamed.
    id: 'default',
    name: 'Xã Đông Sơn',
    zones: [
      { id: 'dong-son-thon-dong', name: 'Thôn Đông' },
      { id: 'dong-son-thon-tay', name: 'Thôn Tây' },
    ],
    devices: [
      { id: 'loa-01', name: 'Cụm loa Nhà văn hóa thôn Đông', zones: ['dong-son-thon-dong'] },
      { id: 'loa-02', name: 'Cụm loa Chợ Đông', zones: ['dong-son-thon-dong'] },
      { id: 'loa-03', name: 'Cụm loa Đình làng', zones: ['dong-son-thon-tay'] },
    ],
  },
  {
    id: 'xa-tan-lap',
    name: 'Xã Tân Lập',
    zones: [
      { id: 'tan-lap-thon-1', name: 'Thôn 1' },
      { id: 'tan-lap-thon-2', name: 'Thôn 2' },
    ],
    devices: [
      { id: 'loa-11', name: 'Cụm loa UBND xã Tân Lập', zones: ['tan-lap-thon-1'] },
      { id: 'loa-12', name: 'Cụm loa Trường tiểu học', zones: ['tan-lap-thon-1'] },
      { id: 'loa-13', name: 'Cụm loa Ngã ba thôn 2', zones: ['tan-lap-thon-2'] },
    ],
  },
  {
    id: 'xa-hoa-an',
    name: 'Xã Hòa An',
    zones: [
      { id: 'hoa-an-ban-na', name: 'Bản Nà' },
      // A H'Mông village: a notice's H'Mông version plays here after the Vietnamese.
      { id: 'hoa-an-ban-pac', name: 'Bản Pác', languages: ['vi', 'hmn'] },
    ],
    devices: [
      { id: 'loa-21', name: 'Cụm loa Bản Nà', zones: ['hoa-an-ban-na'] },
      { id: 'loa-22', name: 'Cụm loa Chợ phiên', zones: ['hoa-an-ban-na', 'hoa-an-ban-pac'] },
      { id: 'loa-23', name: 'Cụm loa Trạm y tế', zones: ['hoa-an-ban-pac'] },
    ],
  },
];

function secretsFile(dataDir: string): string {
  return path.join(dataDir, 'demo-devices.json');
}

/**
 * Creates the demo commune on an empty database. Device secrets are stored
 * hashed in the database, so the simulator's copies are kept in a file
 * readable only by this user, beside the database.
 */
export async function seedDemo(
  services: { registry: DeviceRegistry; communes: CommuneService },
  dataDir: string,
  logger: Logger,
): Promise<DemoDevice[]> {
  const { registry, communes } = services;
  const file = secretsFile(dataDir);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as DemoDevice[];
  if ((await registry.listZones()).length > 0 || (await registry.listDevices()).length > 0) {
    logger.info('database already has zones or devices: no demo loudspeakers started');
    return [];
  }
  const devices: DemoDevice[] = [];
  for (const commune of COMMUNES) {
    const id =
      commune.id === communes.defaultId()
        ? (
            await communes.update(
              commune.id,
              { name: commune.name },
              (await communes.get(PROVINCE, commune.id))!.revision,
            )
          ).id
        : (await communes.create(commune.name)).id;
    for (const z of commune.zones) await registry.createZone(z.name, id, z.id, z.languages);
    for (const d of commune.devices) {
      const { secret } = await registry.createDevice({ id: d.id, name: d.name, zones: d.zones, communeId: id });
      devices.push({ deviceId: d.id, secret });
    }
  }
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(devices, null, 2), { mode: 0o600 });
  fs.renameSync(temp, file);
  logger.info({ communes: COMMUNES.length, devices: devices.length }, 'demo province created');
  return devices;
}

void runServer(async (server, config, logger) => {
  if (!config.demo) return null;
  const devices = await seedDemo(server.services, config.dataDir, logger);
  if (devices.length === 0) return null;
  // Their acks spread over a second, as an installed agent's do.
  const fleet = await startSimFleet({
    serverUrl: server.url,
    mqttUrl: server.mqttUrl,
    devices,
    logger,
    ackSpreadMs: DEFAULT_ACK_SPREAD_MS,
  });
  logger.info({ devices: devices.length }, 'demo loudspeakers started (LOAXA_DEMO=0 turns them off)');
  return fleet;
});
