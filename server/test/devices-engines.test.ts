/**
 * The devices' storage (devices/registry.ts, acks.ts, controls.ts, inbound.ts) on each engine the
 * server can use: zones and loudspeakers of two communes, the list's filters, search, order and
 * paging, the online log, the stop's compare-and-set, and the inbound messages of one turn stored
 * in one transaction, a bad one costing only itself. Expected values are worked out by hand from
 * the small fixture below.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { topics, type AckPayload } from '@loaxa/protocol';
import type { InboundHandler, MessageBus } from '../src/broker/bus';
import type { SqlDb } from '../src/db/sql';
import { AckLedger } from '../src/devices/acks';
import { ControlError, DeviceControls } from '../src/devices/controls';
import { wireDeviceInbound } from '../src/devices/inbound';
import { ConflictError, DeviceRegistry, NO_ZONE, NotFoundError } from '../src/devices/registry';
import { EventHub, type DeliveryEvent, type DeviceEvent } from '../src/events/hub';
import { communeScope, PROVINCE } from '../src/tenancy/scope';
import { engineCases } from './engine-cases';

const A = communeScope('xa-a');
const B = communeScope('xa-b');
const SHA = 'c'.repeat(64);

/** A bus that hands the test's messages to the handlers, as a broker does, and keeps what is published. */
function fakeBus() {
  const messages: InboundHandler[] = [];
  const disconnects: ((id: string) => void)[] = [];
  const published: { topic: string; payload: string }[] = [];
  const bus: MessageBus = {
    publish: async (topic, payload) => void published.push({ topic, payload: payload.toString() }),
    onDeviceMessage: (h) => void messages.push(h),
    onDeviceDisconnect: (h) => void disconnects.push(h),
    onDeviceConnect: () => {},
    disconnect: () => {},
    close: async () => {},
  };
  /** One message; the promise settles when it is stored (or refused). */
  const send = (deviceId: string, topic: string, payload: object): Promise<void> => {
    const stored = messages.map((h) => h(topic, Buffer.from(JSON.stringify(payload)), deviceId));
    return Promise.all(stored).then(() => {});
  };
  const disconnect = (deviceId: string) => disconnects.forEach((h) => h(deviceId));
  return { bus, published, send, disconnect };
}

describe.each(engineCases('the devices’ storage on PostgreSQL'))('devices on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  const hub = new EventHub();
  const deviceEvents: DeviceEvent[] = [];
  const deliveryEvents: DeliveryEvent[] = [];
  hub.on('device', (e) => deviceEvents.push(e));
  hub.on('delivery', (e) => deliveryEvents.push(e));
  let registry: DeviceRegistry;
  let acks: AckLedger;
  const secrets: Record<string, string> = {};

  /**
   * The status log in time order (the clock below moves 1 ms per reading, so changes made one
   * after the other have their own instants); at one instant, online before offline: the only
   * tie is markAllOffline's offline, dated when the device was last heard.
   */
  const statusLog = async () =>
    (
      (await target.db.selectFrom('device_status').select(['device_id', 'online', 'at']).execute()) as {
        device_id: string;
        online: number;
        at: number;
      }[]
    )
      .sort((x, y) => x.at - y.at || y.online - x.online)
      .map((r) => `${r.device_id}:${r.online}`);
  const ids = (devices: { id: string }[]) => devices.map((d) => d.id);

  beforeAll(async () => {
    let clock = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => ++clock);
    ({ target, close } = await open());
    await target.db
      .insertInto('communes')
      .values([
        { id: 'xa-a', name: 'Xã A', created_at: 0 },
        { id: 'xa-b', name: 'Xã B', created_at: 0 },
      ])
      .execute();
    registry = new DeviceRegistry(target, hub);
    acks = new AckLedger(target, hub);
    // The same village name in both communes: the second gets the next free id.
    await registry.createZone('Thôn Đông', 'xa-a');
    await registry.createZone('Thôn Đông', 'xa-b');
    await registry.createZone('Thôn Tây', 'xa-a', 'thon-tay', ['vi', 'hmn']);
    // 'A-2' sorts before 'a-1' by bytes (SQLite's order), after it in most locales.
    const add = async (id: string, name: string, communeId: string, zones: string[]) => {
      secrets[id] = (await registry.createDevice({ id, name, communeId, zones })).secret;
    };
    await add('a-1', 'Loa Chợ Đông', 'xa-a', ['thon-dong']);
    await add('A-2', 'Loa trường', 'xa-a', ['thon-tay', 'thon-dong', 'thon-tay']);
    await add('a-3', '  Cụm loa Đình ', 'xa-a', []);
    await add('b-1', 'Loa Chợ Đông B', 'xa-b', ['thon-dong-2']);
  });

  afterAll(async () => {
    vi.mocked(Date.now).mockRestore();
    await close?.();
  });

  it('creates zones and devices, refusing taken names and ids and another commune’s zones', async () => {
    await expect(registry.createZone(' Thôn Đông ', 'xa-a')).rejects.toThrow(
      new ConflictError('name', 'a zone named "Thôn Đông" already exists'),
    );
    await expect(registry.createZone('Thôn Bắc', 'xa-b', 'thon-tay')).rejects.toThrow(
      new ConflictError('id', 'a zone with id "thon-tay" already exists'),
    );
    await expect(registry.createDevice({ id: 'a-1', communeId: 'xa-b' })).rejects.toThrow(
      new ConflictError('id', 'a device with id "a-1" already exists'),
    );
    await expect(registry.createDevice({ id: 'a-9', communeId: 'xa-a', zones: ['thon-dong-2'] })).rejects.toThrow(
      new NotFoundError('zones', 'unknown zone(s): thon-dong-2'),
    );
    expect(await registry.getDevice('a-9')).toBeNull();
    expect(await registry.getDevice('a-3')).toMatchObject({ name: 'Cụm loa Đình', zones: [], online: false });
    expect((await registry.getDevice('A-2'))?.zones).toEqual(['thon-dong', 'thon-tay']);
  });

  it('lists zones by name in bytes (“T” before “Đ”), each with its devices, within a commune', async () => {
    const all = await registry.listZones();
    expect(all.map((z) => [z.id, z.communeId, z.deviceIds])).toEqual([
      ['thon-tay', 'xa-a', ['A-2']],
      ['thon-dong', 'xa-a', ['A-2', 'a-1']],
      ['thon-dong-2', 'xa-b', ['b-1']],
    ]);
    expect(all[0]).toMatchObject({ name: 'Thôn Tây', languages: ['vi', 'hmn'], geocodes: [], area: null });
    expect((await registry.listZones(B)).map((z) => z.id)).toEqual(['thon-dong-2']);
    expect(await registry.unknownZones(['thon-dong', 'thon-dong-2', 'zz'], A)).toEqual(['thon-dong-2', 'zz']);
    expect([...(await registry.zoneLanguages(['thon-dong', 'zz', 'thon-tay'])).entries()]).toEqual([
      ['thon-tay', ['vi', 'hmn']],
      ['thon-dong', ['vi']],
    ]);
    expect(await registry.communeOfZone('thon-dong-2')).toBe('xa-b');
    expect(await registry.communeOfZone('zz')).toBeNull();
  });

  it('renames zones within the commune only', async () => {
    await expect(registry.updateZone('thon-tay', { name: 'Thôn Đông' }, A)).rejects.toThrow(
      new ConflictError('name', 'a zone named "Thôn Đông" already exists'),
    );
    await expect(registry.updateZone('thon-dong-2', { name: 'X' }, A)).rejects.toThrow(
      new NotFoundError('id', 'no zone with id thon-dong-2'),
    );
    // The other commune's "Thôn Đông" does not stand in the way.
    const renamed = await registry.updateZone('thon-dong-2', { name: ' Thôn Tây ', geocodes: ['137'] }, B);
    expect(renamed).toMatchObject({ name: 'Thôn Tây', geocodes: ['137'], deviceIds: ['b-1'] });
    await registry.updateZone('thon-dong-2', { name: 'Thôn Đông' }, PROVINCE);
  });

  it('refuses to delete a zone a live schedule targets, and deletes it otherwise', async () => {
    await target.db
      .insertInto('programmes')
      .values({ id: 'p1', title: 'Tin', created_at: 0, updated_at: 0, commune_id: 'xa-a' })
      .execute();
    const schedule = (id: string, status: string) => ({
      id,
      title: `Lịch ${id}`,
      programme_id: 'p1',
      rule: '{}',
      timezone: 'Asia/Ho_Chi_Minh',
      priority: 'normal',
      status,
      created_at: 0,
      updated_at: 0,
      commune_id: 'xa-a',
    });
    await target.db
      .insertInto('schedules')
      .values([schedule('s1', 'cancelled'), schedule('s2', 'approved')])
      .execute();
    await target.db
      .insertInto('schedule_targets')
      .values([
        { schedule_id: 's1', kind: 'zone', target_id: 'thon-tay' },
        { schedule_id: 's2', kind: 'zone', target_id: 'thon-tay' },
      ])
      .execute();
    await expect(registry.deleteZone('thon-tay', A)).rejects.toThrow(
      new ConflictError('id', 'the schedule "Lịch s2" still targets this zone'),
    );
    await target.db.updateTable('schedules').set({ status: 'cancelled' }).where('id', '=', 's2').execute();
    await expect(registry.deleteZone('thon-tay', B)).rejects.toThrow(NotFoundError);
    expect(await registry.deleteZone('thon-tay', A)).toMatchObject({ id: 'thon-tay', deviceIds: ['A-2'] });
    expect(await registry.zonesOf('A-2')).toEqual(['thon-dong']);
    await registry.createZone('Thôn Tây', 'xa-a', 'thon-tay', ['vi', 'hmn']);
    expect(await registry.setDeviceZones('A-2', ['thon-tay', 'thon-dong'], A)).toMatchObject({
      zones: ['thon-dong', 'thon-tay'],
    });
    await expect(registry.setDeviceZones('A-2', ['thon-dong-2'], A)).rejects.toThrow(
      new NotFoundError('zones', 'unknown zone(s): thon-dong-2'),
    );
    await expect(registry.setDeviceZones('b-1', [], A)).rejects.toThrow(
      new NotFoundError('id', 'no device with id b-1'),
    );
  });

  it('logs real online changes only, revokes within the scope, and marks everyone offline at a start', async () => {
    await registry.setOnline('a-1', true, '1.2.0');
    await registry.setOnline('a-1', true);
    await registry.setOnline('b-1', true);
    expect(await statusLog()).toEqual(['a-1:1', 'b-1:1']);
    expect(await registry.getDevice('a-1')).toMatchObject({ online: true, agentVersion: '1.2.0' });
    expect(deviceEvents.map((e) => `${e.id}:${e.online}`)).toEqual(['a-1:true', 'a-1:true', 'b-1:true']);
    // Another commune's loudspeaker is unknown to A.
    expect(await registry.revokeDevice('b-1', A)).toBe(false);
    expect(await registry.revokeDevice('a-3', A)).toBe(true);
    expect(await registry.getDevice('a-3')).toMatchObject({ revoked: true, online: false });
    expect(await registry.getDevice('b-1')).toMatchObject({ revoked: false, online: true });
    // a-3 was never online: its revocation logs nothing.
    expect(await statusLog()).toEqual(['a-1:1', 'b-1:1']);
    expect(await registry.verifySecret('a-1', secrets['a-1']!)).toBe(true);
    expect(await registry.verifySecret('a-1', secrets['b-1']!)).toBe(false);
    expect(await registry.verifySecret('a-3', secrets['a-3']!)).toBe(false);
    expect(await registry.verifySecret('zz', 'x')).toBe(false);
  });

  it('filters, searches, orders by bytes and pages the list, within a commune', async () => {
    await registry.setClockOffset('a-1', 1_500.4);
    expect(await registry.setClockOffset('A-2', -2_000)).toEqual({ previous: null });
    expect(await registry.setClockOffset('A-2', 40)).toEqual({ previous: -2_000 });
    await registry.setClockOffset('A-2', 2_500);
    expect(await registry.setClockOffset('zz', 1)).toBeNull();
    const page = async (scope = PROVINCE, query = {}) => {
      const { devices, total } = await registry.listDevicePage(scope, query);
      return { ids: ids(devices), total };
    };
    expect(await page()).toEqual({ ids: ['A-2', 'a-1', 'a-3', 'b-1'], total: 4 });
    expect(await page(A)).toEqual({ ids: ['A-2', 'a-1', 'a-3'], total: 3 });
    expect(await page(A, { status: 'online' })).toEqual({ ids: ['a-1'], total: 1 });
    expect(await page(A, { status: 'offline' })).toEqual({ ids: ['A-2'], total: 1 });
    expect(await page(PROVINCE, { status: 'revoked' })).toEqual({ ids: ['a-3'], total: 1 });
    // Offline, or the clock more than a second off (a-1: 1,500 ms, though online).
    expect(await page(PROVINCE, { status: 'problem' })).toEqual({ ids: ['A-2', 'a-1'], total: 2 });
    expect(await page(PROVINCE, { zone: 'thon-dong' })).toEqual({ ids: ['A-2', 'a-1'], total: 2 });
    expect(await page(B, { zone: 'thon-dong' })).toEqual({ ids: [], total: 0 });
    expect(await page(PROVINCE, { zone: NO_ZONE })).toEqual({ ids: ['a-3'], total: 1 });
    // Case and diacritics forgiven, every word, any order.
    expect(await page(PROVINCE, { q: 'dong CHO' })).toEqual({ ids: ['a-1', 'b-1'], total: 2 });
    expect(await page(A, { q: 'dong cho' })).toEqual({ ids: ['a-1'], total: 1 });
    expect(await page(PROVINCE, { q: 'a-' })).toEqual({ ids: ['A-2', 'a-1', 'a-3'], total: 3 });
    expect(await page(PROVINCE, { q: '  ' })).toEqual({ ids: ['A-2', 'a-1', 'a-3', 'b-1'], total: 4 });
    expect(await page(PROVINCE, { q: 'loa', limit: 2, offset: 2 })).toEqual({ ids: ['a-3', 'b-1'], total: 4 });
    expect(await page(PROVINCE, { limit: 2 })).toEqual({ ids: ['A-2', 'a-1'], total: 4 });
    expect(await page(PROVINCE, { limit: 2, offset: 1 })).toEqual({ ids: ['a-1', 'a-3'], total: 4 });
    expect(await page(PROVINCE, { limit: 10 })).toEqual({ ids: ['A-2', 'a-1', 'a-3', 'b-1'], total: 4 });
    expect(await page(PROVINCE, { offset: 3 })).toEqual({ ids: ['b-1'], total: 4 });
    expect(await page(A, { status: 'online', limit: 1, offset: 1 })).toEqual({ ids: [], total: 1 });
    const { devices } = await registry.listDevicePage(PROVINCE, { limit: 2 });
    expect(devices.map((d) => [d.id, d.zones, d.clockOffsetMs, d.clockWarning])).toEqual([
      ['A-2', ['thon-dong', 'thon-tay'], 2_500, true],
      ['a-1', ['thon-dong'], 1_500, true],
    ]);
    expect((await registry.listDevices(B)).map((d) => [d.id, d.zones])).toEqual([['b-1', ['thon-dong-2']]]);
  });

  it('finds the active devices of zones and of a commune', async () => {
    expect(await registry.devicesIn(['thon-dong', 'thon-tay'])).toEqual(['A-2', 'a-1']);
    expect(await registry.devicesIn(['thon-dong-2'], A)).toEqual([]);
    expect(await registry.devicesIn('all', A)).toEqual(['A-2', 'a-1']);
    expect(await registry.devicesIn('all')).toEqual(['A-2', 'a-1', 'b-1']);
    expect(await registry.devicesIn([])).toEqual([]);
    expect(await registry.zonesOf('b-1', A)).toEqual([]);
    expect(await registry.communeOfDevice('b-1')).toBe('xa-b');
    expect(await registry.communeOfDevice('zz')).toBeNull();
  });

  it('keeps each device’s audio format and plan version', async () => {
    expect(await registry.setAudioFormat('a-1', 'mp3')).toBe('ogg');
    expect(await registry.setAudioFormat('a-1', 'mp3')).toBe('mp3');
    expect(await registry.setAudioFormat('a-3', 'mp3')).toBe('ogg');
    expect(await registry.setAudioFormat('zz', 'mp3')).toBeNull();
    expect(await registry.audioFormatOf('a-1')).toBe('mp3');
    expect(await registry.audioFormatOf('zz')).toBe('ogg');
    // a-3 is revoked.
    expect(await registry.devicesAsking('mp3', ['b-1', 'a-3', 'a-1', 'A-2'])).toEqual(['a-1']);
    expect(await registry.devicesAsking('ogg', new Set(['b-1', 'a-1', 'A-2']))).toEqual(['A-2', 'b-1']);
    expect(await registry.nextPlanVersion('a-1')).toBe(1);
    expect(await registry.nextPlanVersion('a-1')).toBe(2);
    expect(await registry.nextPlanVersion('zz')).toBe(0);
    await registry.setSimulated('A-2', true);
    expect((await registry.getDevice('A-2'))?.simulated).toBe(true);
    // A zone's commands go framed once every active loudspeaker in it reads them.
    const plainZones = async () =>
      [...(await registry.zonesWithoutFramedCommands(['thon-dong', 'thon-tay', 'thon-dong-2', 'zz']))].sort();
    expect(await plainZones()).toEqual(['thon-dong', 'thon-dong-2', 'thon-tay']);
    await registry.setFramedCommands('A-2', true);
    expect(await plainZones()).toEqual(['thon-dong', 'thon-dong-2']);
    await registry.setFramedCommands('a-1', true);
    await registry.setFramedCommands('a-1', true);
    expect(await plainZones()).toEqual(['thon-dong-2']);
    expect(await registry.devicesReadingFramedCommands(['b-1', 'a-1', 'zz', 'A-2'])).toEqual(new Set(['a-1', 'A-2']));
    await registry.setFramedCommands('A-2', false);
    expect(await plainZones()).toEqual(['thon-dong', 'thon-dong-2', 'thon-tay']);
    expect(await registry.devicesReadingFramedCommands(['A-2'])).toEqual(new Set());
    await registry.updateDevice('A-2', { name: ' ', location: { latitude: 21.5, longitude: 105.25 } }, A);
    expect(await registry.getDevice('A-2')).toMatchObject({
      name: 'A-2',
      location: { latitude: 21.5, longitude: 105.25 },
    });
    await expect(registry.updateDevice('A-2', { location: null }, B)).rejects.toThrow(NotFoundError);
  });

  it('stores acks once, keeping the furthest stage and the first final one', async () => {
    await target.db
      .insertInto('media')
      .values({ sha256: SHA, format: 'ogg', bytes: 1, duration_ms: 1_000, created_at: 0 })
      .execute();
    const occurrence = (id: string, communeId: string) => ({
      id,
      title: `Tin ${id}`,
      priority: 'normal',
      start_at: 0,
      duration_ms: 1_000,
      sha256: SHA,
      created_at: 0,
      commune_id: communeId,
    });
    await target.db
      .insertInto('occurrences')
      .values([occurrence('o1', 'xa-a'), occurrence('o2', 'xa-a'), occurrence('o3', 'xa-a')])
      .execute();
    await target.db
      .insertInto('deliveries')
      .values([
        // Every row names every column: SQLite has no DEFAULT in a multi-row VALUES.
        { occurrence_id: 'o1', device_id: 'a-1', stage: 'pending', at: null },
        { occurrence_id: 'o2', device_id: 'a-1', stage: 'pending', at: null },
        { occurrence_id: 'o2', device_id: 'A-2', stage: 'finished', at: 5 },
        { occurrence_id: 'o3', device_id: 'a-1', stage: 'pending', at: null },
        { occurrence_id: 'o3', device_id: 'A-2', stage: 'pending', at: null },
      ])
      .execute();
    const ack = (stage: AckPayload['stage'], at: number, occurrenceId = 'o1'): AckPayload => ({
      v: 1,
      occurrenceId,
      stage,
      at,
    });
    expect(await acks.record('a-1', { ...ack('started', 30), earlier: [{ stage: 'received', at: 10 }] })).toBe(true);
    expect(await acks.record('a-1', ack('started', 30))).toBe(false);
    expect(await acks.record('a-1', ack('ready', 20, 'o1'))).toBe(true);
    expect(await acks.record('a-1', { ...ack('finished', 40), detail: 'ok' })).toBe(true);
    expect(await acks.record('a-1', ack('skipped', 50))).toBe(true);
    expect(
      await target.db
        .selectFrom('deliveries')
        .select(['stage', 'at', 'detail'])
        .where('occurrence_id', '=', 'o1')
        .executeTakeFirst(),
    ).toEqual({ stage: 'finished', at: 40, detail: 'ok' });
    expect(deliveryEvents.map((e) => e.stage)).toEqual(['received', 'started', 'finished']);
    const stored = await target.db
      .selectFrom('acks')
      .select(['stage'])
      .where('ref_id', '=', 'o1')
      .orderBy('at')
      .execute();
    expect(stored.map((r) => r.stage)).toEqual(['received', 'ready', 'started', 'finished', 'skipped']);

    // A message whose first stage was stored before (a re-send after a reconnect, with stages
    // more): only the new ones are stored, the delivery moves once to the furthest, each step told.
    deliveryEvents.length = 0;
    expect(await acks.record('a-1', ack('received', 11, 'o3'))).toBe(true);
    const resent = { stage: 'received', at: 11 } as const;
    expect(
      await acks.record('a-1', {
        ...ack('started', 31, 'o3'),
        earlier: [resent, { stage: 'ready', at: 21, detail: 'inline' }],
      }),
    ).toBe(true);
    // A stage named twice in one message: stored once, from its first mention; the last is not new.
    expect(await acks.record('a-1', { ...ack('finished', 41, 'o3'), earlier: [{ stage: 'finished', at: 40 }] })).toBe(
      false,
    );
    const storedOf = (occurrenceId: string) =>
      target.db
        .selectFrom('acks')
        .select(['stage', 'at', 'detail'])
        .where('ref_id', '=', occurrenceId)
        .where('device_id', '=', 'a-1')
        .orderBy('at')
        .execute();
    expect(await storedOf('o3')).toEqual([
      { stage: 'received', at: 11, detail: null },
      { stage: 'ready', at: 21, detail: 'inline' },
      { stage: 'started', at: 31, detail: null },
      { stage: 'finished', at: 40, detail: null },
    ]);
    expect(deliveryEvents.map((e) => `${e.stage}@${e.at}:${e.detail}`)).toEqual([
      `received@${new Date(11).toISOString()}:null`,
      `ready@${new Date(21).toISOString()}:inline`,
      `started@${new Date(31).toISOString()}:null`,
      `finished@${new Date(40).toISOString()}:null`,
    ]);
    expect(
      await target.db
        .selectFrom('deliveries')
        .select(['stage', 'at'])
        .where('occurrence_id', '=', 'o3')
        .where('device_id', '=', 'a-1')
        .executeTakeFirst(),
    ).toEqual({ stage: 'finished', at: 40 });
  });

  it('stops a broadcast once (compare-and-set), only within its commune', async () => {
    const bus = fakeBus();
    const replanned: string[][] = [];
    const controls = new DeviceControls({
      sql: target,
      bus: bus.bus,
      registry,
      broadcasts: {} as never,
      content: {} as never,
      replan: async (devices) => void replanned.push([...devices]),
      answerWaitMs: 0,
    });
    await expect(controls.stop('o2', 'tuan', B)).rejects.toThrow(
      new ControlError(404, 'id', 'no occurrence with id o2'),
    );
    // A-2 already finished o2: only a-1 is told to stop.
    expect(await controls.stop('o2', 'tuan', A)).toEqual({ devices: ['a-1'], communeId: 'xa-a' });
    expect(replanned).toEqual([['a-1']]);
    expect(bus.published.map((p) => p.topic)).toEqual([topics.deviceCmd('a-1')]);
    await expect(controls.stop('o2', 'lan', PROVINCE)).rejects.toThrow(
      /^this broadcast was already stopped by tuan at /,
    );
    // Two stops at once: one stores it, the other is told someone else did.
    const both = await Promise.allSettled([controls.stop('o3', 'tuan', A), controls.stop('o3', 'lan', A)]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ControlError);
    expect((refused.reason as ControlError).status).toBe(409);
    const stopped = await target.db.selectFrom('occurrences').select(['id', 'stopped_by']).orderBy('id').execute();
    expect(stopped.map((o) => o.id)).toEqual(['o1', 'o2', 'o3']);
    expect(stopped[1]!.stopped_by).toBe('tuan');
    expect(['tuan', 'lan']).toContain(stopped[2]!.stopped_by);
    // The command's answer is the device's final ack of it.
    await acks.record('a-1', { v: 1, commandId: 'c1', stage: 'finished', at: 60, detail: 'volume 40' });
    expect(
      await (controls as unknown as { answer(d: string, c: string): Promise<unknown> }).answer('a-1', 'c1'),
    ).toEqual({ commandId: 'c1', result: 'finished', detail: 'volume 40' });
  });

  it('stores the inbound messages of one turn in one transaction, in order, and tells after the commit', async () => {
    const bus = fakeBus();
    const onOnline: string[] = [];
    const formats: string[] = [];
    const inbound = wireDeviceInbound({
      sql: target,
      bus: bus.bus,
      registry,
      acks,
      logger: pino({ level: 'silent' }),
      onOnline: (id) => onOnline.push(id),
      onAudioFormat: (id, format, previous) => formats.push(`${id}:${previous}->${format}`),
    });
    const transactions = vi.spyOn(target.db, 'transaction');
    try {
      await registry.markAllOffline();
      transactions.mockClear();
      expect(await statusLog()).toEqual(['a-1:1', 'a-1:0', 'b-1:1', 'b-1:0']);
      deviceEvents.length = 0;
      deliveryEvents.length = 0;
      const status = { v: 1, state: 'online', agentVersion: '2.0.0', audioFormat: 'ogg', simulated: true };
      await Promise.all([
        bus.send('A-2', topics.deviceStatus('A-2'), status),
        bus.send('A-2', topics.deviceAck('A-2'), { v: 1, occurrenceId: 'o3', stage: 'received', at: 70 }),
        bus.send('A-2', topics.deviceAck('A-2'), { v: 1, occurrenceId: 'o3', stage: 'started', at: 71 }),
        bus.send('a-1', topics.deviceStatus('a-1'), { ...status, audioFormat: undefined, simulated: false }),
        bus.send('a-1', topics.deviceTelemetry('a-1'), {
          v: 1,
          at: 72,
          volume: 80,
          playing: null,
          cacheBytes: 0,
          uptimeS: 1,
          clockOffsetMs: 10,
        }),
        new Promise<void>((resolve) => {
          bus.disconnect('a-1');
          resolve();
        }),
      ]);
      await inbound.settled();
      expect(transactions).toHaveBeenCalledTimes(1);
      expect(await registry.getDevice('A-2')).toMatchObject({ online: true, agentVersion: '2.0.0', simulated: true });
      // a-1 came online, then its connection closed: offline, in that order.
      expect(await registry.getDevice('a-1')).toMatchObject({ online: false, clockOffsetMs: 10, simulated: false });
      expect((await statusLog()).slice(4)).toEqual(['A-2:1', 'a-1:1', 'a-1:0']);
      expect(deviceEvents.map((e) => `${e.id}:${e.online}`)).toEqual(['A-2:true', 'a-1:true', 'a-1:false']);
      expect(deliveryEvents.map((e) => `${e.deviceId}:${e.stage}`)).toEqual(['A-2:received', 'A-2:started']);
      expect(onOnline).toEqual(['A-2', 'a-1']);
      expect(formats).toEqual(['A-2:ogg->ogg', 'a-1:mp3->ogg']);
      expect(await registry.audioFormatOf('a-1')).toBe('ogg');

      // One message that cannot be stored costs only itself: the batch is stored again one by one.
      transactions.mockClear();
      const record = vi.spyOn(acks, 'record');
      record.mockImplementation(async (deviceId, ack, batch) => {
        if (deviceId === 'A-2') throw new Error('cannot store');
        return AckLedger.prototype.record.call(acks, deviceId, ack, batch);
      });
      const outcomes = await Promise.allSettled([
        bus.send('a-1', topics.deviceAck('a-1'), { v: 1, commandId: 'c2', stage: 'received', at: 80 }),
        bus.send('A-2', topics.deviceAck('A-2'), { v: 1, commandId: 'c2', stage: 'received', at: 81 }),
        bus.send('a-1', topics.deviceAck('a-1'), { v: 1, commandId: 'c2', stage: 'finished', at: 82 }),
      ]);
      record.mockRestore();
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(transactions).toHaveBeenCalledTimes(4);
      const c2 = await target.db
        .selectFrom('acks')
        .select(['device_id', 'stage'])
        .where('ref_id', '=', 'c2')
        .orderBy('at')
        .execute();
      expect(c2).toEqual([
        { device_id: 'a-1', stage: 'received' },
        { device_id: 'a-1', stage: 'finished' },
      ]);
      // Garbage is ignored, not stored: nothing to wait for.
      expect(await bus.send('a-1', topics.deviceAck('a-1'), { v: 1, stage: 'nonsense' })).toBeUndefined();
    } finally {
      transactions.mockRestore();
    }
  });
  it('applies a status only when it is newer in the broker’s order than the one stored', async () => {
    // Two instances took a device's "offline" (seq 41) and its "online" (seq 42) at once; the
    // "online" was stored first.
    await registry.setOnline('A-2', true, undefined, undefined, 42);
    await registry.setOnline('A-2', false, undefined, undefined, 41);
    expect(await registry.getDevice('A-2')).toMatchObject({ online: true });
    await registry.setOnline('A-2', false, undefined, undefined, 43);
    expect(await registry.getDevice('A-2')).toMatchObject({ online: false });
    // The stale one left no trace in the uptime log either.
    expect((await statusLog()).filter((l) => l.startsWith('A-2:'))).toEqual(['A-2:1', 'A-2:0']);
  });
});
