/**
 * Zones and devices: who exists, who belongs where, who is online. Both
 * belong to one commune, and a device's zones are all of its commune. Reads
 * and changes made for a user take their scope (tenancy/scope.ts): a row of
 * another commune is as unknown as one that does not exist. The server's own
 * work (MQTT, the planner) reads with PROVINCE, the default.
 */
import { DEFAULT_LANGUAGE } from '../public/items';
import { isValidId, type AudioFormat } from '@loaxa/protocol';
import type { Db } from '../db/database';
import type { EventHub } from '../events/hub';
import { hashToken, newToken, tokenMatches } from '../auth/passwords';
import { slugify, uniqueId } from './ids';
import { communeScope, inScope, PROVINCE, type Scope } from '../tenancy/scope';
import { DEVICE_MATCH_FUNCTION, registerDeviceMatch, searchWords } from './search';

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
const STATUS_SQL: Record<DeviceStatus, string> = {
  online: 'd.revoked_at IS NULL AND d.online = 1',
  offline: 'd.revoked_at IS NULL AND d.online = 0',
  revoked: 'd.revoked_at IS NOT NULL',
  problem: `d.revoked_at IS NULL AND (d.online = 0 OR abs(d.clock_offset_ms) > ${CLOCK_OFFSET_WARN_MS})`,
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

const DEVICE_COLUMNS =
  'id, name, commune_id, online, last_seen, agent_version, revoked_at, clock_offset_ms, latitude, longitude, simulated';

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

/** Told of changes an external broker's credentials and ACL must follow (see broker/mosquitto.ts). */
export interface RegistryObserver {
  /** The only moment the plain secret is known: afterwards only its hash is stored. */
  deviceCreated?(deviceId: string, secret: string): void;
  deviceRevoked?(deviceId: string): void;
  zonesChanged?(deviceId: string): void;
}

export class DeviceRegistry {
  private readonly observers: RegistryObserver[] = [];

  observe(observer: RegistryObserver): void {
    this.observers.push(observer);
  }

  /**
   * Sets the online flag and logs the change in device_status when it is one
   * (the uptime reports read that log). Prepared once: after a power cut
   * thousands of devices connect within seconds and each runs this.
   */
  private readonly applyOnline: (deviceId: string, online: 0 | 1, now: number, agentVersion: string | null) => number;

  constructor(
    private readonly db: Db,
    private readonly hub: EventHub,
  ) {
    registerDeviceMatch(db);
    const logChange = db.prepare(
      'INSERT INTO device_status (device_id, online, at) SELECT id, ?, ? FROM devices WHERE id = ? AND online != ?',
    );
    const update = db.prepare(
      'UPDATE devices SET online = ?, last_seen = ?, agent_version = COALESCE(?, agent_version) WHERE id = ?',
    );
    this.applyOnline = db.transaction((deviceId: string, online: 0 | 1, now: number, agentVersion: string | null) => {
      logChange.run(online, now, deviceId, online);
      return update.run(online, now, agentVersion, deviceId).changes;
    });
  }

  // ---- zones -------------------------------------------------------------

  /** Creates a zone in a commune; its name must be new there (other communes have their "Thôn 1" too). */
  createZone(name: string, communeId: string, id?: string, languages: string[] = [DEFAULT_LANGUAGE]): Zone {
    const trimmed = name.trim();
    if (this.db.prepare('SELECT 1 FROM zones WHERE commune_id = ? AND name = ?').get(communeId, trimmed)) {
      throw new ConflictError('name', `a zone named "${trimmed}" already exists`);
    }
    // Ids stay unique across the province: MQTT topics and schedule targets name zones by id alone.
    const zoneId =
      id ?? uniqueId(slugify(trimmed), (c) => !!this.db.prepare('SELECT 1 FROM zones WHERE id = ?').get(c));
    if (!isValidId(zoneId)) throw new ConflictError('id', `invalid zone id ${JSON.stringify(zoneId)}`);
    if (this.db.prepare('SELECT 1 FROM zones WHERE id = ?').get(zoneId)) {
      throw new ConflictError('id', `a zone with id "${zoneId}" already exists`);
    }
    this.db
      .prepare('INSERT INTO zones (id, commune_id, name, languages, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(zoneId, communeId, trimmed, JSON.stringify(languages), Date.now());
    return { id: zoneId, name: trimmed, communeId, languages, geocodes: [], area: null, deviceIds: [] };
  }

  listZones(scope: Scope = PROVINCE): Zone[] {
    const zones = this.db
      .prepare(
        `SELECT id, name, commune_id, languages, geocodes, area FROM zones WHERE (? IS NULL OR commune_id = ?)
         ORDER BY name, id`,
      )
      .all(...inScope(scope)) as {
      id: string;
      name: string;
      commune_id: string;
      languages: string;
      geocodes: string;
      area: string | null;
    }[];
    const members = this.db
      .prepare(
        `SELECT dz.zone_id, dz.device_id FROM device_zones dz JOIN zones z ON z.id = dz.zone_id
         WHERE (? IS NULL OR z.commune_id = ?) ORDER BY dz.device_id`,
      )
      .all(...inScope(scope)) as { zone_id: string; device_id: string }[];
    const byZone = new Map<string, string[]>();
    for (const m of members) byZone.set(m.zone_id, [...(byZone.get(m.zone_id) ?? []), m.device_id]);
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
  unknownZones(zoneIds: string[], scope: Scope = PROVINCE): string[] {
    const known = new Set(
      (
        this.db.prepare('SELECT id FROM zones WHERE (? IS NULL OR commune_id = ?)').all(...inScope(scope)) as {
          id: string;
        }[]
      ).map((z) => z.id),
    );
    return zoneIds.filter((z) => !known.has(z));
  }

  /** The commune of a zone; null when there is no such zone. */
  communeOfZone(zoneId: string): string | null {
    const row = this.db.prepare('SELECT commune_id FROM zones WHERE id = ?').get(zoneId) as
      { commune_id: string } | undefined;
    return row?.commune_id ?? null;
  }

  /** Renames a zone of `scope` (its new name must be free in its commune) and/or sets its languages. */
  updateZone(
    zoneId: string,
    change: { name?: string; languages?: string[]; geocodes?: string[]; area?: [number, number][] | null },
    scope: Scope,
  ): Zone {
    const communeId = this.zoneCommuneIn(zoneId, scope);
    if (change.name !== undefined) {
      const trimmed = change.name.trim();
      if (
        this.db
          .prepare('SELECT 1 FROM zones WHERE commune_id = ? AND name = ? AND id != ?')
          .get(communeId, trimmed, zoneId)
      ) {
        throw new ConflictError('name', `a zone named "${trimmed}" already exists`);
      }
      this.db.prepare('UPDATE zones SET name = ? WHERE id = ?').run(trimmed, zoneId);
    }
    if (change.languages !== undefined) {
      this.db.prepare('UPDATE zones SET languages = ? WHERE id = ?').run(JSON.stringify(change.languages), zoneId);
    }
    if (change.geocodes !== undefined) {
      this.db.prepare('UPDATE zones SET geocodes = ? WHERE id = ?').run(JSON.stringify(change.geocodes), zoneId);
    }
    if (change.area !== undefined) {
      this.db
        .prepare('UPDATE zones SET area = ? WHERE id = ?')
        .run(change.area === null ? null : JSON.stringify(change.area), zoneId);
    }
    return this.listZones(communeScope(communeId)).find((z) => z.id === zoneId)!;
  }

  /** Each zone's languages, by zone id, for `zoneIds` (unknown ids are left out). */
  zoneLanguages(zoneIds: readonly string[]): Map<string, string[]> {
    const rows = this.db
      .prepare('SELECT id, languages FROM zones WHERE id IN (SELECT value FROM json_each(?)) ORDER BY name, id')
      .all(JSON.stringify(zoneIds)) as { id: string; languages: string }[];
    return new Map(rows.map((r) => [r.id, JSON.parse(r.languages) as string[]]));
  }

  /** Deletes a zone of `scope`; its devices stay (in their other zones). Returns the zone as it was. */
  deleteZone(zoneId: string, scope: Scope): Zone {
    const communeId = this.zoneCommuneIn(zoneId, scope);
    const zone = this.listZones(communeScope(communeId)).find((z) => z.id === zoneId)!;
    const used = this.db
      .prepare(
        `SELECT s.title FROM schedule_targets t JOIN schedules s ON s.id = t.schedule_id
         WHERE t.kind = 'zone' AND t.target_id = ? AND s.status != 'cancelled' LIMIT 1`,
      )
      .get(zoneId) as { title: string } | undefined;
    if (used) throw new ConflictError('id', `the schedule "${used.title}" still targets this zone`);
    this.db.prepare('DELETE FROM zones WHERE id = ?').run(zoneId);
    for (const o of this.observers) for (const d of zone.deviceIds) o.zonesChanged?.(d);
    return zone;
  }

  /** Puts a device of `scope` in exactly these zones, all of its own commune. */
  setDeviceZones(deviceId: string, zones: string[], scope: Scope): DeviceView {
    const device = this.getDevice(deviceId, scope);
    if (!device) throw new NotFoundError('id', `no device with id ${deviceId}`);
    this.refuseForeignZones(zones, device.communeId);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM device_zones WHERE device_id = ?').run(deviceId);
      const add = this.db.prepare('INSERT INTO device_zones (device_id, zone_id) VALUES (?, ?)');
      for (const z of new Set(zones)) add.run(deviceId, z);
    })();
    for (const o of this.observers) o.zonesChanged?.(deviceId);
    return this.getDevice(deviceId)!;
  }

  /** The commune of a zone visible in `scope`; a zone outside it is as unknown as one that does not exist. */
  private zoneCommuneIn(zoneId: string, scope: Scope): string {
    const row = this.db
      .prepare('SELECT commune_id FROM zones WHERE id = ? AND (? IS NULL OR commune_id = ?)')
      .get(zoneId, ...inScope(scope)) as { commune_id: string } | undefined;
    if (!row) throw new NotFoundError('id', `no zone with id ${zoneId}`);
    return row.commune_id;
  }

  /** A device's zones are all in its commune: another commune's zone is refused as unknown. */
  private refuseForeignZones(zones: string[], communeId: string): void {
    const unknown = this.unknownZones(zones, communeScope(communeId));
    if (unknown.length) throw new NotFoundError('zones', `unknown zone(s): ${unknown.join(', ')}`);
  }

  // ---- devices -----------------------------------------------------------

  /** Renames a device of `scope` and/or sets (or clears, with null) where it stands. */
  updateDevice(
    deviceId: string,
    change: { name?: string; location?: { latitude: number; longitude: number } | null },
    scope: Scope,
  ): DeviceView {
    if (!this.getDevice(deviceId, scope)) throw new NotFoundError('id', `no device with id ${deviceId}`);
    if (change.name !== undefined) {
      this.db.prepare('UPDATE devices SET name = ? WHERE id = ?').run(change.name.trim() || deviceId, deviceId);
    }
    if (change.location !== undefined) {
      this.db
        .prepare('UPDATE devices SET latitude = ?, longitude = ? WHERE id = ?')
        .run(change.location?.latitude ?? null, change.location?.longitude ?? null, deviceId);
    }
    return this.getDevice(deviceId)!;
  }

  /**
   * Creates a device in a commune with a fresh secret; the secret is returned
   * once and stored only hashed. Its zones must be of the same commune.
   */
  createDevice(input: { id: string; name?: string; zones?: string[]; communeId: string }): {
    device: DeviceView;
    secret: string;
  } {
    if (!isValidId(input.id)) {
      throw new ConflictError('id', 'id: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    // Device ids are the MQTT usernames: unique across the province, whichever commune holds the id.
    if (this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(input.id)) {
      throw new ConflictError('id', `a device with id "${input.id}" already exists`);
    }
    const zones = input.zones ?? [];
    this.refuseForeignZones(zones, input.communeId);
    const secret = newToken();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO devices (id, commune_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(input.id, input.communeId, input.name?.trim() || input.id, hashToken(secret), Date.now());
      const add = this.db.prepare('INSERT INTO device_zones (device_id, zone_id) VALUES (?, ?)');
      for (const z of new Set(zones)) add.run(input.id, z);
    })();
    for (const o of this.observers) o.deviceCreated?.(input.id, secret);
    return { device: this.getDevice(input.id)!, secret };
  }

  /** A device visible in `scope`; null when there is none (or it is another commune's). */
  getDevice(id: string, scope: Scope = PROVINCE): DeviceView | null {
    const row = this.db
      .prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ? AND (? IS NULL OR commune_id = ?)`)
      .get(id, ...inScope(scope)) as DeviceRow | undefined;
    return row ? this.view(row, this.zonesOf(id)) : null;
  }

  /** The commune of a device; null when there is no such device. */
  communeOfDevice(deviceId: string): string | null {
    const row = this.db.prepare('SELECT commune_id FROM devices WHERE id = ?').get(deviceId) as
      { commune_id: string } | undefined;
    return row?.commune_id ?? null;
  }

  listDevices(scope: Scope = PROVINCE): DeviceView[] {
    return this.listDevicePage(scope).devices;
  }

  /**
   * One page of the devices of `scope` that match `query`, in id order, and
   * how many match in all. Filtered and paged in SQL: a province holds 15,000.
   * The statement is assembled from fixed fragments (one per filter given), so
   * the planner sees real conditions (the commune's index) and each of the few
   * shapes stays prepared; every value is a parameter.
   */
  listDevicePage(scope: Scope, query: DeviceQuery = {}): { devices: DeviceView[]; total: number } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    // The commune first, always when there is one: no other filter can widen it.
    if (scope.communeId !== null) {
      where.push('d.commune_id = ?');
      params.push(scope.communeId);
    }
    if (query.status) where.push(`(${STATUS_SQL[query.status]})`);
    if (query.zone === NO_ZONE) {
      where.push('NOT EXISTS (SELECT 1 FROM device_zones dz WHERE dz.device_id = d.id)');
    } else if (query.zone) {
      where.push('d.id IN (SELECT dz.device_id FROM device_zones dz WHERE dz.zone_id = ?)');
      params.push(query.zone);
    }
    if (query.q !== undefined && searchWords(query.q).length > 0) {
      where.push(`${DEVICE_MATCH_FUNCTION}(d.name, d.id, ?) = 1`);
      params.push(query.q);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const paged = query.limit !== undefined;
    const offset = query.offset ?? 0;
    const rows = this.db
      .prepare(`SELECT ${DEVICE_COLUMNS} FROM devices d ${whereSql} ORDER BY d.id LIMIT ? OFFSET ?`)
      .all(...params, paged ? query.limit! : -1, offset) as DeviceRow[];
    // A short first page is all there is; otherwise count (the list's total before paging).
    const total =
      (!paged && offset === 0) || (offset === 0 && rows.length < query.limit!)
        ? rows.length
        : (this.db.prepare(`SELECT COUNT(*) AS n FROM devices d ${whereSql}`).get(...params) as { n: number }).n;
    if (rows.length === 0) return { devices: [], total };
    const members =
      where.length === (scope.communeId !== null ? 1 : 0) && !paged && offset === 0
        ? // Every device of the scope: its zones in one pass, as listDevices.
          (this.db
            .prepare(
              `SELECT dz.device_id, dz.zone_id FROM device_zones dz JOIN devices d ON d.id = dz.device_id
               WHERE (? IS NULL OR d.commune_id = ?) ORDER BY dz.zone_id`,
            )
            .all(...inScope(scope)) as { device_id: string; zone_id: string }[])
        : (this.db
            .prepare(
              `SELECT dz.device_id, dz.zone_id FROM device_zones dz
               WHERE dz.device_id IN (SELECT value FROM json_each(?)) ORDER BY dz.zone_id`,
            )
            .all(JSON.stringify(rows.map((r) => r.id))) as { device_id: string; zone_id: string }[]);
    const byDevice = new Map<string, string[]>();
    for (const m of members) {
      const zones = byDevice.get(m.device_id);
      if (zones) zones.push(m.zone_id);
      else byDevice.set(m.device_id, [m.zone_id]);
    }
    return { devices: rows.map((r) => this.view(r, byDevice.get(r.id) ?? [])), total };
  }

  /** The zones of a device visible in `scope` (none for another commune's device). */
  zonesOf(deviceId: string, scope: Scope = PROVINCE): string[] {
    return (
      this.db
        .prepare(
          `SELECT dz.zone_id FROM device_zones dz JOIN devices d ON d.id = dz.device_id
           WHERE dz.device_id = ? AND (? IS NULL OR d.commune_id = ?) ORDER BY dz.zone_id`,
        )
        .all(deviceId, ...inScope(scope)) as { zone_id: string }[]
    ).map((r) => r.zone_id);
  }

  /** Active (not revoked) devices of `scope` in any of the zones, or all active devices of `scope`. */
  devicesIn(zones: string[] | 'all', scope: Scope = PROVINCE): string[] {
    if (zones === 'all') {
      return (
        this.db
          .prepare('SELECT id FROM devices WHERE revoked_at IS NULL AND (? IS NULL OR commune_id = ?) ORDER BY id')
          .all(...inScope(scope)) as { id: string }[]
      ).map((r) => r.id);
    }
    if (zones.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT DISTINCT d.id FROM devices d JOIN device_zones dz ON dz.device_id = d.id
         WHERE d.revoked_at IS NULL AND dz.zone_id IN (SELECT value FROM json_each(?))
           AND (? IS NULL OR d.commune_id = ?) ORDER BY d.id`,
      )
      .all(JSON.stringify(zones), ...inScope(scope)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** True when the device exists, is not revoked and the secret is its own. */
  verifySecret(deviceId: string, secret: string): boolean {
    const row = this.db.prepare('SELECT secret_hash, revoked_at FROM devices WHERE id = ?').get(deviceId) as
      { secret_hash: string; revoked_at: number | null } | undefined;
    return !!row && row.revoked_at === null && tokenMatches(secret, row.secret_hash);
  }

  /** Revokes a device's credentials for good; returns false when there is no such device in `scope`. */
  revokeDevice(deviceId: string, scope: Scope = PROVINCE): boolean {
    const now = Date.now();
    const changes = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO device_status (device_id, online, at) SELECT id, 0, ? FROM devices
           WHERE id = ? AND online = 1 AND (? IS NULL OR commune_id = ?)`,
        )
        .run(now, deviceId, ...inScope(scope));
      return this.db
        .prepare(
          `UPDATE devices SET revoked_at = COALESCE(revoked_at, ?), online = 0
           WHERE id = ? AND (? IS NULL OR commune_id = ?)`,
        )
        .run(now, deviceId, ...inScope(scope)).changes;
    })();
    if (changes > 0) {
      this.hub.emit('device', { id: deviceId, online: false, lastSeen: this.getDevice(deviceId)?.lastSeen ?? null });
      for (const o of this.observers) o.deviceRevoked?.(deviceId);
    }
    return changes > 0;
  }

  setOnline(deviceId: string, online: boolean, agentVersion?: string): void {
    const now = Date.now();
    const changes = this.applyOnline(deviceId, online ? 1 : 0, now, agentVersion ?? null);
    if (changes > 0) this.hub.emit('device', { id: deviceId, online, lastSeen: iso(now) });
  }

  /**
   * Records the clock offset a device reported. Returns the previous value, so
   * the caller can warn once when a device crosses the threshold, not every 30 s.
   */
  setClockOffset(deviceId: string, offsetMs: number): { previous: number | null } | null {
    const row = this.db.prepare('SELECT clock_offset_ms FROM devices WHERE id = ?').get(deviceId) as
      { clock_offset_ms: number | null } | undefined;
    if (!row) return null;
    this.db
      .prepare('UPDATE devices SET clock_offset_ms = ?, clock_offset_at = ? WHERE id = ?')
      .run(Math.round(offsetMs), Date.now(), deviceId);
    return { previous: row.clock_offset_ms };
  }

  /** Records whether the device's agent plays real sound, as its "online" status said. */
  setSimulated(deviceId: string, simulated: boolean): void {
    this.db
      .prepare('UPDATE devices SET simulated = ? WHERE id = ? AND simulated != ?')
      .run(simulated ? 1 : 0, deviceId, simulated ? 1 : 0);
  }

  /** Records the format a device's "online" status asked for; returns the one it had (null: no such device). */
  setAudioFormat(deviceId: string, format: AudioFormat): AudioFormat | null {
    const previous = this.storedAudioFormat(deviceId);
    if (previous !== null && previous !== format) {
      this.db.prepare('UPDATE devices SET audio_format = ? WHERE id = ?').run(format, deviceId);
    }
    return previous;
  }

  audioFormatOf(deviceId: string): AudioFormat {
    return this.storedAudioFormat(deviceId) ?? 'ogg';
  }

  private storedAudioFormat(deviceId: string): AudioFormat | null {
    const row = this.db.prepare('SELECT audio_format FROM devices WHERE id = ?').get(deviceId) as
      { audio_format: AudioFormat } | undefined;
    return row?.audio_format ?? null;
  }

  /** Those of `deviceIds`, not revoked, that asked for `format`. */
  devicesAsking(format: AudioFormat, deviceIds: Iterable<string>): string[] {
    const rows = this.db
      .prepare(
        `SELECT id FROM devices WHERE audio_format = ? AND revoked_at IS NULL
           AND id IN (SELECT value FROM json_each(?)) ORDER BY id`,
      )
      .all(format, JSON.stringify([...deviceIds])) as { id: string }[];
    return rows.map((r) => r.id);
  }

  touch(deviceId: string): void {
    this.db.prepare('UPDATE devices SET last_seen = ? WHERE id = ?').run(Date.now(), deviceId);
  }

  /**
   * On server start nobody is connected yet, whatever the database remembers.
   * A device still marked online went quiet with the server: the status log
   * records it offline from the last time it was heard.
   */
  markAllOffline(): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO device_status (device_id, online, at) SELECT id, 0, COALESCE(last_seen, ?) FROM devices WHERE online = 1',
        )
        .run(Date.now());
      this.db.prepare('UPDATE devices SET online = 0 WHERE online = 1').run();
    })();
  }

  nextPlanVersion(deviceId: string): number {
    const row = this.db
      .prepare('UPDATE devices SET plan_version = plan_version + 1 WHERE id = ? RETURNING plan_version')
      .get(deviceId) as { plan_version: number } | undefined;
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
