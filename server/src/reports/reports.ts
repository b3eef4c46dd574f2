/**
 * Per-loudspeaker and per-zone reports over a period [from, to): how many
 * broadcasts each device was sent, how many it played to the end, how many
 * failed, minutes on air and uptime. A report covers what has happened: the
 * part of the period after now counts for nothing (a broadcast planned for
 * tonight is not a failure yet). The counting is done by SQLite (two
 * aggregate queries); only the per-device results are combined here.
 *
 * A report covers the devices, zones and broadcasts of one scope: a commune's
 * own, or the whole province's.
 */
import { deliveryOutcome, MISSED_AFTER_MS, type DeliveryStage } from '@loaxa/protocol';
import type { Db } from '../db/database';
import { toCsv } from '../csv';
import { inScope, PROVINCE, type Scope } from '../tenancy/scope';
import { addTotals, closedDays, DAY_MS, DayRollup, emptyTotals, type Totals } from './day-rollup';

/**
 * More unsummed days than this in one province report are counted directly this time (a first
 * report after an upgrade); the nightly clean-up sums them (Scheduling.cleanup).
 */
const MAX_DAYS_ROLLED_PER_REPORT = 62;

/** Numbers of one device or zone over the period. */
export interface ReportNumbers {
  /** Deliveries of occurrences that start in the period (up to now) and were not cancelled. */
  broadcasts: number;
  /** … played to the end. */
  finished: number;
  /** … failed or skipped by the device. */
  failed: number;
  /** … never started a minute after their time (the loudspeaker was offline, or its audio never came). */
  missed: number;
  /** … not finished when someone stopped the broadcast: neither a success nor a failure. */
  stopped: number;
  /** finished / (broadcasts − stopped) (0–1); null without any. */
  successRate: number | null;
  /** Sum of the durations of the finished ones, in minutes. */
  minutesOnAir: number;
  /** Share of the observed time (0–1) the device was online; null when nothing of the period is observable. */
  uptime: number | null;
}

export interface DeviceReport extends ReportNumbers {
  deviceId: string;
  communeId: string;
  name: string;
  zones: string[];
  revoked: boolean;
}

export interface ZoneReport extends ReportNumbers {
  zoneId: string;
  communeId: string;
  name: string;
  /** The zone's devices counted (its current members, less those revoked before the period). */
  devices: number;
}

/** One commune rolled up from its loudspeakers (the province dashboard). */
export interface CommuneReport extends ReportNumbers {
  communeId: string;
  name: string;
  /** Active (not revoked) loudspeakers now, and how many of them are online now. */
  devices: number;
  online: number;
  offline: number;
  /** When any of its loudspeakers was last heard from; null if none ever was. */
  lastSeen: string | null;
  /** Province bulletins that started on at least one of its loudspeakers in the period. */
  bulletinsPlayed: number;
}

export interface ReportPeriod {
  from: number;
  to: number;
}


/** SQLite orders "Đ" after "T" (by bytes); a reader expects the alphabet. */
const VIETNAMESE = new Intl.Collator('vi');

const ratio = (part: number, whole: number): number | null =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

function numbers(t: Totals): ReportNumbers {
  return {
    broadcasts: t.broadcasts,
    finished: t.finished,
    failed: t.failed,
    missed: t.missed,
    stopped: t.stopped,
    successRate: ratio(t.finished, t.broadcasts - t.stopped),
    minutesOnAir: Math.round(t.onAirMs / 6_000) / 10,
    uptime: ratio(t.onlineMs, t.observedMs),
  };
}

export class Reports {
  private readonly rollup: DayRollup;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    this.rollup = new DayRollup(db);
  }

  zoneNames(scope: Scope): Map<string, string> {
    const rows = this.db
      .prepare('SELECT id, name FROM zones WHERE (? IS NULL OR commune_id = ?)')
      .all(...inScope(scope)) as { id: string; name: string }[];
    return new Map(rows.map((z) => [z.id, z.name]));
  }

  /** The communes' names by id, for a report across communes. */
  communeNames(): Map<string, string> {
    const rows = this.db.prepare('SELECT id, name FROM communes').all() as { id: string; name: string }[];
    return new Map(rows.map((c) => [c.id, c.name]));
  }

  devices(scope: Scope, period: ReportPeriod): DeviceReport[] {
    return this.deviceTotals(scope, period).map(({ totals, ...device }) => ({ ...device, ...numbers(totals) }));
  }

  /** Each zone over its current devices: counts add up, shares are weighted by broadcasts and observed time. */
  zones(scope: Scope, period: ReportPeriod): ZoneReport[] {
    const byDevice = new Map(this.deviceTotals(scope, period).map((d) => [d.deviceId, d.totals]));
    const zones = (
      this.db.prepare('SELECT id, commune_id, name FROM zones WHERE (? IS NULL OR commune_id = ?)').all(...inScope(scope)) as {
        id: string;
        commune_id: string;
        name: string;
      }[]
    ).sort((a, b) => VIETNAMESE.compare(a.name, b.name) || a.commune_id.localeCompare(b.commune_id));
    const members = this.db.prepare('SELECT zone_id, device_id FROM device_zones').all() as {
      zone_id: string;
      device_id: string;
    }[];
    const sums = new Map<string, { devices: number; totals: Totals }>(
      zones.map((z) => [z.id, { devices: 0, totals: emptyTotals() }]),
    );
    for (const m of members) {
      const device = byDevice.get(m.device_id);
      const zone = sums.get(m.zone_id);
      if (!device || !zone) continue;
      zone.devices += 1;
      for (const key of Object.keys(device) as (keyof Totals)[]) zone.totals[key] += device[key];
    }
    return zones.map((z) => {
      const sum = sums.get(z.id)!;
      return { zoneId: z.id, communeId: z.commune_id, name: z.name, devices: sum.devices, ...numbers(sum.totals) };
    });
  }

  /**
   * Each commune over its loudspeakers: the devices' numbers summed (shares
   * weighted as for zones), with the fleet's state now and the bulletins played.
   */
  communes(scope: Scope, period: ReportPeriod): CommuneReport[] {
    const sums = new Map<string, Totals>();
    for (const d of this.deviceTotals(scope, period)) {
      const sum = sums.get(d.communeId) ?? emptyTotals();
      for (const key of Object.keys(sum) as (keyof Totals)[]) sum[key] += d.totals[key];
      sums.set(d.communeId, sum);
    }
    const fleet = new Map(
      (
        this.db
          .prepare(
            `SELECT c.id, c.name, COUNT(d.id) AS devices, COALESCE(SUM(d.online), 0) AS online,
               MAX(d.last_seen) AS lastSeen
             FROM communes c LEFT JOIN devices d ON d.commune_id = c.id AND d.revoked_at IS NULL
             WHERE (? IS NULL OR c.id = ?) GROUP BY c.id`,
          )
          .all(...inScope(scope)) as { id: string; name: string; devices: number; online: number; lastSeen: number | null }[]
      ).map((c) => [c.id, c]),
    );
    const bulletins = new Map(
      (
        this.db
          .prepare(
            `SELECT o.commune_id AS id, COUNT(DISTINCT o.bulletin_id) AS n
             FROM occurrences o JOIN deliveries d ON d.occurrence_id = o.id
             WHERE o.bulletin_id IS NOT NULL AND o.start_at >= ? AND o.start_at < ?
               AND d.stage IN ('started', 'finished') AND (? IS NULL OR o.commune_id = ?)
             GROUP BY o.commune_id`,
          )
          .all(period.from, Math.min(period.to, this.clock()), ...inScope(scope)) as { id: string; n: number }[]
      ).map((r) => [r.id, r.n]),
    );
    return [...fleet.values()]
      .sort((a, b) => VIETNAMESE.compare(a.name, b.name) || a.id.localeCompare(b.id))
      .map((c) => ({
        communeId: c.id,
        name: c.name,
        devices: c.devices,
        online: c.online,
        offline: c.devices - c.online,
        lastSeen: c.lastSeen === null ? null : new Date(c.lastSeen).toISOString(),
        bulletinsPlayed: bulletins.get(c.id) ?? 0,
        ...numbers(sums.get(c.id) ?? emptyTotals()),
      }));
  }

  private deviceTotals(
    scope: Scope,
    period: ReportPeriod,
  ): (Omit<DeviceReport, keyof ReportNumbers> & { totals: Totals })[] {
    const { from, to } = period;
    // What has happened: not after now; uptime also not before the device existed nor after its revocation.
    const end = Math.min(to, this.clock());
    const devices = this.db
      .prepare(
        `SELECT id, commune_id, name, revoked_at FROM devices
         WHERE (revoked_at IS NULL OR revoked_at >= ?) AND created_at < ? AND (? IS NULL OR commune_id = ?)
         ORDER BY id`,
      )
      .all(from, to, ...inScope(scope)) as { id: string; commune_id: string; name: string; revoked_at: number | null }[];
    const zonesOf = new Map<string, string[]>();
    for (const m of this.db.prepare('SELECT device_id, zone_id FROM device_zones ORDER BY zone_id').all() as {
      device_id: string;
      zone_id: string;
    }[]) {
      zonesOf.set(m.device_id, [...(zonesOf.get(m.device_id) ?? []), m.zone_id]);
    }

    const totals = this.periodTotals(scope, from, end);
    return devices.map((d) => ({
      deviceId: d.id,
      communeId: d.commune_id,
      name: d.name,
      zones: zonesOf.get(d.id) ?? [],
      revoked: d.revoked_at !== null,
      totals: totals.get(d.id) ?? emptyTotals(),
    }));
  }

  /**
   * Sums the province's closed days of the last `days` days ahead of the
   * reports that will ask (the nightly clean-up), and forgets those before
   * `cutoff`. Returns how many days it summed.
   */
  rollUp(days: number, cutoff: number): number {
    this.rollup.prune(cutoff);
    const now = this.clock();
    const closed = closedDays(Math.max(cutoff, now - days * DAY_MS), now, now);
    if (!closed) return 0;
    return this.rollup.ensure(closed.first, closed.end, (dayStart, dayEnd) =>
      this.liveTotals(PROVINCE, dayStart, dayEnd, now),
    );
  }

  /**
   * Each device's sums over [from, end) (end not after now). For the whole
   * province, the closed days inside it come from the day roll-up (summed
   * once, kept current by the database's triggers) and only the partial days
   * at its ends are counted from the history: 30 days of a province's 10,000
   * loudspeakers are 900,000 deliveries and a million online changes.
   * A commune's report is small enough to count directly.
   */
  private periodTotals(scope: Scope, from: number, end: number): Map<string, Totals> {
    const now = this.clock();
    const totals = new Map<string, Totals>();
    if (end <= from) return totals;
    const days = scope.communeId === null ? closedDays(from, end, now) : null;
    if (!days || this.rollup.missing(days.first, days.end) > MAX_DAYS_ROLLED_PER_REPORT) {
      addTotals(totals, this.liveTotals(scope, from, end, now));
      return totals;
    }
    this.rollup.ensure(days.first, days.end, (dayStart, dayEnd) => this.liveTotals(scope, dayStart, dayEnd, now));
    if (from < days.first) addTotals(totals, this.liveTotals(scope, from, days.first, now));
    addTotals(totals, this.rollup.sum(days.first, days.end));
    if (days.end < end) addTotals(totals, this.liveTotals(scope, days.end, end, now));
    return totals;
  }

  /** Each device's sums over [from, end), counted from the deliveries and the online history. */
  private liveTotals(scope: Scope, from: number, end: number, now: number): Map<string, Totals> {
    const totals = new Map<string, Totals>();
    const of = (deviceId: string): Totals => {
      let t = totals.get(deviceId);
      if (!t) totals.set(deviceId, (t = emptyTotals()));
      return t;
    };
    // Counted by stage, stop and lateness, then read through deliveryOutcome: the console's rule.
    // Only the scope's broadcasts count (a loudspeaker moved from another commune keeps none of its).
    for (const r of this.db
      .prepare(
        `SELECT d.device_id AS deviceId, d.stage, o.stopped_at IS NOT NULL AS stopped, o.start_at + ? < ? AS late,
           COUNT(*) AS n, SUM(o.duration_ms) AS ms
         FROM occurrences o CROSS JOIN deliveries d ON d.occurrence_id = o.id
         WHERE o.start_at >= ? AND o.start_at < ? AND o.cancelled_at IS NULL AND (? IS NULL OR o.commune_id = ?)
         GROUP BY d.device_id, d.stage, stopped, late`,
      )
      .all(MISSED_AFTER_MS, now, from, end, ...inScope(scope)) as {
      deviceId: string;
      stage: DeliveryStage;
      stopped: number;
      late: number;
      n: number;
      ms: number;
    }[]) {
      const t = of(r.deviceId);
      const startAt = r.late ? now - MISSED_AFTER_MS - 1 : now;
      const outcome = deliveryOutcome(r.stage, { startAt, stopped: r.stopped === 1 }, now);
      t.broadcasts += r.n;
      if (outcome === 'finished') {
        t.finished += r.n;
        t.onAirMs += r.ms;
      }
      if (outcome === 'failed' || outcome === 'skipped') t.failed += r.n;
      if (outcome === 'missed') t.missed += r.n;
      if (outcome === 'stopped') t.stopped += r.n;
    }

    // Per device, the observed window [start, stop); the state at `start` is the last change at or
    // before it; each change inside the window lasts until the next one (or `stop`).
    for (const r of this.db
          .prepare(
            `WITH windows AS (
               SELECT id AS device_id, MAX(created_at, :from) AS start, MIN(COALESCE(revoked_at, :end), :end) AS stop
               FROM devices
               WHERE (revoked_at IS NULL OR revoked_at >= :from) AND created_at < :end
                 AND (:commune IS NULL OR commune_id = :commune)
             ),
             changes AS (
               SELECT w.device_id, w.start, w.stop, w.start AS at, 0 AS seq,
                 COALESCE((SELECT s.online FROM device_status s WHERE s.device_id = w.device_id AND s.at <= w.start
                           ORDER BY s.at DESC, s.rowid DESC LIMIT 1), 0) AS online
               FROM windows w WHERE w.stop > w.start
               UNION ALL
               SELECT w.device_id, w.start, w.stop, s.at, s.rowid AS seq, s.online
               FROM windows w CROSS JOIN device_status s ON s.device_id = w.device_id AND s.at > w.start AND s.at < w.stop
             ),
             spans AS (
               SELECT device_id, start, stop, online, at,
                 LEAD(at, 1, stop) OVER (PARTITION BY device_id ORDER BY at, seq) AS until
               FROM changes
             )
             SELECT device_id AS deviceId,
               SUM(CASE WHEN online = 1 THEN until - at ELSE 0 END) AS onlineMs,
               MAX(stop - start) AS observedMs
             FROM spans GROUP BY device_id`,
          )
          .all({ from, end, commune: scope.communeId }) as { deviceId: string; onlineMs: number; observedMs: number }[]) {
      const t = of(r.deviceId);
      t.onlineMs += r.onlineMs;
      t.observedMs += r.observedMs;
    }
    return totals;
  }
}

/**
 * Retention for the status log: drops changes older than `cutoff` except each
 * device's last one before it, which still tells the state at the cutoff.
 */
export function pruneDeviceStatus(db: Db, cutoff: number): number {
  return db
    .prepare(
      `DELETE FROM device_status WHERE rowid IN (
         SELECT s.rowid FROM device_status s
         WHERE s.at < :cutoff AND EXISTS (
           SELECT 1 FROM device_status t
           WHERE t.device_id = s.device_id AND t.at < :cutoff AND (t.at > s.at OR (t.at = s.at AND t.rowid > s.rowid))))`,
    )
    .run({ cutoff }).changes;
}


// ---------------------------------------------------------------- CSV

const percent = (share: number | null): string => (share === null ? '' : (share * 100).toFixed(1));

const SHARED_COLUMNS = [
  'broadcasts',
  'finished',
  'failed',
  'missed',
  'stopped',
  'success_rate_percent',
  'minutes_on_air',
  'uptime_percent',
] as const;

function sharedCells(n: ReportNumbers): (string | number)[] {
  return [n.broadcasts, n.finished, n.failed, n.missed, n.stopped, percent(n.successRate), n.minutesOnAir.toFixed(1), percent(n.uptime)];
}

/**
 * A report across communes starts with the commune of each row, by name (zone
 * names repeat between communes); one commune's report is the same file as
 * before communes existed.
 */
type CommuneColumn = ReadonlyMap<string, string> | null;

const communeHeader = (communes: CommuneColumn): string[] => (communes ? ['commune'] : []);
const communeCell = (communes: CommuneColumn, id: string): string[] => (communes ? [communes.get(id) ?? id] : []);

/** Zones are written by name (a spreadsheet reader knows "Thôn Đông", not "thon-dong"). */
export function deviceReportCsv(
  rows: DeviceReport[],
  zoneNames: ReadonlyMap<string, string>,
  communes: CommuneColumn = null,
): string {
  return toCsv(
    [...communeHeader(communes), 'device_id', 'name', 'zones', 'revoked', ...SHARED_COLUMNS],
    rows.map((r) => [
      ...communeCell(communes, r.communeId),
      r.deviceId,
      r.name,
      r.zones.map((z) => zoneNames.get(z) ?? z).join('; '),
      r.revoked ? 'yes' : '',
      ...sharedCells(r),
    ]),
  );
}

export function communeReportCsv(rows: CommuneReport[]): string {
  return toCsv(
    ['commune_id', 'name', 'devices', 'online', 'offline', 'last_seen', 'bulletins_played', ...SHARED_COLUMNS],
    rows.map((r) => [
      r.communeId,
      r.name,
      r.devices,
      r.online,
      r.offline,
      r.lastSeen ?? '',
      r.bulletinsPlayed,
      ...sharedCells(r),
    ]),
  );
}

export function zoneReportCsv(rows: ZoneReport[], communes: CommuneColumn = null): string {
  return toCsv(
    [...communeHeader(communes), 'zone_id', 'name', 'devices', ...SHARED_COLUMNS],
    rows.map((r) => [...communeCell(communes, r.communeId), r.zoneId, r.name, r.devices, ...sharedCells(r)]),
  );
}
