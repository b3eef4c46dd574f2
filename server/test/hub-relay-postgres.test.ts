/**
 * Live events reach a console on any instance (issue 18): two instances' hubs
 * relayed through a private PostgreSQL with LISTEN/NOTIFY.
 */
import pino from 'pino';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubRelay } from '../src/cluster/hub-relay';
import { postgresSql, type SqlDb } from '../src/db/sql';
import { EventHub, type DeliveryEvent, type DeviceEvent } from '../src/events/hub';
import { waitFor } from './helpers';
import { requirePostgres, startPostgres, type TestPostgres } from './postgres';

const hasPostgres = requirePostgres('the live-event relay tests');
const logger = pino({ level: 'silent' });

interface Instance {
  hub: EventHub;
  relay: HubRelay;
  sqlDb: SqlDb;
  devices: DeviceEvent[];
  deliveries: DeliveryEvent[];
}

describe.skipIf(!hasPostgres)('live events between two instances over PostgreSQL', () => {
  let db: TestPostgres;
  const open: Instance[] = [];
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const i of open) {
      await i.relay.stop();
      await i.sqlDb.close();
    }
    await db?.close();
  });

  const instance = async (name: string): Promise<Instance> => {
    const hub = new EventHub();
    const sqlDb = postgresSql(db.url, { poolSize: 2 });
    const relay = await HubRelay.start({ url: db.url, sqlDb, hub, logger, name });
    const i: Instance = { hub, relay, sqlDb, devices: [], deliveries: [] };
    hub.on('device', (e) => i.devices.push(e));
    hub.on('delivery', (e) => i.deliveries.push(e));
    open.push(i);
    return i;
  };
  const device = (id: string, online = true): DeviceEvent => ({ id, online, lastSeen: null });

  it('an event emitted on one instance reaches the other once, and its own listeners once', async () => {
    const a = await instance('a1');
    const b = await instance('b1');
    a.hub.emit('device', device('loa-01'));
    b.hub.emit('device', device('loa-02', false));
    await waitFor('each to hear the other', () => a.devices.length === 2 && b.devices.length === 2, 10_000, 10);
    // Listeners of the emitting hub hear it at once (synchronously), the other's after the NOTIFY.
    expect(a.devices.map((d) => d.id)).toEqual(['loa-01', 'loa-02']);
    expect(b.devices.map((d) => d.id)).toEqual(['loa-02', 'loa-01']);
    expect(b.devices[1]).toEqual({ id: 'loa-01', online: true, lastSeen: null });
    // Nothing comes back around: one more event on b, and a has exactly three.
    b.hub.emit('device', device('loa-03'));
    await waitFor('a to hear the third', () => a.devices.length === 3, 10_000, 10);
    await waitFor('b to have its own three', () => b.devices.length === 3, 10_000, 10);
    expect(a.devices.map((d) => d.id)).toEqual(['loa-01', 'loa-02', 'loa-03']);
  });

  it('a burst of 3,000 delivery events arrives whole and in order, in NOTIFYs under the size limit', async () => {
    const a = await instance('a2');
    const b = await instance('b2');
    const burst = Array.from({ length: 3_000 }, (_, k) => ({
      occurrenceId: 'occ_burst',
      deviceId: `loa-${String(k).padStart(5, '0')}`,
      stage: 'received' as const,
      at: new Date(1_700_000_000_000 + k).toISOString(),
      detail: null,
    }));
    for (const e of burst) a.hub.emit('delivery', e);
    await waitFor('b to hear the whole burst', () => b.deliveries.length >= burst.length, 20_000, 20);
    expect(b.deliveries).toEqual(burst);
  });

  it('hears again after its listening connection is cut', async () => {
    const a = await instance('a3');
    const b = await instance('b3');
    const admin = new pg.Client(db.url);
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'loaxa-events:b3'`,
      );
      expect(rows.map((r) => r.ended)).toEqual([true]);
    } finally {
      await admin.end();
    }
    await waitFor('b to notice', () => !b.relay.isListening, 10_000, 10);
    await waitFor('b to listen again', () => b.relay.isListening, 10_000, 20);
    a.hub.emit('device', device('loa-after-cut'));
    await waitFor('b to hear it', () => b.devices.some((d) => d.id === 'loa-after-cut'), 10_000, 10);
  });
});
