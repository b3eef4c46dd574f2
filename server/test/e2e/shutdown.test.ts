/**
 * Graceful shutdown of the real server process: SIGTERM arrives while a
 * broadcast is being created and a device is sending acks.
 * - the process exits 0, within a bound, even with a console's event stream open;
 * - the broadcast being created finishes: 201, stored, and its play-now reaches
 *   the device before the connection closes;
 * - every ack the broker PUBACKed is in the database; the device's outbox
 *   re-sends the others after the restart, and each is stored once;
 * - the server publishes nothing false on the way down: no empty plan, no stop
 *   command, and the device's retained plan is still whole after the restart;
 * - the SQLite file passes `PRAGMA integrity_check`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { databaseUrlFor, readDb } from '../processes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { topics, type CommandPayload, type PlanPayload } from '@loaxa/protocol';
import { sql, waitFor } from '../helpers';
import { exited, killAll, provision, serverProcess, sleep } from '../processes';

/** Stays under the flood guard's burst (1000) so the device is never throttled. */
const MAX_ACKS = 800;
const EXIT_BOUND_MS = 15_000;
afterAll(killAll);

interface Received {
  at: number;
  topic: string;
  payload: PlanPayload | CommandPayload;
}

describe('graceful shutdown (SIGTERM)', () => {
  it('finishes the running broadcast, keeps every PUBACKed ack, tells devices nothing false', async () => {
    const { dataDir, devices } = await provision('term', 1);
    const { deviceId, secret } = devices[0]!;
    const proc = await serverProcess(dataDir, { password: 'shutdown-test-password', logLevel: 'info', capture: true });
    const { url, mqttUrl } = proc;
    const start = () => proc.start();

    let server = start();
    await waitFor('health', async () => (await fetch(`${url}/api/v1/health`)).ok, 30_000);
    const cookie = await proc.login();
    const broadcast = (body: object) =>
      fetch(`${url}/api/v1/broadcasts`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // The device: records what it is told, and keeps an outbox of acks not yet PUBACKed.
    const received: Received[] = [];
    const connectDevice = async (): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(mqttUrl, {
        clientId: deviceId,
        username: deviceId,
        password: secret,
        clean: true,
        reconnectPeriod: 0,
      });
      client.on('message', (topic, payload) =>
        received.push({ at: Date.now(), topic, payload: JSON.parse(payload.toString('utf8')) }),
      );
      await client.subscribeAsync([topics.devicePlan(deviceId), topics.deviceCmd(deviceId), topics.zoneCmd('thon-a')], {
        qos: 1,
      });
      return client;
    };
    let device = await connectDevice();
    const plans = () => received.filter((r) => r.topic.endsWith('/plan')).map((r) => r.payload as PlanPayload);

    // A broadcast for later: it sits in the device's retained plan.
    const later = await broadcast({
      text: 'Thông báo hẹn giờ, không được mất.',
      zones: 'all',
      at: new Date(Date.now() + 30 * 60_000).toISOString(),
    });
    expect(later.status).toBe(201);
    const laterId = ((await later.json()) as { occurrenceId: string }).occurrenceId;
    await waitFor('the plan with the later broadcast', () =>
      plans().some((p) => p.items.some((i) => i.occurrenceId === laterId)),
    );

    // Acks flow: each is "in the outbox" until its PUBACK.
    const outbox = new Map<string, object>();
    const pubacked = new Set<string>();
    let pumping = true;
    const ackFor = (ref: string) => ({ v: 1, commandId: ref, stage: 'received', at: Date.now() });
    const pump = (async () => {
      for (let i = 0; i < MAX_ACKS && pumping && device.connected; i++) {
        const ref = `ack-${i}`;
        const ack = ackFor(ref);
        outbox.set(ref, ack);
        device.publish(topics.deviceAck(deviceId), JSON.stringify(ack), { qos: 1 }, (err) => {
          if (!err) {
            pubacked.add(ref);
            outbox.delete(ref);
          }
        });
        await sleep(2);
      }
    })();
    await sleep(200);

    // An operator has the console open: its live event stream must not hold the shutdown up.
    const events = new AbortController();
    const stream = await fetch(`${url}/api/v1/events`, { headers: { cookie }, signal: events.signal });
    expect(stream.status).toBe(200);
    const streamEnded = stream.body!.pipeTo(new WritableStream()).then(
      () => 'ended',
      () => 'cut',
    );

    // SIGTERM while a broadcast is being rendered and sent.
    const nowText = 'Phát ngay trong lúc máy chủ đang dừng.';
    const inFlight = broadcast({ text: nowText, zones: ['thon-a'] });
    await sleep(40);
    const termAt = Date.now();
    server.kill('SIGTERM');
    const code = await exited(server);
    const shutdownMs = Date.now() - termAt;
    pumping = false;
    await pump;

    const reply = await inFlight;
    expect(reply.status, 'the broadcast under way when SIGTERM came').toBe(201);
    const nowId = ((await reply.json()) as { occurrenceId: string }).occurrenceId;
    expect(code, proc.output().slice(-3000)).toBe(0);
    expect(shutdownMs).toBeLessThan(EXIT_BOUND_MS);
    expect(proc.output()).toMatch(/shut down cleanly/);
    expect(await streamEnded).toBe('ended');

    // What the device heard after SIGTERM: the play-now, and nothing false.
    const afterTerm = received.filter((r) => r.at >= termAt);
    const commands = afterTerm.filter((r) => r.topic.endsWith('/cmd')).map((r) => r.payload as CommandPayload);
    expect(commands.map((c) => c.action)).toContain('play-now');
    expect(commands.every((c) => c.action === 'play-now')).toBe(true);
    for (const r of afterTerm.filter((x) => x.topic.endsWith('/plan'))) {
      expect((r.payload as PlanPayload).items.map((i) => i.occurrenceId)).toContain(laterId);
    }

    // The database: whole, the broadcast stored, every PUBACKed ack present.
    await expectWholeDatabase(dataDir);
    const both = await readDb(
      dataDir,
      sql<{ n: number }>`SELECT COUNT(*) AS n FROM occurrences WHERE id IN (${laterId}, ${nowId})`,
    );
    expect(Number(both[0]!.n)).toBe(2);
    const stored = new Set(
      (
        await readDb(
          dataDir,
          sql<{ ref_id: string }>`SELECT ref_id FROM acks WHERE device_id = ${deviceId} AND ref_id LIKE 'ack-%'`,
        )
      ).map((r) => r.ref_id),
    );
    const lost = [...pubacked].filter((ref) => !stored.has(ref));
    const sent = pubacked.size + outbox.size;
    console.log(
      `[shutdown] exit ${code} after ${shutdownMs} ms; acks sent ${sent}, PUBACKed ${pubacked.size}, ` +
        `stored ${stored.size}, left in the outbox ${outbox.size}, PUBACKed but lost ${lost.length}`,
    );
    expect(lost).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    await device.endAsync(true).catch(() => undefined);

    // Restart: the outbox re-sends what was not confirmed; the plan is still whole.
    const heardBefore = received.length;
    server = start();
    await waitFor('health after restart', async () => (await fetch(`${url}/api/v1/health`)).ok, 30_000);
    device = await connectDevice();
    await Promise.all(
      [...outbox.entries()].map(([ref, ack]) =>
        device.publishAsync(topics.deviceAck(deviceId), JSON.stringify(ack), { qos: 1 }).then(() => outbox.delete(ref)),
      ),
    );
    expect(outbox.size).toBe(0);
    await waitFor('a plan after the restart', () => received.slice(heardBefore).some((r) => r.topic.endsWith('/plan')));
    for (const r of received.slice(heardBefore).filter((x) => x.topic.endsWith('/plan'))) {
      expect((r.payload as PlanPayload).items.map((i) => i.occurrenceId)).toContain(laterId);
    }
    await device.endAsync();

    // An idle shutdown is quick too.
    const secondTerm = Date.now();
    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
    const idleShutdownMs = Date.now() - secondTerm;
    console.log(`[shutdown] idle shutdown ${idleShutdownMs} ms`);

    await expectWholeDatabase(dataDir);
    const rows = await readDb(
      dataDir,
      sql<{ ref_id: string; n: number }>`SELECT ref_id, COUNT(*) AS n FROM acks
        WHERE device_id = ${deviceId} AND ref_id LIKE 'ack-%' GROUP BY ref_id`,
    );
    expect(rows).toHaveLength(sent);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});

/**
 * The database is whole after the stop: SQLite's own integrity check on the file; on PostgreSQL
 * (LOAXA_TEST_DB=postgres) a committed transaction is whole by construction, so a read answers.
 */
async function expectWholeDatabase(dataDir: string): Promise<void> {
  if (await databaseUrlFor(dataDir)) {
    expect(await readDb(dataDir, sql<{ one: number }>`SELECT 1 AS one`)).toHaveLength(1);
    return;
  }
  const d = new Database(path.join(dataDir, 'loaxa.sqlite'), { readonly: true });
  try {
    expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    d.close();
  }
}
