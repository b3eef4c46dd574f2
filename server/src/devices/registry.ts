/**
 * Zones and devices: who exists, who belongs where, who is online.
 */
import { isValidId, type AudioFormat } from '@loaxa/protocol';
import type { Db } from '../db/database';
import type { EventHub } from '../events/hub';
import { hashToken, newToken, tokenMatches } from '../auth/passwords';
import { slugify, uniqueId } from './ids';

export interface Zone {
  id: string;
  name: string;
  deviceIds: string[];
}

export interface DeviceView {
  id: string;
  name: string;
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

interface DeviceRow {
  id: string;
  name: string;
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
  'id, name, online, last_seen, agent_version, revoked_at, clock_offset_ms, latitude, longitude, simulated';

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

  createZone(name: string, id?: string): Zone {
    const trimmed = name.trim();
    if (this.db.prepare('SELECT 1 FROM zones WHERE name = ?').get(trimmed)) {
      throw new ConflictError('name', `a zone named "${trimmed}" already exists`);
    }
    const zoneId =
      id ?? uniqueId(slugify(trimmed), (c) => !!this.db.prepare('SELECT 1 FROM zones WHERE id = ?').get(c));
    if (!isValidId(zoneId)) throw new ConflictError('id', `invalid zone id ${JSON.stringify(zoneId)}`);
    this.db.prepare('INSERT INTO zones (id, name, created_at) VALUES (?, ?, ?)').run(zoneId, trimmed, Date.now());
    return { id: zoneId, name: trimmed, deviceIds: [] };
  }

  listZones(): Zone[] {
    const zones = this.db.prepare('SELECT id, name FROM zones ORDER BY name').all() as { id: string; name: string }[];
    const members = this.db.prepare('SELECT zone_id, device_id FROM device_zones ORDER BY device_id').all() as {
      zone_id: string;
      device_id: string;
    }[];
    const byZone = new Map<string, string[]>();
    for (const m of members) byZone.set(m.zone_id, [...(byZone.get(m.zone_id) ?? []), m.device_id]);
    return zones.map((z) => ({ ...z, deviceIds: byZone.get(z.id) ?? [] }));
  }

  /** Returns the ids in `zoneIds` that do not exist. */
  unknownZones(zoneIds: string[]): string[] {
    const known = new Set((this.db.prepare('SELECT id FROM zones').all() as { id: string }[]).map((z) => z.id));
    return zoneIds.filter((z) => !known.has(z));
  }

  renameZone(zoneId: string, name: string): Zone {
    const trimmed = name.trim();
    if (!this.db.prepare('SELECT 1 FROM zones WHERE id = ?').get(zoneId)) {
      throw new NotFoundError('id', `no zone with id ${zoneId}`);
    }
    if (this.db.prepare('SELECT 1 FROM zones WHERE name = ? AND id != ?').get(trimmed, zoneId)) {
      throw new ConflictError('name', `a zone named "${trimmed}" already exists`);
    }
    this.db.prepare('UPDATE zones SET name = ? WHERE id = ?').run(trimmed, zoneId);
    return this.listZones().find((z) => z.id === zoneId)!;
  }

  /** Deletes a zone; its devices stay (in their other zones). Returns the former members. */
  deleteZone(zoneId: string): string[] {
    const zone = this.listZones().find((z) => z.id === zoneId);
    if (!zone) throw new NotFoundError('id', `no zone with id ${zoneId}`);
    const used = this.db
      .prepare(
        `SELECT s.title FROM schedule_targets t JOIN schedules s ON s.id = t.schedule_id
         WHERE t.kind = 'zone' AND t.target_id = ? AND s.status != 'cancelled' LIMIT 1`,
      )
      .get(zoneId) as { title: string } | undefined;
    if (used) throw new ConflictError('id', `the schedule "${used.title}" still targets this zone`);
    this.db.prepare('DELETE FROM zones WHERE id = ?').run(zoneId);
    for (const o of this.observers) for (const d of zone.deviceIds) o.zonesChanged?.(d);
    return zone.deviceIds;
  }

  /** Puts a device in exactly these zones. */
  setDeviceZones(deviceId: string, zones: string[]): DeviceView {
    if (!this.getDevice(deviceId)) throw new NotFoundError('id', `no device with id ${deviceId}`);
    const unknown = this.unknownZones(zones);
    if (unknown.length) throw new NotFoundError('zones', `unknown zone(s): ${unknown.join(', ')}`);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM device_zones WHERE device_id = ?').run(deviceId);
      const add = this.db.prepare('INSERT INTO device_zones (device_id, zone_id) VALUES (?, ?)');
      for (const z of new Set(zones)) add.run(deviceId, z);
    })();
    for (const o of this.observers) o.zonesChanged?.(deviceId);
    return this.getDevice(deviceId)!;
  }

  // ---- devices -----------------------------------------------------------

  /** Renames a device and/or sets (or clears, with null) where it stands. */
  updateDevice(
    deviceId: string,
    change: { name?: string; location?: { latitude: number; longitude: number } | null },
  ): DeviceView {
    if (!this.getDevice(deviceId)) throw new NotFoundError('id', `no device with id ${deviceId}`);
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

  /** Creates a device with a fresh secret; the secret is returned once and stored only hashed. */
  createDevice(input: { id: string; name?: string; zones?: string[] }): { device: DeviceView; secret: string } {
    if (!isValidId(input.id)) {
      throw new ConflictError('id', 'id: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    if (this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(input.id)) {
      throw new ConflictError('id', `a device with id "${input.id}" already exists`);
    }
    const zones = input.zones ?? [];
    const unknown = this.unknownZones(zones);
    if (unknown.length) throw new NotFoundError('zones', `unknown zone(s): ${unknown.join(', ')}`);
    const secret = newToken();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO devices (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)')
        .run(input.id, input.name?.trim() || input.id, hashToken(secret), Date.now());
      const add = this.db.prepare('INSERT INTO device_zones (device_id, zone_id) VALUES (?, ?)');
      for (const z of zones) add.run(input.id, z);
    })();
    for (const o of this.observers) o.deviceCreated?.(input.id, secret);
    return { device: this.getDevice(input.id)!, secret };
  }

  getDevice(id: string): DeviceView | null {
    const row = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`).get(id) as DeviceRow | undefined;
    return row ? this.view(row, this.zonesOf(id)) : null;
  }

  listDevices(): DeviceView[] {
    const rows = this.db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY id`).all() as DeviceRow[];
    const members = this.db.prepare('SELECT device_id, zone_id FROM device_zones ORDER BY zone_id').all() as {
      device_id: string;
      zone_id: string;
    }[];
    const byDevice = new Map<string, string[]>();
    for (const m of members) byDevice.set(m.device_id, [...(byDevice.get(m.device_id) ?? []), m.zone_id]);
    return rows.map((r) => this.view(r, byDevice.get(r.id) ?? []));
  }

  zonesOf(deviceId: string): string[] {
    return (
      this.db.prepare('SELECT zone_id FROM device_zones WHERE device_id = ? ORDER BY zone_id').all(deviceId) as {
        zone_id: string;
      }[]
    ).map((r) => r.zone_id);
  }

  /** Active (not revoked) devices in any of the zones, or all active devices. */
  devicesIn(zones: string[] | 'all'): string[] {
    if (zones === 'all') {
      return (
        this.db.prepare('SELECT id FROM devices WHERE revoked_at IS NULL ORDER BY id').all() as { id: string }[]
      ).map((r) => r.id);
    }
    if (zones.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT DISTINCT d.id FROM devices d JOIN device_zones dz ON dz.device_id = d.id
         WHERE d.revoked_at IS NULL AND dz.zone_id IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
      )
      .all(JSON.stringify(zones)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** True when the device exists, is not revoked and the secret is its own. */
  verifySecret(deviceId: string, secret: string): boolean {
    const row = this.db.prepare('SELECT secret_hash, revoked_at FROM devices WHERE id = ?').get(deviceId) as
      { secret_hash: string; revoked_at: number | null } | undefined;
    return !!row && row.revoked_at === null && tokenMatches(secret, row.secret_hash);
  }

  /** Revokes a device's credentials for good; returns false when there is no such device. */
  revokeDevice(deviceId: string): boolean {
    const now = Date.now();
    const changes = this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO device_status (device_id, online, at) SELECT id, 0, ? FROM devices WHERE id = ? AND online = 1',
        )
        .run(now, deviceId);
      return this.db
        .prepare('UPDATE devices SET revoked_at = COALESCE(revoked_at, ?), online = 0 WHERE id = ?')
        .run(now, deviceId).changes;
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
