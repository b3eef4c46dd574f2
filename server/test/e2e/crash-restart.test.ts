/**
 * kill -9 of the server in the middle of a broadcast to simulated devices,
 * then a restart on the same data: no occurrence lost, nothing played twice,
 * every ack kept exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sql, waitFor } from '../helpers';
import {
  devicesOnline,
  exited,
  finishedOn,
  killAll,
  provision,
  readDb,
  serverProcess,
  sleep,
  startFleet,
} from '../processes';

const DEVICES = 6;
afterAll(killAll);

describe('server crash mid-broadcast', () => {
  it('loses nothing and repeats nothing', async () => {
    const { dataDir, devicesFile } = await provision('crash', DEVICES);
    const proc = await serverProcess(dataDir, { password: 'crash-test-password' });
    let server = proc.start();
    await waitFor('health', async () => (await fetch(`${proc.url}/api/v1/health`)).ok, 30_000);
    startFleet(proc, devicesFile);
    await waitFor('fleet online', async () => (await devicesOnline(proc)) === DEVICES, 30_000);

    const cookie = await proc.login();
    const broadcast = async (body: object) => {
      const res = await fetch(`${proc.url}/api/v1/broadcasts`, {
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
    await exited(server);
    await sleep(Math.max(0, scheduledAt - Date.now()) + 4000); // the scheduled one plays while the server is down

    server = proc.start();
    await waitFor('fleet back', async () => (await devicesOnline(proc)) === DEVICES, 60_000);
    const finishedCount = (id: string) => finishedOn(dataDir, id);
    await waitFor(
      'both finished everywhere',
      async () => (await finishedCount(now)) === DEVICES && (await finishedCount(scheduled)) === DEVICES,
      60_000,
    ).catch(async (err: unknown) => {
      const deliveries = await readDb(dataDir, sql`SELECT occurrence_id, device_id, stage, detail FROM deliveries`);
      throw new Error(`${(err as Error).message}: ${JSON.stringify(deliveries)}`);
    });

    for (const id of [now, scheduled]) {
      const rows = await readDb(
        dataDir,
        sql<{
          device_id: string;
          stage: string;
          n: number;
        }>`SELECT device_id, stage, COUNT(*) AS n FROM acks WHERE ref_id = ${id} GROUP BY device_id, stage`,
      );
      expect(rows.filter((r) => r.stage === 'started')).toHaveLength(DEVICES); // played once per device
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.stage))).toEqual(new Set(['received', 'ready', 'started', 'finished']));
    }
    const occurrences = Number(
      (await readDb(dataDir, sql<{ n: number }>`SELECT COUNT(*) AS n FROM occurrences`))[0]!.n,
    );
    expect(occurrences).toBe(2);
  }, 120_000);
});
