/**
 * kill -9 of the server in the middle of a broadcast to simulated devices,
 * then a restart on the same data: no occurrence lost, nothing played twice,
 * every ack kept exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../helpers';
import { openDatabase } from '../../src/db/database';
import { EventHub } from '../../src/events/hub';
import { DeviceRegistry } from '../../src/devices/registry';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PASSWORD = 'crash-test-password';
const DEVICES = 6;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

describe('server crash mid-broadcast', () => {
  it('loses nothing and repeats nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-crash-'));
    // Provision zones and devices straight into the database before the first start.
    const db = openDatabase(dataDir);
    const registry = new DeviceRegistry(db, new EventHub());
    registry.createZone('Thôn A', 'thon-a');
    const devices = Array.from({ length: DEVICES }, (_, i) => ({
      deviceId: `crash-${i}`,
      secret: registry.createDevice({ id: `crash-${i}`, zones: ['thon-a'] }).secret,
    }));
    db.close();
    const devicesFile = path.join(dataDir, 'devices.json');
    fs.writeFileSync(devicesFile, JSON.stringify(devices));

    const env = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      LOAXA_DATA: dataDir,
      LOAXA_DEMO: '0',
      LOAXA_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
    };
    const url = `http://127.0.0.1:${env.PORT}`;
    const start = () => {
      const c = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/main.ts')], {
        env,
        cwd: ROOT,
        stdio: 'ignore',
      });
      children.push(c);
      return c;
    };
    let server = start();
    await waitFor('health', async () => (await fetch(`${url}/api/v1/health`)).ok, 30_000);
    const fleet = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'firmware-sim/src/cli.ts'),
        '--server-url',
        url,
        '--mqtt-url',
        `mqtt://127.0.0.1:${env.MQTT_PORT}`,
        '--devices-file',
        devicesFile,
        '--log-level',
        'warn',
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    children.push(fleet);
    const health = async () => (await (await fetch(`${url}/api/v1/health`)).json()) as { devicesOnline: number };
    await waitFor('fleet online', async () => (await health()).devicesOnline === DEVICES, 30_000);

    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const broadcast = async (body: object) => {
      const res = await fetch(`${url}/api/v1/broadcasts`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { occurrenceId: string }).occurrenceId;
    };
    const scheduledAt = Date.now() + 6000;
    const scheduled = await broadcast({
      text: 'Lịch phát đã hẹn.',
      zones: 'all',
      at: new Date(scheduledAt).toISOString(),
    });
    const now = await broadcast({ text: 'Phát ngay rồi mất điện.', zones: 'all' });
    server.kill('SIGKILL'); // mid-broadcast: devices are downloading or playing `now`
    await new Promise((r) => server.once('exit', r));
    await sleep(Math.max(0, scheduledAt - Date.now()) + 4000); // the scheduled one plays while the server is down

    server = start();
    await waitFor('fleet back', async () => (await health()).devicesOnline === DEVICES, 60_000);
    const finishedCount = (id: string) => {
      const d = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
      try {
        return (
          d.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ? AND stage = 'finished'").get(id) as {
            n: number;
          }
        ).n;
      } finally {
        d.close();
      }
    };
    await waitFor(
      'both finished everywhere',
      () => finishedCount(now) === DEVICES && finishedCount(scheduled) === DEVICES,
      60_000,
    ).catch((err: unknown) => {
      const dump = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
      const deliveries = dump.prepare('SELECT occurrence_id, device_id, stage, detail FROM deliveries').all();
      dump.close();
      throw new Error(`${(err as Error).message}: ${JSON.stringify(deliveries)}`);
    });

    const d = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
    for (const id of [now, scheduled]) {
      const rows = d
        .prepare('SELECT device_id, stage, COUNT(*) AS n FROM acks WHERE ref_id = ? GROUP BY device_id, stage')
        .all(id) as {
        device_id: string;
        stage: string;
        n: number;
      }[];
      expect(rows.filter((r) => r.stage === 'started')).toHaveLength(DEVICES); // played once per device
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.stage))).toEqual(new Set(['received', 'ready', 'started', 'finished']));
    }
    const occurrences = (d.prepare('SELECT COUNT(*) AS n FROM occurrences').get() as { n: number }).n;
    d.close();
    expect(occurrences).toBe(2);
  }, 120_000);
});
