/**
 * Per-loudspeaker and per-zone reports over a period [from, to): how many
 * broadcasts each device was sent, how many it played to the end, how many
 * failed, minutes on air and uptime. A report covers what has happened: the
 * part of the period after now counts for nothing (a broadcast planned for
 * tonight is not a failure yet). The counting is done by the database (two
 * aggregate queries, the same on SQLite and PostgreSQL: db/sql.ts); only the
 * per-device results are combined here.
 *
 * A report covers the devices, zones and broadcasts of one scope: a commune's
 * own, or the whole province's.
 */
import { deliveryOutcome, MISSED_AFTER_MS, type DeliveryStage } from '@loaxa/protocol';
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import { toCsv } from '../csv';
import { PROVINCE, type Scope } from '../tenancy/scope';
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
    private readonly sqlDb: SqlDb,
    private readonly clock: () => number = Date.now,
  ) {
    this.rollup = new DayRollup(sqlDb);
  }

  async zoneNames(scope: Scope): Promise<Map<string, string>> {
    const rows: { id: string; name: string }[] = await this.sqlDb.db
      .selectFrom('zones')
      .select(['id', 'name'])
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .execute();
    return new Map(rows.map((z) => [z.id, z.name]));
  }

  /** The communes' names by id, for a report across communes. */
  async communeNames(): Promise<Map<string, string>> {
    const { rows } = await sql<{ id: string; name: string }>`SELECT id, name FROM communes`.execute(this.sqlDb.db);
    return new Map(rows.map((c) => [c.id, c.name]));
  }

  async devices(scope: Scope, period: ReportPeriod): Promise<DeviceReport[]> {
    return (await this.deviceTotals(scope, period)).map(({ totals, ...device }) => ({ ...device, ...numbers(totals) }));
  }

  /** Each zone over its current devices: counts add up, shares are weighted by broadcasts and observed time. */
  async zones(scope: Scope, period: ReportPeriod): Promise<ZoneReport[]> {
    const byDevice = new Map((await this.deviceTotals(scope, period)).map((d) => [d.deviceId, d.totals]));
    const zones = (
      (await this.sqlDb.db
        .selectFrom('zones')
        .select(['id', 'commune_id', 'name'])
        .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
        .execute()) as { id: string; commune_id: string; name: string }[]
    ).sort((a, b) => VIETNAMESE.compare(a.name, b.name) || a.commune_id.localeCompare(b.commune_id));
    const { rows: members } = await sql<{ zone_id: string; device_id: string }>`
      SELECT zone_id, device_id FROM device_zones`.execute(this.sqlDb.db);
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
  async communes(scope: Scope, period: ReportPeriod): Promise<CommuneReport[]> {
    const { db } = this.sqlDb;
    const sums = new Map<string, Totals>();
    for (const d of await this.deviceTotals(scope, period)) {
      const sum = sums.get(d.communeId) ?? emptyTotals();
      for (const key of Object.keys(sum) as (keyof Totals)[]) sum[key] += d.totals[key];
      sums.set(d.communeId, sum);
    }
    const fleet: { id: string; name: string; devices: number; online: number; last_seen: number | null }[] = await db
      .selectFrom('communes as c')
      .leftJoin('devices as d', (join) => join.onRef('d.commune_id', '=', 'c.id').on('d.revoked_at', 'is', null))
      .select([
        'c.id',
        'c.name',
        (eb) => eb.fn.count<number>('d.id').as('devices'),
        // PostgreSQL's SUM of a BIGINT is NUMERIC (a string to pg).
        sql<number>`CAST(COALESCE(SUM(d.online), 0) AS BIGINT)`.as('online'),
        (eb) => eb.fn.max<number | null>('d.last_seen').as('last_seen'),
      ])
      .$if(scope.communeId !== null, (q) => q.where('c.id', '=', scope.communeId))
      .groupBy(['c.id', 'c.name'])
      .execute();
    const played: { id: string; n: number }[] = await db
      .selectFrom('occurrences as o')
      .innerJoin('deliveries as d', 'd.occurrence_id', 'o.id')
      .select(['o.commune_id as id', (eb) => eb.fn.count<number>('o.bulletin_id').distinct().as('n')])
      .where('o.bulletin_id', 'is not', null)
      .where('o.start_at', '>=', period.from)
      .where('o.start_at', '<', Math.min(period.to, this.clock()))
      .where('d.stage', 'in', ['started', 'finished'])
      .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
      .groupBy('o.commune_id')
      .execute();
    const bulletins = new Map(played.map((r) => [r.id, r.n]));
    return fleet
      .sort((a, b) => VIETNAMESE.compare(a.name, b.name) || a.id.localeCompare(b.id))
      .map((c) => ({
        communeId: c.id,
        name: c.name,
        devices: c.devices,
        online: c.online,
        offline: c.devices - c.online,
        lastSeen: c.last_seen === null ? null : new Date(c.last_seen).toISOString(),
        bulletinsPlayed: bulletins.get(c.id) ?? 0,
        ...numbers(sums.get(c.id) ?? emptyTotals()),
      }));
  }

  private async deviceTotals(
    scope: Scope,
    period: ReportPeriod,
  ): Promise<(Omit<DeviceReport, keyof ReportNumbers> & { totals: Totals })[]> {
    const { from, to } = period;
    const { db } = this.sqlDb;
    // What has happened: not after now; uptime also not before the device existed nor after its revocation.
    const end = Math.min(to, this.clock());
    const devices = (
      (await db
        .selectFrom('devices')
        .select(['id', 'commune_id', 'name', 'revoked_at'])
        .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>=', from)]))
        .where('created_at', '<', to)
        .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
        .execute()) as { id: string; commune_id: string; name: string; revoked_at: number | null }[]
    ).sort(byId((d) => d.id));
    const { rows: members } = await sql<{ device_id: string; zone_id: string }>`
      SELECT device_id, zone_id FROM device_zones`.execute(db);
    const zonesOf = new Map<string, string[]>();
    for (const m of members.sort(byId((m) => m.zone_id))) {
      zonesOf.set(m.device_id, [...(zonesOf.get(m.device_id) ?? []), m.zone_id]);
    }

    const totals = await this.periodTotals(scope, from, end);
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
  async rollUp(days: number, cutoff: number): Promise<number> {
    await this.rollup.prune(cutoff);
    const now = this.clock();
    const closed = closedDays(Math.max(cutoff, now - days * DAY_MS), now, now);
    if (!closed) return 0;
    return this.rollup.ensure(closed.first, closed.end, (tx, dayStart, dayEnd) =>
      this.liveTotals(tx, PROVINCE, dayStart, dayEnd, now),
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
  private async periodTotals(scope: Scope, from: number, end: number): Promise<Map<string, Totals>> {
    const { db } = this.sqlDb;
    const now = this.clock();
    const totals = new Map<string, Totals>();
    if (end <= from) return totals;
    const days = scope.communeId === null ? closedDays(from, end, now) : null;
    if (!days || (await this.rollup.missing(days.first, days.end)) > MAX_DAYS_ROLLED_PER_REPORT) {
      addTotals(totals, await this.liveTotals(db, scope, from, end, now));
      return totals;
    }
    await this.rollup.ensure(days.first, days.end, (tx, dayStart, dayEnd) =>
      this.liveTotals(tx, scope, dayStart, dayEnd, now),
    );
    if (from < days.first) addTotals(totals, await this.liveTotals(db, scope, from, days.first, now));
    addTotals(totals, await this.rollup.sum(days.first, days.end));
    if (days.end < end) addTotals(totals, await this.liveTotals(db, scope, days.end, end, now));
    return totals;
  }

  /**
   * Each device's sums over [from, end), counted from the deliveries and the
   * online history through `db` (the pool, or the day roll-up's transaction).
   */
  private async liveTotals(
    db: Kysely<Tables>,
    scope: Scope,
    from: number,
    end: number,
    now: number,
  ): Promise<Map<string, Totals>> {
    const totals = new Map<string, Totals>();
    const of = (deviceId: string): Totals => {
      let t = totals.get(deviceId);
      if (!t) totals.set(deviceId, (t = emptyTotals()));
      return t;
    };
    // Counted by stage, stop and lateness, then read through deliveryOutcome: the console's rule.
    // Only the scope's broadcasts count (a loudspeaker moved from another commune keeps none of its).
    // The flags are CASEs, not comparisons: PostgreSQL's would be booleans, SQLite's 0/1.
    const deliveries: {
      device_id: string;
      stage: DeliveryStage;
      stopped: number;
      late: number;
      n: number;
      ms: number;
    }[] = await db
      .selectFrom('occurrences as o')
      // SQLite reads a CROSS JOIN in the order written: the period's occurrences (by start_at), then
      // their deliveries. PostgreSQL plans it as the inner join it is.
      .crossJoin('deliveries as d')
      .select([
        'd.device_id',
        'd.stage',
        sql<number>`CASE WHEN o.stopped_at IS NULL THEN 0 ELSE 1 END`.as('stopped'),
        sql<number>`CASE WHEN o.start_at + ${MISSED_AFTER_MS} < ${now} THEN 1 ELSE 0 END`.as('late'),
        (eb) => eb.fn.countAll<number>().as('n'),
        sql<number>`CAST(SUM(o.duration_ms) AS BIGINT)`.as('ms'),
      ])
      .whereRef('d.occurrence_id', '=', 'o.id')
      .where('o.start_at', '>=', from)
      .where('o.start_at', '<', end)
      .where('o.cancelled_at', 'is', null)
      .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
      .groupBy(['d.device_id', 'd.stage', 'stopped', 'late'])
      .execute();
    for (const r of deliveries) {
      const t = of(r.device_id);
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
    // before it; each change inside the window lasts until the next one (or `stop`). Changes at the
    // same instant follow in the order they were logged, device_status.seq (migration 29). Windows
    // and LEAD read better as SQL than as a builder; only the commune condition varies.
    const inCommune = scope.communeId === null ? sql`` : sql`AND commune_id = ${scope.communeId}`;
    const { rows: status } = await sql<{ device_id: string; online_ms: number; observed_ms: number }>`
      WITH windows AS (
        SELECT id AS device_id,
          CASE WHEN created_at > ${from} THEN created_at ELSE ${from} END AS start,
          CASE WHEN revoked_at < ${end} THEN revoked_at ELSE ${end} END AS stop
        FROM devices
        WHERE (revoked_at IS NULL OR revoked_at >= ${from}) AND created_at < ${end} ${inCommune}
      ),
      changes AS (
        SELECT w.device_id, w.start, w.stop, w.start AS at, 0 AS seq,
          COALESCE((SELECT s.online FROM device_status s WHERE s.device_id = w.device_id AND s.at <= w.start
                    ORDER BY s.at DESC, s.seq DESC LIMIT 1), 0) AS online
        FROM windows w WHERE w.stop > w.start
        UNION ALL
        SELECT w.device_id, w.start, w.stop, s.at, s.seq, s.online
        FROM windows w CROSS JOIN device_status s
        WHERE s.device_id = w.device_id AND s.at > w.start AND s.at < w.stop
      ),
      spans AS (
        SELECT device_id, start, stop, online, at,
          LEAD(at, 1, stop) OVER (PARTITION BY device_id ORDER BY at, seq) AS until
        FROM changes
      )
      SELECT device_id,
        CAST(SUM(CASE WHEN online = 1 THEN until - at ELSE 0 END) AS BIGINT) AS online_ms,
        MAX(stop - start) AS observed_ms
      FROM spans GROUP BY device_id`.execute(db);
    for (const r of status) {
      const t = of(r.device_id);
      t.onlineMs += r.online_ms;
      t.observedMs += r.observed_ms;
    }
    return totals;
  }
}

/** SQLite's order of text (by bytes): PostgreSQL's depends on the database's collation. */
function byId<T>(key: (row: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * Retention for the status log: drops changes older than `cutoff` except each
 * device's last one before it, which still tells the state at the cutoff. Of
 * changes at the same instant the one logged last (the largest seq) is kept.
 */
export async function pruneDeviceStatus(sqlDb: SqlDb, cutoff: number): Promise<number> {
  const result = await sql`
    DELETE FROM device_status WHERE seq IN (
      SELECT s.seq FROM device_status s
      WHERE s.at < ${cutoff} AND EXISTS (
        SELECT 1 FROM device_status t
        WHERE t.device_id = s.device_id AND t.at < ${cutoff}
          AND (t.at > s.at OR (t.at = s.at AND t.seq > s.seq))))`.execute(sqlDb.db);
  return Number(result.numAffectedRows ?? 0);
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
  return [
    n.broadcasts,
    n.finished,
    n.failed,
    n.missed,
    n.stopped,
    percent(n.successRate),
    n.minutesOnAir.toFixed(1),
    percent(n.uptime),
  ];
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
