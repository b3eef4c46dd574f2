/**
 * One scheduler among several instances (issue 18): the advisory-lock election
 * on a private PostgreSQL — one leader at a time, and another takes over when
 * the leader's process is killed or its connection is cut.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import pg from 'pg';
import { Leadership } from '../src/cluster/leadership';
import { waitFor } from './helpers';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the leader election tests');
const logger = pino({ level: 'silent' });

interface Candidate {
  election: Leadership;
  acquired: number;
  lost: number;
}

let lockSeq = 0;
/** A fresh lock per test: the elections of one test never see another's. */
const nextLockId = () => String(900_000 + ++lockSeq);

function candidate(url: string | undefined, lockId: string, name: string): Candidate {
  const c: Candidate = {
    acquired: 0,
    lost: 0,
    election: new Leadership({
      ...(url ? { url } : {}),
      logger,
      lockId,
      name,
      retryMs: 100,
      checkMs: 100,
      onAcquire: () => {
        c.acquired++;
      },
      onLose: () => {
        c.lost++;
      },
    }),
  };
  return c;
}

describe('leader election without PostgreSQL (SQLite: one instance)', () => {
  it('leads at once', async () => {
    const c = candidate(undefined, nextLockId(), 'solo');
    void c.election.start();
    await waitFor('the only instance to lead', () => c.election.isLeader, 5_000, 10);
    await c.election.stop();
    expect(c.acquired).toBe(1);
    expect(c.lost).toBe(1);
  });
});

describe.skipIf(!hasPostgres)('leader election on PostgreSQL', () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it('elects exactly one of two instances, and the other takes over when the leader stops', async () => {
    const lockId = nextLockId();
    const a = candidate(db.url, lockId, 'a');
    const b = candidate(db.url, lockId, 'b');
    void a.election.start();
    void b.election.start();
    await waitFor('one leader', () => a.election.isLeader || b.election.isLeader, 10_000, 20);
    const [leader, follower] = a.election.isLeader ? [a, b] : [b, a];
    // The follower has asked again and again meanwhile, and was refused each time.
    const asked = follower.election.attempts;
    await waitFor('the follower to ask three more times', () => follower.election.attempts >= asked + 3, 10_000, 20);
    expect([leader.election.isLeader, follower.election.isLeader]).toEqual([true, false]);
    expect(follower.acquired).toBe(0);

    await leader.election.stop();
    expect(leader.lost).toBe(1);
    await waitFor('the follower to take over', () => follower.election.isLeader, 10_000, 20);
    expect(follower.acquired).toBe(1);
    await follower.election.stop();
  }, 30_000);

  it('takes over within 10 s when the leader process is killed with SIGKILL', async () => {
    const lockId = nextLockId();
    // Another process holds the lock, as the leader instance would, then dies without a word.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const pg = require('pg');
         const c = new pg.Client(${JSON.stringify(db.url)});
         c.connect().then(() => c.query('SELECT pg_advisory_lock(${lockId})')).then(() => console.log('locked'));
         setInterval(() => {}, 1000);`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    try {
      let out = '';
      holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the other process to hold the lock', () => out.includes('locked'), 20_000, 20);
      const b = candidate(db.url, lockId, 'b');
      void b.election.start();
      const asked = b.election.attempts;
      await waitFor('a refused try', () => b.election.attempts >= asked + 2, 10_000, 20);
      expect(b.election.isLeader).toBe(false);

      const killedAt = Date.now();
      holder.kill('SIGKILL');
      await exited;
      await waitFor('the survivor to lead', () => b.election.isLeader, 10_000, 20);
      const tookMs = Date.now() - killedAt;
      expect(tookMs).toBeLessThan(10_000);
      await b.election.stop();
    } finally {
      if (holder.pid !== undefined && holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    }
  }, 60_000);

  it('steps down when its connection is cut, and the other instance leads', async () => {
    const lockId = nextLockId();
    const a = candidate(db.url, lockId, 'cut-a');
    void a.election.start();
    await waitFor('a to lead', () => a.election.isLeader, 10_000, 20);
    const b = candidate(db.url, lockId, 'cut-b');
    void b.election.start();
    const asked = b.election.attempts;
    await waitFor('b to be refused', () => b.election.attempts >= asked + 2, 10_000, 20);

    const admin = new pg.Client(db.url);
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'loaxa-leader:cut-a'`,
      );
      expect(rows.map((r) => r.ended)).toEqual([true]);
    } finally {
      await admin.end();
    }
    await waitFor('a to step down', () => a.lost === 1, 10_000, 20);
    await waitFor('b to lead', () => b.election.isLeader, 10_000, 20);
    // a reconnects and is a follower now: it asks and is refused.
    const aAsked = a.election.attempts;
    await waitFor('a to ask again', () => a.election.attempts >= aAsked + 2, 10_000, 20);
    expect(a.election.isLeader).toBe(false);
    expect(a.acquired).toBe(1);
    await Promise.all([a.election.stop(), b.election.stop()]);
  }, 60_000);
});
