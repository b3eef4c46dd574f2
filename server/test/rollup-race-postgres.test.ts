/**
 * The day roll-up against concurrent writes on PostgreSQL (READ COMMITTED): summing a day and
 * writing to the history it sums exclude each other through one advisory lock (ROLLUP_LOCK_KEY,
 * db/postgres-schema.ts), taken exclusive by the roll-up (reports/day-rollup.ts) and shared by
 * every *_rolled trigger, while writers share it. Each wait is proven by PostgreSQL's own view of
 * its locks (pg_locks, pg_stat_activity), never by sleeping:
 * - writes in flight when a day's roll-up starts: it waits for them and then counts them;
 * - a write while a day is being summed: it waits for the roll-up to commit, then takes the day
 *   off rolled_days, including a day newer than every other summed one.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_LOCK_KEY } from '../src/db/postgres-schema';
import { migratePostgres, postgresSql, type SqlDb } from '../src/db/sql';
import { DAY_MS } from '../src/reports/day-rollup';
import { Reports } from '../src/reports/reports';
import { waitFor } from './helpers';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the day roll-up against concurrent writes on PostgreSQL');

const HOUR = 3_600_000;
const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
/** Midnight of 2026-03-07 in Vietnam (UTC+7): the day summed while written to. */
const D = at('2026-03-06T17:00:00Z');
/** The next two days, summed by hand while written to. */
const D2 = D + DAY_MS;
const D3 = D2 + DAY_MS;
/** 10:00 on the 8th in Vietnam: the roll-up of the last two days sums D alone. */
const NOW = D + DAY_MS + 10 * HOUR;
const CUTOFF = D - 30 * DAY_MS;
const LONG_AGO = at('2026-01-01T00:00:00Z');
const SHA = 'd'.repeat(64);

/** The key's halves as pg_locks shows an advisory lock on a bigint (objsubid 1). */
const unsignedKey = BigInt.asUintN(64, BigInt(ROLLUP_LOCK_KEY));
const KEY_CLASSID = String(unsignedKey >> 32n);
const KEY_OBJID = String(unsignedKey & 0xffffffffn);

type Outcome = 'waiting' | 'finished';

describe.skipIf(!hasPostgres)('the day roll-up against concurrent writes on PostgreSQL', () => {
  let server: TestPostgres;
  /** The roll-up's own pool, named so that its backends can be told apart. */
  let rollupDb: SqlDb;
  /** The writes from a pool, as the server makes them. */
  let writerDb: SqlDb;
  /** Reads pg_locks and the results. */
  let probe: pg.Client;
  const clients: pg.Client[] = [];

  const client = async () => {
    const c = new pg.Client({ connectionString: server.url, application_name: 'rollup-race-hand' });
    await c.connect();
    clients.push(c);
    return c;
  };

  /** Whether a backend of `applicationName` waits for the roll-up lock in `mode`. */
  const waitsForLock = async (applicationName: string, mode: 'ExclusiveLock' | 'ShareLock') =>
    (
      await probe.query(
        `SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
          WHERE a.application_name = $1 AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'
            AND l.locktype = 'advisory' AND NOT l.granted AND l.mode = $2
            AND l.classid = $3::oid AND l.objid = $4::oid AND l.objsubid = 1`,
        [applicationName, mode, KEY_CLASSID, KEY_OBJID],
      )
    ).rowCount! > 0;

  /**
   * Runs `work` without awaiting it and reports, as soon as either is true, whether it finished or
   * waits for the roll-up lock in `mode` (bounded: 10 s).
   */
  const startAndWatch = async <T>(
    applicationName: string,
    mode: 'ExclusiveLock' | 'ShareLock',
    work: () => Promise<T>,
  ): Promise<{ outcome: Outcome; done: Promise<T> }> => {
    let settled = false;
    const done = work().finally(() => (settled = true));
    done.catch(() => {}); // awaited by the caller; not unhandled meanwhile
    const outcome = await waitFor<Outcome>(
      `${applicationName} to wait for the roll-up lock (${mode}) or finish`,
      async () => (settled ? 'finished' : (await waitsForLock(applicationName, mode)) ? 'waiting' : null),
      10_000,
      10,
    );
    return { outcome, done };
  };

  const rolledDays = async () =>
    (await rollupDb.db.selectFrom('rolled_days').select('day').orderBy('day').execute()).map(
      (r: { day: number }) => r.day,
    );
  const deviceDays = async (day: number) =>
    (await rollupDb.db.selectFrom('device_days').selectAll().where('day', '=', day).orderBy('device_id').execute()).map(
      (r: object) => ({ ...r }),
    );

  beforeAll(async () => {
    server = await startPostgres();
    rollupDb = postgresSql(server.url, { poolSize: 2, applicationName: 'rollup-race-rollup' });
    writerDb = postgresSql(server.url, { poolSize: 2, applicationName: 'rollup-race-writer' });
    await migratePostgres(rollupDb);
    probe = await client();

    // Two loudspeakers of the default commune, online since long before; one broadcast on each of
    // D, D2 and D3 (at 03:00 in Vietnam, 5 minutes), played by loa-1 only, so far.
    const { db } = writerDb;
    await db
      .insertInto('zones')
      .values({ id: 'thon-dong', commune_id: 'default', name: 'Thôn Đông', created_at: 0 })
      .execute();
    await db
      .insertInto('devices')
      .values(
        ['loa-1', 'loa-2'].map((id) => ({
          id,
          name: `Loa ${id}`,
          secret_hash: 'x',
          created_at: LONG_AGO,
          commune_id: 'default',
          revoked_at: null,
          online: 1,
          last_seen: null,
        })),
      )
      .execute();
    await db
      .insertInto('device_zones')
      .values([
        { device_id: 'loa-1', zone_id: 'thon-dong' },
        { device_id: 'loa-2', zone_id: 'thon-dong' },
      ])
      .execute();
    await db
      .insertInto('media')
      .values({ sha256: SHA, format: 'ogg', bytes: 1, duration_ms: 1, created_at: 0 })
      .execute();
    for (const [id, day] of [
      ['o-d', D],
      ['o-d2', D2],
      ['o-d3', D3],
    ] as const) {
      await db
        .insertInto('occurrences')
        .values({
          id,
          commune_id: 'default',
          title: id,
          priority: 'normal',
          start_at: day + 3 * HOUR,
          duration_ms: 5 * MINUTE,
          sha256: SHA,
          created_at: 0,
        })
        .execute();
      await db
        .insertInto('deliveries')
        .values({ occurrence_id: id, device_id: 'loa-1', stage: 'finished', at: day + 3 * HOUR })
        .execute();
    }
    for (const id of ['loa-1', 'loa-2']) {
      await db.insertInto('device_status').values({ device_id: id, online: 1, at: LONG_AGO }).execute();
    }
    expect(await rolledDays()).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => {});
    await writerDb?.close();
    await rollupDb?.close();
    await server?.close();
  });

  it('uses the documented key: the first 8 bytes of sha256("loaxa:rollup"), signed', () => {
    const digest = crypto.createHash('sha256').update('loaxa:rollup').digest();
    expect(ROLLUP_LOCK_KEY).toBe(digest.readBigInt64BE(0).toString());
  });

  it('waits for the writes in flight on the day it sums, and counts them', async () => {
    // Two writes to D, neither committed: loa-2 plays D's broadcast (A) and goes offline at noon
    // (B). B's insert returning while A is open shows that writers do not wait for each other.
    const a = await client();
    const b = await client();
    await a.query('BEGIN');
    await a.query(
      `INSERT INTO deliveries (occurrence_id, device_id, stage, at) VALUES ('o-d', 'loa-2', 'finished', $1)`,
      [D + 3 * HOUR],
    );
    await b.query('BEGIN');
    await b.query(`INSERT INTO device_status (device_id, online, at) VALUES ('loa-2', 0, $1)`, [D + 12 * HOUR]);

    const reports = new Reports(rollupDb, () => NOW);
    const { outcome, done } = await startAndWatch('rollup-race-rollup', 'ExclusiveLock', () =>
      reports.rollUp(2, CUTOFF),
    );
    let afterA: Outcome | undefined;
    if (outcome === 'waiting') {
      await a.query('COMMIT');
      // B still holds the lock shared: the roll-up is still waiting (pg_locks says so, now).
      afterA = (await waitsForLock('rollup-race-rollup', 'ExclusiveLock')) ? 'waiting' : 'finished';
      await b.query('COMMIT');
    }
    expect(await done).toBe(1);
    if (outcome !== 'waiting') {
      // Without the lock the roll-up has already summed D: commit the writes to show what it missed.
      await a.query('COMMIT');
      await b.query('COMMIT');
    }
    const concurrent = await deviceDays(D);

    // By hand: both played D's broadcast (5 minutes); loa-1 online all day, loa-2 until noon.
    const row = (deviceId: string, onlineMs: number) => ({
      device_id: deviceId,
      day: D,
      broadcasts: 1,
      finished: 1,
      failed: 0,
      missed: 0,
      stopped: 0,
      on_air_ms: 5 * MINUTE,
      online_ms: onlineMs,
      observed_ms: DAY_MS,
    });
    expect(concurrent).toEqual([row('loa-1', DAY_MS), row('loa-2', 12 * HOUR)]);
    expect(await rolledDays()).toEqual([D]);
    // And the same as summing D again with nothing else going on.
    await rollupDb.db.deleteFrom('rolled_days').where('day', '=', D).execute();
    expect(await reports.rollUp(2, CUTOFF)).toBe(1);
    expect(await deviceDays(D)).toEqual(concurrent);
    expect(await rolledDays()).toEqual([D]);

    expect(outcome).toBe('waiting');
    expect(afterA).toBe('waiting');
  });

  /**
   * A roll-up of `day` by hand holds the lock exclusive; `write` (from the writers' pool) must wait
   * for it, and once the hand-made roll-up has marked the day summed and committed, take it off.
   */
  const writeWhileSumming = async (day: number, write: () => Promise<unknown>) => {
    const hand = await client();
    await hand.query('BEGIN');
    await hand.query(`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`);
    const { outcome, done } = await startAndWatch('rollup-race-writer', 'ShareLock', write);
    await hand.query('INSERT INTO rolled_days (day) VALUES ($1)', [day]);
    await hand.query('COMMIT');
    await done;
    return outcome;
  };

  it('makes a write to a day being summed wait, then take the day off rolled_days', async () => {
    expect(await rolledDays()).toEqual([D]);
    // loa-2 plays D2's broadcast: deliveries_added_rolled.
    const delivery = await writeWhileSumming(D2, () =>
      writerDb.db
        .insertInto('deliveries')
        .values({ occurrence_id: 'o-d2', device_id: 'loa-2', stage: 'finished', at: D2 + 3 * HOUR })
        .execute(),
    );
    const afterDelivery = await rolledDays();
    // loa-1 goes offline on D3, newer than every day summed but the one being summed:
    // device_status_rolled's condition (before MAX(day) + 1 day) is true only after that commits.
    const status = await writeWhileSumming(D3, () =>
      writerDb.db
        .insertInto('device_status')
        .values({ device_id: 'loa-1', online: 0, at: D3 + HOUR })
        .execute(),
    );
    const afterStatus = await rolledDays();
    expect({ delivery, afterDelivery, status, afterStatus }).toEqual({
      delivery: 'waiting',
      afterDelivery: [D],
      status: 'waiting',
      afterStatus: [D],
    });
  });
});
