/**
 * Plans after `loaxa restore`: the server process and simulated loudspeakers
 * run, a backup is taken, more changes push each device's plan version up,
 * the server stops, the backup is restored (its plan counters are behind what
 * the devices hold) and the server starts again. A broadcast planned after
 * that must still play: the plans carry the database generation as their
 * epoch, and a restore makes a new one.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sql, waitFor } from '../helpers';
import { devicesOnline, exited, killAll, provision, readDb, serverProcess, startFleet } from '../processes';

const run = promisify(execFile);
const LOAXA = path.resolve(import.meta.dirname, '../../bin/loaxa.mjs');
const DEVICES = 2;
afterAll(killAll);

const generation = async (dataDir: string) =>
  (await readDb(dataDir, sql<{ value: string }>`SELECT value FROM meta WHERE key = 'generation'`))[0]!.value;
const planVersion = async (dataDir: string, id: string) =>
  Number((await readDb(dataDir, sql<{ v: number }>`SELECT plan_version AS v FROM devices WHERE id = ${id}`))[0]!.v);

describe('plans after a restore', () => {
  it('reach devices that hold a higher plan version from before the restore', async () => {
    const { dataDir, devices, devicesFile } = await provision('restore', DEVICES);
    const proc = await serverProcess(dataDir, { password: 'restore-test-password' });
    let server = proc.start();
    await waitFor('health', async () => (await fetch(`${proc.url}/api/v1/health`)).ok, 30_000);
    startFleet(proc, devicesFile);
    await waitFor('fleet online', async () => (await devicesOnline(proc)) === DEVICES, 30_000);
    const backup = path.join(dataDir, 'before.sqlite');
    await run(process.execPath, [LOAXA, 'backup', backup], { env: proc.env });
    const before = await generation(dataDir);
    const backedUpVersion = await planVersion(dataDir, devices[0]!.deviceId);

    // Changes after the backup: every zone change sends each device a newer plan.
    const api = await proc.adminApi();
    const zoneB = await api<{ id: string }>('POST', '/api/v1/zones', { name: 'Thôn B' });
    expect(zoneB.status).toBe(201);
    for (let i = 0; i < 4; i++) {
      for (const { deviceId } of devices) {
        const zones = i % 2 === 0 ? ['thon-a', zoneB.body.id] : ['thon-a'];
        expect((await api('PUT', `/api/v1/devices/${deviceId}/zones`, { zones })).status).toBe(200);
      }
    }
    expect(await planVersion(dataDir, devices[0]!.deviceId)).toBeGreaterThan(backedUpVersion + 3);

    server.kill('SIGTERM');
    await exited(server);
    const { stderr } = await run(process.execPath, [LOAXA, 'restore', backup], { env: proc.env });
    expect(stderr).toMatch(/restored/);
    expect(await generation(dataDir)).not.toBe(before);

    server = proc.start();
    await waitFor('fleet back', async () => (await devicesOnline(proc)) === DEVICES, 60_000);
    const cookie = await proc.login();
    const res = await fetch(`${proc.url}/api/v1/broadcasts`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'Thông báo sau khi khôi phục dữ liệu.',
        zones: ['thon-a'],
        at: new Date(Date.now() + 6000).toISOString(),
      }),
    });
    expect(res.status).toBe(201);
    const { occurrenceId } = (await res.json()) as { occurrenceId: string };
    const finished = async () =>
      Number(
        (
          await readDb(
            dataDir,
            sql<{
              n: number;
            }>`SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = ${occurrenceId} AND stage = 'finished'`,
          )
        )[0]!.n,
      );
    await waitFor('played on every device after the restore', async () => (await finished()) === DEVICES, 40_000);
  }, 150_000);
});
