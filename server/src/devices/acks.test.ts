import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AckPayload, AckStage } from '@loaxa/protocol';
import type { KyselyPlugin } from 'kysely';
import { openDatabase, type Db } from '../db/database';
import { sqliteSql, type SqlDb } from '../db/sql';
import { EventHub, type DeliveryEvent } from '../events/hub';
import { AckLedger } from './acks';

let dir: string;
let db: Db;
let sqlDb: SqlDb;
let ledger: AckLedger;
const events: DeliveryEvent[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-acks-'));
  db = openDatabase(dir);
  const hub = new EventHub();
  hub.on('delivery', (e) => events.push(e));
  sqlDb = sqliteSql(db);
  ledger = new AckLedger(sqlDb, hub);
  db.prepare(
    "INSERT INTO devices (id, commune_id, name, secret_hash, created_at) VALUES ('d1', 'default', 'D1', 'x', 0)",
  ).run();
  db.prepare("INSERT INTO media (sha256, format, bytes, duration_ms, created_at) VALUES (?, 'ogg', 1, 1, 0)").run(
    'a'.repeat(64),
  );
  db.prepare(
    "INSERT INTO occurrences (id, commune_id, title, priority, start_at, duration_ms, sha256, created_at) VALUES ('o1', 'default', 't', 'normal', 0, 1, ?, 0)",
  ).run('a'.repeat(64));
  db.prepare("INSERT INTO deliveries (occurrence_id, device_id) VALUES ('o1', 'd1')").run();
});
afterEach(async () => {
  events.length = 0;
  await sqlDb.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ack = (stage: AckStage, at: number): AckPayload => ({ v: 1, occurrenceId: 'o1', stage, at });
const stage = () =>
  (db.prepare("SELECT stage FROM deliveries WHERE occurrence_id = 'o1'").get() as { stage: string }).stage;

describe('AckLedger', () => {
  it.each<[AckStage[], string]>([
    [['received', 'ready', 'started', 'finished'], 'finished'],
    [['finished', 'started', 'ready'], 'finished'],
    [['received', 'ready', 'started', 'failed'], 'failed'],
    [['finished', 'skipped'], 'finished'],
    [['skipped', 'finished'], 'skipped'],
    [['started', 'preempted'], 'preempted'],
    [['ready', 'received'], 'ready'],
  ])('%j ends at %s', async (stages, expected) => {
    for (const [i, s] of stages.entries()) await ledger.record('d1', ack(s, i + 1));
    expect(stage()).toBe(expected);
  });

  it('is idempotent: a re-sent ack is stored once and emits nothing new', async () => {
    expect(await ledger.record('d1', ack('ready', 5))).toBe(true);
    expect(await ledger.record('d1', ack('ready', 5))).toBe(false);
    expect(events).toHaveLength(1);
    expect((db.prepare('SELECT COUNT(*) AS n FROM acks').get() as { n: number }).n).toBe(1);
  });

  it('records the stages carried in `earlier` first, each with its own time and detail', async () => {
    expect(
      await ledger.record('d1', {
        ...ack('started', 30),
        earlier: [
          { stage: 'received', at: 10 },
          { stage: 'ready', at: 20, detail: 'inline' },
        ],
      }),
    ).toBe(true);
    const rows = db.prepare('SELECT stage, at, detail FROM acks ORDER BY at').all();
    expect(rows).toEqual([
      { stage: 'received', at: 10, detail: null },
      { stage: 'ready', at: 20, detail: 'inline' },
      { stage: 'started', at: 30, detail: null },
    ]);
    expect(events.map((e) => e.stage)).toEqual(['received', 'ready', 'started']);
    expect(stage()).toBe('started');
    // The same combined message again (a re-send after reconnect) changes nothing.
    expect(await ledger.record('d1', { ...ack('started', 30), earlier: [{ stage: 'received', at: 10 }] })).toBe(false);
    expect(events).toHaveLength(3);
  });

  it('stores a play-now’s three stages in three statements, not one INSERT, SELECT and UPDATE per stage', async () => {
    let statements = 0;
    const counter: KyselyPlugin = {
      transformQuery: ({ node }) => {
        if (node.kind === 'RawNode') statements++; // the ledger's templates; not BEGIN/COMMIT
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const counted = new AckLedger({ ...sqlDb, db: sqlDb.db.withPlugin(counter) }, new EventHub());
    const message = {
      ...ack('started', 30),
      earlier: [
        { stage: 'received', at: 10 },
        { stage: 'ready', at: 20 },
      ],
    } satisfies AckPayload;
    expect(await counted.record('d1', message)).toBe(true);
    expect(stage()).toBe('started');
    expect(statements).toBe(3);
  });
});
