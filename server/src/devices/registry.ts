/**
 * Zones and devices: who exists, who belongs where, who is online. Both
 * belong to one commune, and a device's zones are all of its commune. Reads
 * and changes made for a user take their scope (tenancy/scope.ts): a row of
 * another commune is as unknown as one that does not exist. The server's own
 * work (MQTT, the planner) reads with PROVINCE, the default.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { DEFAULT_LANGUAGE } from '../public/items';
import { isValidId, type AudioFormat } from '@loaxa/protocol';
import type { Engine, SqlDb, Tables } from '../db/sql';
import type { EventHub } from '../events/hub';
import { hashToken, newToken, tokenMatches } from '../auth/passwords';
import { slugify, uniqueId } from './ids';
import { communeScope, PROVINCE, type Scope } from '../tenancy/scope';
import { deviceMatcher } from './search';

export interface Zone {
  id: string;
  name: string;
  /** Zones belong to one commune; their names are unique within it. */
  communeId: string;
  /** The languages a notice's versions play in here, in this order (language codes; see public/languages.ts). */
  languages: string[];
  /** Administrative codes a disaster alert's geocodes reach this zone by ("137" or "MA_DVHC=137"). */
  geocodes: string[];
  /** The zone's area drawn on the map, [lat, lon] points; null when none is drawn. */
  area: [number, number][] | null;
  deviceIds: string[];
}

export interface DeviceView {
  id: string;
  name: string;
  /** The commune it serves; all its zones are in this commune. */
  communeId: string;
  zones: string[];
  online: boolean;
  lastSeen: string | null;
  agentVersion: string | null;
  revoked: boolean;
  /** Server clock − device clock, ms, as the device last measured it; null before its first report. */
  clockOffsetMs: number | null;
  /** True when |clockOffsetMs| exceeds CLOCK_OFFSET_WARN_MS: scheduled plays will be off by that much. */
  clockWarning: boolean;
  /** Where the pole stands (WGS 84), when someone has entered it. */
  location: { latitude: number; longitude: number } | null;
  /** Its agent runs a null or simulated player: it reports plays but makes no sound. */
  simulated: boolean;
}

/** A device clock this far from the server's plays its schedule noticeably early or late. */
export const CLOCK_OFFSET_WARN_MS = 1_000;

/**
 * The status filter of the device list, as the console's table means it
 * (web/src/pages/devices/fleet.ts): a revoked loudspeaker is only `revoked`;
 * `problem` is an active one a technician should look at: offline, or its
 * clock more than CLOCK_OFFSET_WARN_MS off the server's.
 */
export const DEVICE_STATUSES = ['online', 'offline', 'revoked', 'problem'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];
/** The zone filter's value for "in no zone" (the console's NO_ZONE). */
export const NO_ZONE = '-';

export interface DeviceQuery {
  /** Every word must be in the name or the id (case and diacritics forgiven). */
  q?: string;
  status?: DeviceStatus;
  /** A zone id, or NO_ZONE. Another commune's zone matches nothing. */
  zone?: string;
  /** At most this many, from `offset`, in id order; all when absent. */
  limit?: number;
  offset?: number;
}

/** Fixed SQL per status: only these texts ever reach the query (never the input). */
const STATUS_SQL: Record<DeviceStatus, RawBuilder<boolean>> = {
  online: sql.raw('d.revoked_at IS NULL AND d.online = 1'),
  offline: sql.raw('d.revoked_at IS NULL AND d.online = 0'),
  revoked: sql.raw('d.revoked_at IS NOT NULL'),
  problem: sql.raw(`d.revoked_at IS NULL AND (d.online = 0 OR abs(d.clock_offset_ms) > ${CLOCK_OFFSET_WARN_MS})`),
};

interface DeviceRow {
  id: string;
  name: string;
  commune_id: string;
  online: number;
  last_seen: number | null;
  agent_version: string | null;
  revoked_at: number | null;
  clock_offset_ms: number | null;
  latitude: number | null;
  longitude: number | null;
  simulated: number;
}

const DEVICE_COLUMNS = [
  'd.id',
  'd.name',
  'd.commune_id',
  'd.online',
  'd.last_seen',
  'd.agent_version',
  'd.revoked_at',
  'd.clock_offset_ms',
  'd.latitude',
  'd.longitude',
  'd.simulated',
] as const;

interface ZoneRow {
  id: string;
  name: string;
  commune_id: string;
  languages: string;
  geocodes: string;
  area: string | null;
}

/** Ids per `IN (…)` list: far below both engines' limits on parameters, whatever a province holds. */
const IN_LIST_MAX = 500;

export class NotFoundError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `column` in SQLite's order of text (by bytes): PostgreSQL's default depends on the database's
 * collation, and lists (and pages of them) must come out the same on both.
 */
function byBytes(engine: Engine, column: string): RawBuilder<string> {
  return engine === 'postgres' ? sql`${sql.ref(column)} COLLATE "C"` : sql`${sql.ref(column)}`;
}

/** A UNIQUE or PRIMARY KEY refusal, on either engine (two requests raced past the same check). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** `ids` in pieces of at most IN_LIST_MAX, each read by `read`; the rows in piece order. */
async function inPieces<T>(ids: readonly string[], read: (piece: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let i = 0; i < ids.length; i += IN_LIST_MAX) rows.push(...(await read(ids.slice(i, i + IN_LIST_MAX))));
  return rows;
}

/**
 * A transaction someone else opened (the inbound batch, devices/inbound.ts): queries go to `tx`,
 * and what others are told (events) waits for its commit, so a rolled-back change tells nobody.
 */
export interface BatchTx {
  tx: Kysely<Tables>;
  afterCommit(effect: () => void): void;
}

/** Told of changes an external broker's credentials and ACL must follow (see broker/mosquitto.ts). */
export interface RegistryObserver {
  /** The only moment the plain secret is known: afterwards only its hash is stored. */
  deviceCreated?(deviceId: string, secret: string): void;
  deviceRevoked?(deviceId: string): void;
  zonesChanged?(deviceId: string): void;
}

export class DeviceRegistry {
  private readonly observers: RegistryObserver[] = [];

  constructor(
    private readonly sqlDb: SqlDb,
    private readonly hub: EventHub,
  ) {}

  observe(observer: RegistryObserver): void {
    this.observers.push(observer);
  }

  private bytes(column: string): RawBuilder<string> {
    return byBytes(this.sqlDb.engine, column);
  }

  // ---- zones -------------------------------------------------------------

  /** Creates a zone in a commune; its name must be new there (other communes have their "Thôn 1" too). */
  async createZone(
    name: string,
    communeId: string,
    id?: string,
    languages: string[] = [DEFAULT_LANGUAGE],
  ): Promise<Zone> {
    const { db } = this.sqlDb;
    const trimmed = name.trim();
    const nameTaken = async () =>
      !!(await db
        .selectFrom('zones')
        .select('id')
        .where('commune_id', '=', communeId)
        .where('name', '=', trimmed)
        .executeTakeFirst());
    const nameConflict = () => new ConflictError('name', `a zone named "${trimmed}" already exists`);
    if (await nameTaken()) throw nameConflict();
    // Ids stay unique across the province: MQTT topics and schedule targets name zones by id alone.
    let zoneId = id;
    if (zoneId === undefined) {
      const base = slugify(trimmed);
      // A slug is letters, digits and "-": nothing LIKE reads as a wildcard.
      const taken = new Set(
        (
          (await db
            .selectFrom('zones')
            .select('id')
            .where((eb) => eb.or([eb('id', '=', base), eb('id', 'like', `${base}-%`)]))
            .execute()) as { id: string }[]
        ).map((r) => r.id),
      );
      zoneId = uniqueId(base, (c) => taken.has(c));
    }
    if (!isValidId(zoneId)) throw new ConflictError('id', `invalid zone id ${JSON.stringify(zoneId)}`);
    const idConflict = () => new ConflictError('id', `a zone with id "${zoneId}" already exists`);
    if (await db.selectFrom('zones').select('id').where('id', '=', zoneId).executeTakeFirst()) throw idConflict();
    // Another request may have taken the name or the id since: the constraints decide, and say which.
    const inserted = await db
      .insertInto('zones')
      .values({
        id: zoneId,
        commune_id: communeId,
        name: trimmed,
        languages: JSON.stringify(languages),
        created_at: Date.now(),
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) throw (await nameTaken()) ? nameConflict() : idConflict();
    return { id: zoneId, name: trimmed, communeId, languages, geocodes: [], area: null, deviceIds: [] };
  }

  async listZones(scope: Scope = PROVINCE, db: Kysely<Tables> = this.sqlDb.db): Promise<Zone[]> {
    const zones = (await db
      .selectFrom('zones')
      .select(['id', 'name', 'commune_id', 'languages', 'geocodes', 'area'])
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .orderBy(this.bytes('name'))
      .orderBy(this.bytes('id'))
      .execute()) as ZoneRow[];
    const members = (await db
      .selectFrom('device_zones as dz')
      .innerJoin('zones as z', 'z.id', 'dz.zone_id')
      .select(['dz.zone_id', 'dz.device_id'])
      .$if(scope.communeId !== null, (q) => q.where('z.commune_id', '=', scope.communeId))
      .orderBy(this.bytes('dz.device_id'))
      .execute()) as { zone_id: string; device_id: string }[];
    const byZone = new Map<string, string[]>();
    for (const m of members) {
      const ids = byZone.get(m.zone_id);
      if (ids) ids.push(m.device_id);
      else byZone.set(m.zone_id, [m.device_id]);
    }
    return zones.map((z) => ({
      id: z.id,
      name: z.name,
      communeId: z.commune_id,
      languages: JSON.parse(z.languages) as string[],
      geocodes: JSON.parse(z.geocodes) as string[],
      area: z.area === null ? null : (JSON.parse(z.area) as [number, number][]),
      deviceIds: byZone.get(z.id) ?? [],
    }));
  }

  /** Returns the ids in `zoneIds` that do not exist in `scope` (another commune's zone counts as unknown). */
  async unknownZones(zoneIds: string[], scope: Scope = PROVINCE): Promise<string[]> {
    if (zoneIds.length === 0) return [];
    const known = new Set(
      (
        await inPieces(
          [...new Set(zoneIds)],
          async (piece) =>
            (await this.sqlDb.db
              .selectFrom('zones')
              .select('id')
              .where('id', 'in', piece)
              .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
              .execute()) as { id: string }[],
        )
      ).map((z) => z.id),
    );
    return zoneIds.filter((z) => !known.has(z));
  }

  /** The commune of a zone; null when there is no such zone. */
  async communeOfZone(zoneId: string): Promise<string | null> {
    const row = (await this.sqlDb.db
      .selectFrom('zones')
      .select('commune_id')
      .where('id', '=', zoneId)
      .executeTakeFirst()) as { commune_id: string } | undefined;
    return row?.commune_id ?? null;
  }

  /** Renames a zone of `scope` (its new name must be free in its commune) and/or sets its languages. */
  async updateZone(
    zoneId: string,
    change: { name?: string; languages?: string[]; geocodes?: string[]; area?: [number, number][] | null },
    scope: Scope,
  ): Promise<Zone> {
    const communeId = await this.zoneCommuneIn(zoneId, scope);
    const trimmed = change.name?.trim();
    const nameConflict = () => new ConflictError('name', `a zone named "${trimmed}" already exists`);
    try {
      return await this.sqlDb.db.transaction().execute(async (tx) => {
        if (trimmed !== undefined) {
          const taken = await tx
            .selectFrom('zones')
            .select('id')
            .where('commune_id', '=', communeId)
            .where('name', '=', trimmed)
            .where('id', '!=', zoneId)
            .executeTakeFirst();
          if (taken) throw nameConflict();
        }
        const set = {
          ...(trimmed !== undefined ? { name: trimmed } : {}),
          ...(change.languages !== undefined ? { languages: JSON.stringify(change.languages) } : {}),
          ...(change.geocodes !== undefined ? { geocodes: JSON.stringify(change.geocodes) } : {}),
          ...(change.area !== undefined ? { area: change.area === null ? null : JSON.stringify(change.area) } : {}),
        };
        if (Object.keys(set).length > 0) await tx.updateTable('zones').set(set).where('id', '=', zoneId).execute();
        return (await this.listZones(communeScope(communeId), tx)).find((z) => z.id === zoneId)!;
      });
    } catch (err) {
      // The same name given to another zone of the commune by a request that committed first.
      if (trimmed !== undefined && isUniqueViolation(err)) throw nameConflict();
      throw err;
    }
  }

  /** Each zone's languages, by zone id, for `zoneIds` (unknown ids are left out). */
  async zoneLanguages(zoneIds: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await inPieces(
      [...new Set(zoneIds)],
      async (piece) =>
        (await this.sqlDb.db
          .selectFrom('zones')
          .select(['id', 'name', 'languages'])
          .where('id', 'in', piece)
          .execute()) as { id: string; name: string; languages: string }[],
    );
    // In name (then id) order, by bytes, on both engines: callers iterate the map.
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    rows.sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
    return new Map(rows.map((r) => [r.id, JSON.parse(r.languages) as string[]]));
  }

  /** Deletes a zone of `scope`; its devices stay (in their other zones). Returns the zone as it was. */
  async deleteZone(zoneId: string, scope: Scope): Promise<Zone> {
    const communeId = await this.zoneCommuneIn(zoneId, scope);
    const zone = await this.sqlDb.db.transaction().execute(async (tx) => {
      const was = (await this.listZones(communeScope(communeId), tx)).find((z) => z.id === zoneId);
      if (!was) throw new NotFoundError('id', `no zone with id ${zoneId}`);
      const used = (await tx
        .selectFrom('schedule_targets as t')
        .innerJoin('schedules as s', 's.id', 't.schedule_id')
        .select('s.title')
        .where('t.kind', '=', 'zone')
        .where('t.target_id', '=', zoneId)
        .where('s.status', '!=', 'cancelled')
        .limit(1)
        .executeTakeFirst()) as { title: string } | undefined;
      if (used) throw new ConflictError('id', `the schedule "${used.title}" still targets this zone`);
      await tx.deleteFrom('zones').where('id', '=', zoneId).execute();
      return was;
    });
    for (const o of this.observers) for (const d of zone.deviceIds) o.zonesChanged?.(d);
    return zone;
  }

  /** Puts a device of `scope` in exactly these zones, all of its own commune. */
  async setDeviceZones(deviceId: string, zones: string[], scope: Scope): Promise<DeviceView> {
    const device = await this.getDevice(deviceId, scope);
    if (!device) throw new NotFoundError('id', `no device with id ${deviceId}`);
    await this.refuseForeignZones(zones, device.communeId);
    await this.sqlDb.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('device_zones').where('device_id', '=', deviceId).execute();
      await this.addToZones(tx, deviceId, zones);
    });
    for (const o of this.observers) o.zonesChanged?.(deviceId);
    return (await this.getDevice(deviceId))!;
  }

  private async addToZones(db: Kysely<Tables>, deviceId: string, zones: string[]): Promise<void> {
    const unique = [...new Set(zones)];
    if (unique.length === 0) return;
    await db
      .insertInto('device_zones')
      .values(unique.map((zoneId) => ({ device_id: deviceId, zone_id: zoneId })))
      .execute();
  }

  /** The commune of a zone visible in `scope`; a zone outside it is as unknown as one that does not exist. */
  private async zoneCommuneIn(zoneId: string, scope: Scope): Promise<string> {
    const row = (await this.sqlDb.db
      .selectFrom('zones')
      .select('commune_id')
      .where('id', '=', zoneId)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst()) as { commune_id: string } | undefined;
    if (!row) throw new NotFoundError('id', `no zone with id ${zoneId}`);
    return row.commune_id;
  }

  /** A device's zones are all in its commune: another commune's zone is refused as unknown. */
  private async refuseForeignZones(zones: string[], communeId: string): Promise<void> {
    const unknown = await this.unknownZones(zones, communeScope(communeId));
    if (unknown.length) throw new NotFoundError('zones', `unknown zone(s): ${unknown.join(', ')}`);
  }

  // ---- devices -----------------------------------------------------------

  /** Renames a device of `scope` and/or sets (or clears, with null) where it stands. */
  async updateDevice(
    deviceId: string,
    change: { name?: string; location?: { latitude: number; longitude: number } | null },
    scope: Scope,
  ): Promise<DeviceView> {
    if (!(await this.getDevice(deviceId, scope))) throw new NotFoundError('id', `no device with id ${deviceId}`);
    const set = {
      ...(change.name !== undefined ? { name: change.name.trim() || deviceId } : {}),
      ...(change.location !== undefined
        ? { latitude: change.location?.latitude ?? null, longitude: change.location?.longitude ?? null }
        : {}),
    };
    if (Object.keys(set).length > 0) {
      await this.sqlDb.db.updateTable('devices').set(set).where('id', '=', deviceId).execute();
    }
    return (await this.getDevice(deviceId))!;
  }

  /**
   * Creates a device in a commune with a fresh secret; the secret is returned
   * once and stored only hashed. Its zones must be of the same commune.
   */
  async createDevice(input: { id: string; name?: string; zones?: string[]; communeId: string }): Promise<{
    device: DeviceView;
    secret: string;
  }> {
    if (!isValidId(input.id)) {
      throw new ConflictError('id', 'id: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    const { db } = this.sqlDb;
    const exists = () => new ConflictError('id', `a device with id "${input.id}" already exists`);
    // Device ids are the MQTT usernames: unique across the province, whichever commune holds the id.
    if (await db.selectFrom('devices').select('id').where('id', '=', input.id).executeTakeFirst()) throw exists();
    const zones = input.zones ?? [];
    await this.refuseForeignZones(zones, input.communeId);
    const secret = newToken();
    await db.transaction().execute(async (tx) => {
      // A request for the same id that committed since the check above: refused like it.
      const inserted = await tx
        .insertInto('devices')
        .values({
          id: input.id,
          commune_id: input.communeId,
          name: input.name?.trim() || input.id,
          secret_hash: hashToken(secret),
          created_at: Date.now(),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw exists();
      await this.addToZones(tx, input.id, zones);
    });
    for (const o of this.observers) o.deviceCreated?.(input.id, secret);
    return { device: (await this.getDevice(input.id))!, secret };
  }

  /** A device visible in `scope`; null when there is none (or it is another commune's). */
  async getDevice(id: string, scope: Scope = PROVINCE): Promise<DeviceView | null> {
    const row = (await this.sqlDb.db
      .selectFrom('devices as d')
      .select(DEVICE_COLUMNS)
      .where('d.id', '=', id)
      .$if(scope.communeId !== null, (q) => q.where('d.commune_id', '=', scope.communeId))
      .executeTakeFirst()) as DeviceRow | undefined;
    return row ? this.view(row, await this.zonesOf(id)) : null;
  }

  /** The commune of a device; null when there is no such device. */
  async communeOfDevice(deviceId: string): Promise<string | null> {
    const row = (await this.sqlDb.db
      .selectFrom('devices')
      .select('commune_id')
      .where('id', '=', deviceId)
      .executeTakeFirst()) as { commune_id: string } | undefined;
    return row?.commune_id ?? null;
  }

  async listDevices(scope: Scope = PROVINCE): Promise<DeviceView[]> {
    return (await this.listDevicePage(scope)).devices;
  }

  /**
   * One page of the devices of `scope` that match `query`, in id order, and
   * how many match in all. Filtered and paged in SQL (a province holds
   * 15,000), the commune first, then one condition per filter given, so the
   * planner sees real conditions (the commune's index); every value is a
   * parameter. The text search runs here over what the filters leave (see
   * search.ts), and pages it.
   */
  async listDevicePage(scope: Scope, query: DeviceQuery = {}): Promise<{ devices: DeviceView[]; total: number }> {
    const { db } = this.sqlDb;
    const { status, zone } = query;
    const matches = query.q !== undefined ? deviceMatcher(query.q) : null;
    // The commune first, always when there is one: no other filter can widen it.
    const filtered = db
      .selectFrom('devices as d')
      .$if(scope.communeId !== null, (q) => q.where('d.commune_id', '=', scope.communeId))
      .$if(status !== undefined, (q) => q.where(STATUS_SQL[status!]))
      .$if(zone === NO_ZONE, (q) =>
        q.where(sql<boolean>`NOT EXISTS (SELECT 1 FROM device_zones dz WHERE dz.device_id = d.id)`),
      )
      .$if(zone !== undefined && zone !== NO_ZONE, (q) =>
        q.where(sql<boolean>`d.id IN (SELECT dz.device_id FROM device_zones dz WHERE dz.zone_id = ${zone})`),
      );
    const paged = query.limit !== undefined;
    const offset = query.offset ?? 0;
    const end = paged ? offset + query.limit! : undefined;
    let rows: DeviceRow[];
    let total: number;
    if (matches) {
      const all = (await filtered.select(DEVICE_COLUMNS).orderBy(this.bytes('d.id')).execute()) as DeviceRow[];
      const found = all.filter((r) => matches(r.name, r.id));
      rows = found.slice(offset, end);
      total = found.length;
    } else if (paged) {
      // OFFSET only with a LIMIT: SQLite has no OFFSET of its own.
      rows = (await filtered
        .select(DEVICE_COLUMNS)
        .orderBy(this.bytes('d.id'))
        .limit(query.limit!)
        .$if(offset > 0, (q) => q.offset(offset))
        .execute()) as DeviceRow[];
      // A short first page is all there is; otherwise count (the list's total before paging).
      total =
        offset === 0 && rows.length < query.limit!
          ? rows.length
          : ((await filtered.select(sql<number>`COUNT(*)`.as('n')).executeTakeFirstOrThrow()) as { n: number }).n;
    } else {
      const all = (await filtered.select(DEVICE_COLUMNS).orderBy(this.bytes('d.id')).execute()) as DeviceRow[];
      rows = all.slice(offset);
      total = all.length;
    }
    if (rows.length === 0) return { devices: [], total };
    const everyOne = status === undefined && zone === undefined && !matches && !paged && offset === 0;
    const members = everyOne
      ? // Every device of the scope: its zones in one pass, as listDevices.
        ((await db
          .selectFrom('device_zones as dz')
          .innerJoin('devices as d', 'd.id', 'dz.device_id')
          .select(['dz.device_id', 'dz.zone_id'])
          .$if(scope.communeId !== null, (q) => q.where('d.commune_id', '=', scope.communeId))
          .orderBy(this.bytes('dz.zone_id'))
          .execute()) as { device_id: string; zone_id: string }[])
      : await this.zonesOfDevices(rows.map((r) => r.id));
    const byDevice = new Map<string, string[]>();
    for (const m of members) {
      const zones = byDevice.get(m.device_id);
      if (zones) zones.push(m.zone_id);
      else byDevice.set(m.device_id, [m.zone_id]);
    }
    return { devices: rows.map((r) => this.view(r, byDevice.get(r.id) ?? [])), total };
  }

  /** The zone memberships of `deviceIds`, each device's in zone order. */
  private async zonesOfDevices(deviceIds: string[]): Promise<{ device_id: string; zone_id: string }[]> {
    return inPieces(
      deviceIds,
      async (piece) =>
        (await this.sqlDb.db
          .selectFrom('device_zones')
          .select(['device_id', 'zone_id'])
          .where('device_id', 'in', piece)
          .orderBy(this.bytes('zone_id'))
          .execute()) as { device_id: string; zone_id: string }[],
    );
  }

  /** The zones of a device visible in `scope` (none for another commune's device). */
  async zonesOf(deviceId: string, scope: Scope = PROVINCE): Promise<string[]> {
    const rows = (await this.sqlDb.db
      .selectFrom('device_zones as dz')
      .$if(scope.communeId !== null, (q) =>
        q.innerJoin('devices as d', 'd.id', 'dz.device_id').where('d.commune_id', '=', scope.communeId),
      )
      .select('dz.zone_id')
      .where('dz.device_id', '=', deviceId)
      .orderBy(this.bytes('dz.zone_id'))
      .execute()) as { zone_id: string }[];
    return rows.map((r) => r.zone_id);
  }

  /** Active (not revoked) devices of `scope` in any of the zones, or all active devices of `scope`. */
  async devicesIn(zones: string[] | 'all', scope: Scope = PROVINCE): Promise<string[]> {
    if (zones !== 'all' && zones.length === 0) return [];
    const active = () =>
      this.sqlDb.db
        .selectFrom('devices as d')
        .select('d.id')
        .where('d.revoked_at', 'is', null)
        .$if(scope.communeId !== null, (q) => q.where('d.commune_id', '=', scope.communeId))
        .orderBy(this.bytes('d.id'));
    if (zones === 'all') return ((await active().execute()) as { id: string }[]).map((r) => r.id);
    const ids = await inPieces(
      [...new Set(zones)],
      async (piece) =>
        (await active()
          .where((eb) =>
            eb(
              'd.id',
              'in',
              eb.selectFrom('device_zones as dz').select('dz.device_id').where('dz.zone_id', 'in', piece),
            ),
          )
          .execute()) as { id: string }[],
    );
    if (zones.length <= IN_LIST_MAX) return ids.map((r) => r.id);
    // Zones read in pieces: a device in zones of two pieces came twice, and each piece in its own order.
    return [...new Set(ids.map((r) => r.id))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** True when the device exists, is not revoked and the secret is its own. */
  async verifySecret(deviceId: string, secret: string): Promise<boolean> {
    const row = (
      await sql<{ secret_hash: string; revoked_at: number | null }>`
      SELECT secret_hash, revoked_at FROM devices WHERE id = ${deviceId}`.execute(this.sqlDb.db)
    ).rows[0];
    return !!row && row.revoked_at === null && tokenMatches(secret, row.secret_hash);
  }

  /** Revokes a device's credentials for good; returns false when there is no such device in `scope`. */
  async revokeDevice(deviceId: string, scope: Scope = PROVINCE): Promise<boolean> {
    const now = Date.now();
    const inScope = scope.communeId === null ? sql`` : sql` AND commune_id = ${scope.communeId}`;
    const changes = await this.sqlDb.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO device_status (device_id, online, at) SELECT id, 0, CAST(${now} AS BIGINT) FROM devices
        WHERE id = ${deviceId} AND online = 1${inScope}`.execute(tx);
      const result = await sql`UPDATE devices SET revoked_at = COALESCE(revoked_at, CAST(${now} AS BIGINT)), online = 0
        WHERE id = ${deviceId}${inScope}`.execute(tx);
      return Number(result.numAffectedRows ?? 0);
    });
    if (changes > 0) {
      this.hub.emit('device', {
        id: deviceId,
        online: false,
        lastSeen: (await this.getDevice(deviceId))?.lastSeen ?? null,
      });
      for (const o of this.observers) o.deviceRevoked?.(deviceId);
    }
    return changes > 0;
  }

  /**
   * Sets the online flag and logs the change in device_status when it is one
   * (the uptime reports read that log). In `batch`, the inbound messages'
   * transaction, and told once it commits; otherwise in a transaction of its own.
   */
  async setOnline(
    deviceId: string,
    online: boolean,
    agentVersion?: string,
    batch?: BatchTx,
    /** The status message's place in the broker's order (InboundMeta.seq): an older one is not applied. */
    seq?: number,
  ): Promise<void> {
    const now = Date.now();
    const flag = online ? 1 : 0;
    const newer = seq === undefined ? sql`` : sql` AND (status_seq IS NULL OR status_seq < CAST(${seq} AS BIGINT))`;
    // Plain templates: after a power cut thousands of devices connect within seconds and each runs these.
    const apply = async (tx: Kysely<Tables>) => {
      await sql`INSERT INTO device_status (device_id, online, at)
        SELECT id, CAST(${flag} AS BIGINT), CAST(${now} AS BIGINT) FROM devices
        WHERE id = ${deviceId} AND online != ${flag}${newer}`.execute(tx);
      const result = await sql`UPDATE devices SET online = ${flag}, last_seen = ${now},
        agent_version = COALESCE(CAST(${agentVersion ?? null} AS TEXT), agent_version),
        status_seq = COALESCE(CAST(${seq ?? null} AS BIGINT), status_seq)
        WHERE id = ${deviceId}${newer}`.execute(tx);
      return Number(result.numAffectedRows ?? 0) > 0;
    };
    const tell = () => this.hub.emit('device', { id: deviceId, online, lastSeen: iso(now) });
    if (batch) {
      if (await apply(batch.tx)) batch.afterCommit(tell);
      return;
    }
    if (await this.sqlDb.db.transaction().execute(apply)) tell();
  }

  /**
   * Records the clock offset a device reported. Returns the previous value, so
   * the caller can warn once when a device crosses the threshold, not every 30 s.
   */
  async setClockOffset(
    deviceId: string,
    offsetMs: number,
    db: Kysely<Tables> = this.sqlDb.db,
  ): Promise<{ previous: number | null } | null> {
    const row = (
      await sql<{ clock_offset_ms: number | null }>`SELECT clock_offset_ms FROM devices WHERE id = ${deviceId}`.execute(
        db,
      )
    ).rows[0];
    if (!row) return null;
    await sql`UPDATE devices SET clock_offset_ms = ${Math.round(offsetMs)}, clock_offset_at = ${Date.now()}
      WHERE id = ${deviceId}`.execute(db);
    return { previous: row.clock_offset_ms };
  }

  /** Records whether the device's agent plays real sound, as its "online" status said. */
  async setSimulated(deviceId: string, simulated: boolean, db: Kysely<Tables> = this.sqlDb.db): Promise<void> {
    const flag = simulated ? 1 : 0;
    await sql`UPDATE devices SET simulated = ${flag} WHERE id = ${deviceId} AND simulated != ${flag}`.execute(db);
  }

  /** Records whether the device's agent reads framed play-now commands (its "online" status says). */
  async setFramedCommands(deviceId: string, reads: boolean, db: Kysely<Tables> = this.sqlDb.db): Promise<void> {
    const flag = reads ? 1 : 0;
    await sql`UPDATE devices SET framed_commands = ${flag} WHERE id = ${deviceId} AND framed_commands != ${flag}`.execute(
      db,
    );
  }

  /**
   * Of `zoneIds`, those with a device (not revoked) whose agent has not said it reads framed
   * play-now commands: a command on their topic must be plain JSON.
   */
  async zonesWithoutFramedCommands(zoneIds: readonly string[]): Promise<Set<string>> {
    const rows = await inPieces(
      [...new Set(zoneIds)],
      async (piece) =>
        (await this.sqlDb.db
          .selectFrom('device_zones as dz')
          .innerJoin('devices as d', 'd.id', 'dz.device_id')
          .select('dz.zone_id')
          .distinct()
          .where('dz.zone_id', 'in', piece)
          .where('d.revoked_at', 'is', null)
          .where('d.framed_commands', '=', 0)
          .execute()) as { zone_id: string }[],
    );
    return new Set(rows.map((r) => r.zone_id));
  }

  /** Of `deviceIds`, those whose agent said it reads framed play-now commands. */
  async devicesReadingFramedCommands(deviceIds: readonly string[]): Promise<Set<string>> {
    const rows = await inPieces(
      [...new Set(deviceIds)],
      async (piece) =>
        (await this.sqlDb.db
          .selectFrom('devices')
          .select('id')
          .where('id', 'in', piece)
          .where('framed_commands', '=', 1)
          .execute()) as { id: string }[],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Records the format a device's "online" status asked for; returns the one it had (null: no such device). */
  async setAudioFormat(
    deviceId: string,
    format: AudioFormat,
    db: Kysely<Tables> = this.sqlDb.db,
  ): Promise<AudioFormat | null> {
    const previous = await this.storedAudioFormat(deviceId, db);
    if (previous !== null && previous !== format) {
      await sql`UPDATE devices SET audio_format = ${format} WHERE id = ${deviceId}`.execute(db);
    }
    return previous;
  }

  async audioFormatOf(deviceId: string): Promise<AudioFormat> {
    return (await this.storedAudioFormat(deviceId, this.sqlDb.db)) ?? 'ogg';
  }

  private async storedAudioFormat(deviceId: string, db: Kysely<Tables>): Promise<AudioFormat | null> {
    const row = (
      await sql<{ audio_format: AudioFormat }>`SELECT audio_format FROM devices WHERE id = ${deviceId}`.execute(db)
    ).rows[0];
    return row?.audio_format ?? null;
  }

  /** Those of `deviceIds`, not revoked, that asked for `format`, in id order. */
  async devicesAsking(format: AudioFormat, deviceIds: Iterable<string>): Promise<string[]> {
    const wanted = [...new Set(deviceIds)];
    if (wanted.length === 0) return [];
    const rows = await inPieces(
      wanted,
      async (piece) =>
        (await this.sqlDb.db
          .selectFrom('devices')
          .select('id')
          .where('audio_format', '=', format)
          .where('revoked_at', 'is', null)
          .where('id', 'in', piece)
          .orderBy(this.bytes('id'))
          .execute()) as { id: string }[],
    );
    const ids = rows.map((r) => r.id);
    return wanted.length <= IN_LIST_MAX ? ids : ids.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  async touch(deviceId: string, db: Kysely<Tables> = this.sqlDb.db): Promise<void> {
    await sql`UPDATE devices SET last_seen = ${Date.now()} WHERE id = ${deviceId}`.execute(db);
  }

  /**
   * On server start nobody is connected yet, whatever the database remembers.
   * A device still marked online went quiet with the server: the status log
   * records it offline from the last time it was heard.
   */
  async markAllOffline(): Promise<void> {
    const now = Date.now();
    await this.sqlDb.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO device_status (device_id, online, at)
        SELECT id, 0, COALESCE(last_seen, CAST(${now} AS BIGINT)) FROM devices WHERE online = 1`.execute(tx);
      await sql`UPDATE devices SET online = 0 WHERE online = 1`.execute(tx);
    });
  }

  async nextPlanVersion(deviceId: string): Promise<number> {
    const row = (
      await sql<{ plan_version: number }>`UPDATE devices SET plan_version = plan_version + 1 WHERE id = ${deviceId}
        RETURNING plan_version`.execute(this.sqlDb.db)
    ).rows[0];
    return row?.plan_version ?? 0;
  }

  private view(row: DeviceRow, zones: string[]): DeviceView {
    return {
      id: row.id,
      name: row.name,
      communeId: row.commune_id,
      zones,
      online: row.online === 1,
      lastSeen: iso(row.last_seen),
      agentVersion: row.agent_version,
      revoked: row.revoked_at !== null,
      clockOffsetMs: row.clock_offset_ms,
      clockWarning: row.clock_offset_ms !== null && Math.abs(row.clock_offset_ms) > CLOCK_OFFSET_WARN_MS,
      location:
        row.latitude !== null && row.longitude !== null ? { latitude: row.latitude, longitude: row.longitude } : null,
      simulated: row.simulated === 1,
    };
  }
}
