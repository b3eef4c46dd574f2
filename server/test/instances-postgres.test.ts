/**
 * Two server instances on one PostgreSQL database (issue 18): they start
 * together on an empty database (one migrates, the other waits), exactly one
 * leads, a console on one hears a loudspeaker that speaks to the other, the
 * other takes the leadership over when the leader stops, and a live session
 * left by an instance that is gone is ended while a living instance's is kept.
 * Each instance runs its own embedded broker here; the NATS cluster the
 * devices share in production has its own tests (nats-broker, test:cluster).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet, type SimFleet } from '@loaxa/firmware-sim';
import { createDatabase } from './test-database';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';
import { openEventStream, row, run, sql, startTestServer, waitFor, type TestServer } from './helpers';

const hasPostgres = requirePostgres('the two-instance tests');

interface Health {
  leader: boolean;
  instance: string;
}

const health = async (s: TestServer): Promise<Health> =>
  (await (await fetch(`${s.url}/api/v1/health`)).json()) as Health;

describe.skipIf(!hasPostgres)('two server instances on one PostgreSQL database', () => {
  let pg: TestPostgres;
  let a: TestServer;
  let b: TestServer;
  let fleet: SimFleet | undefined;
  const abort = new AbortController();

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await createDatabase(pg.url, 'loaxa_pair');
    // Together, on an empty database: the migration lock lets one migrate while the other waits.
    [a, b] = await Promise.all([startTestServer({ DATABASE_URL: url }), startTestServer({ DATABASE_URL: url })]);
  }, 120_000);
  afterAll(async () => {
    abort.abort();
    await fleet?.stop();
    await a?.close();
    await b?.close();
    await pg?.close();
  });

  it('elects exactly one leader', async () => {
    const both = await Promise.all([health(a), health(b)]);
    expect(both.map((h) => h.instance)[0]).not.toBe(both[1]!.instance);
    expect(both.filter((h) => h.leader)).toHaveLength(1);
  });

  it('shows a console on one instance what a loudspeaker tells the other', async () => {
    const added = await a.api<{ agentConfig: { secret: string } }>('POST', '/api/v1/devices', { id: 'loa-ben-a' });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const seenOnB = await openEventStream(b.url, b.cookie, abort.signal);
    fleet = await startSimFleet({
      serverUrl: a.url,
      mqttUrl: a.mqttUrl,
      devices: [{ deviceId: 'loa-ben-a', secret: added.body.agentConfig.secret }],
    });
    await fleet.waitOnline(20_000);
    await waitFor('the device online event on the other instance', () =>
      /event: device\ndata: \{[^\n]*"id":"loa-ben-a"[^\n]*"online":true/.test(seenOnB()),
    );
  });

  it('ends a live session of an instance that is gone, and keeps a living one’s', async () => {
    const [ha, hb] = await Promise.all([health(a), health(b)]);
    const living = ha.leader ? hb.instance : ha.instance;
    const session = (id: string, instance: string) =>
      run(
        a,
        sql`INSERT INTO live_sessions (id, commune_id, key, title, priority, zones, latency_ms, max_ms,
              started_by, started_at, instance)
            VALUES (${id}, 'default', ${crypto.randomInt(1, 2 ** 31)}, 'Trực tiếp', 'normal', '[]', 400, 60000,
              'admin', ${Date.now()}, ${instance})`,
      );
    await session('live-gone', 'may-da-tat:4242:abcdef');
    await session('live-living', living);
    await waitFor(
      'the gone instance’s session ended by the leader’s sweep',
      async () =>
        (await row<{ ended_at: number | null }>(a, sql`SELECT ended_at FROM live_sessions WHERE id = 'live-gone'`))
          ?.ended_at != null,
      30_000,
    );
    const kept = await row<{ ended_at: number | null }>(
      a,
      sql`SELECT ended_at FROM live_sessions WHERE id = 'live-living'`,
    );
    expect(kept?.ended_at).toBeNull();
  }, 40_000);

  it('hands the leadership over when the leader stops', async () => {
    const leaderIsA = (await health(a)).leader;
    const [leader, follower] = leaderIsA ? [a, b] : [b, a];
    await leader.close();
    await waitFor('the other instance leads', async () => (await health(follower)).leader, 15_000);
  }, 30_000);
});
