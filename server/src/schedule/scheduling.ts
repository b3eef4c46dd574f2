/**
 * The scheduling capability wired together: content library, programmes,
 * schedules with approval, occurrence materialisation, the calendar, and the
 * node-cron housekeeping (horizon roll-forward, retention clean-up).
 */
import type { RulesGuard } from '../rules/guard';
import fs from 'node:fs';
import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Priority } from '@loaxa/protocol';
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql';
import type { DeviceRegistry } from '../devices/registry';
import type { MediaStore } from '../media/store';
import type { Mp3Renditions } from '../media/renditions';
import type { NoticeRenderer } from '../tts/render';
import type { Planner } from '../broadcasts/planner';
import { ContentLibrary, GENERATED_ENGINES } from './content';
import { ProgrammeService } from './programmes';
import { ScheduleService } from './schedules';
import { OccurrenceMaterialiser } from './materialise';
import { pruneDeviceStatus, Reports } from '../reports/reports';
import type { Scope } from '../tenancy/scope';

export interface CalendarEntry {
  occurrenceId: string;
  communeId: string;
  scheduleId: string | null;
  title: string;
  priority: Priority;
  start: string;
  end: string;
  cancelled: boolean;
  devices: number;
  finished: number;
  failed: number;
  /** The commune's broadcast rules this play breaks (never for an emergency or a cancelled one). */
  ruleBreaks: { rule: string; message: string }[];
  /** A leader let it through the rules: the written reason, and who. */
  ruleOverride: { reason: string; by: string } | null;
}

/** Media never referenced for this long after its last use may go. */
const MEDIA_GRACE_MS = 30 * 24 * 3600_000;

export class Scheduling {
  readonly content: ContentLibrary;
  readonly programmes: ProgrammeService;
  readonly schedules: ScheduleService;
  readonly materialiser: OccurrenceMaterialiser;
  private tasks: ScheduledTask[] = [];
  /** The roll-forward running now, and the one that waits to run after it (see rollForward). */
  private rolling: Promise<number> | null = null;
  private rollQueued: Promise<number> | null = null;
  /** The retention clean-up running now. */
  private cleaning: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: {
      /** The shared query layer (db/sql.ts): everything scheduling stores. */
      sql: SqlDb;
      registry: DeviceRegistry;
      media: MediaStore;
      renderer: NoticeRenderer;
      planner: Planner;
      /** Makes the MP3 copies a re-plan needs for devices that ask for MP3. */
      renditions?: Mp3Renditions;
      logger: Logger;
      timeZone: string;
      /** The communes' broadcast rules (absent: nothing is checked). */
      guard?: RulesGuard;
      /** The volume ceiling of a commune's rules at an instant (absent: none). */
      volumeCeiling?: (communeId: string, startAt: number) => number | null;
      horizonDays: number;
      retentionDays: number;
      now?: () => number;
    },
  ) {
    const now = deps.now ?? Date.now;
    this.content = new ContentLibrary(deps.sql, deps.media, deps.renderer, now);
    this.programmes = new ProgrammeService(deps.sql, this.content, now);
    this.materialiser = new OccurrenceMaterialiser(deps.sql, deps.registry, {
      horizonMs: deps.horizonDays * 24 * 3600_000,
      now,
      ...(deps.volumeCeiling ? { volumeCeiling: deps.volumeCeiling } : {}),
    });
    this.schedules = new ScheduleService({
      sqlDb: deps.sql,
      registry: deps.registry,
      programmes: this.programmes,
      materialiser: this.materialiser,
      replan: (devices) => this.replan(devices),
      defaultTimezone: deps.timeZone,
      ...(deps.guard ? { guard: deps.guard } : {}),
      now,
    });
  }

  async replan(devices: Set<string>): Promise<void> {
    if (devices.size === 0) return;
    await this.deps.renditions?.prepareDevices(devices);
    await this.deps.planner.publishPlans(devices);
    this.deps.logger.debug({ devices: devices.size }, 're-planned devices');
  }

  /**
   * Rolls the horizon forward: new or changed occurrences reach their devices'
   * plans, and so do occurrences stored earlier beyond the horizon (a broadcast
   * `at` a time next month) as they come inside it. How far plans were sent is
   * kept in the database, so a restart or a day of downtime skips nothing.
   *
   * One roll at a time: called while one runs, it waits for it and rolls once
   * more after (every call made meanwhile shares that one), so nothing changed
   * during the running roll is missed and no two rolls write at once.
   */
  rollForward(): Promise<number> {
    if (this.rollQueued) return this.rollQueued;
    if (!this.rolling) return this.startRoll();
    const queued = this.rolling
      .catch(() => undefined)
      .then(() => {
        this.rollQueued = null;
        return this.startRoll();
      });
    this.rollQueued = queued;
    return queued;
  }

  private startRoll(): Promise<number> {
    const run: Promise<number> = (this.stopped ? Promise.resolve(0) : this.rollOnce()).finally(() => {
      if (this.rolling === run) this.rolling = null;
    });
    this.rolling = run;
    return run;
  }

  private async rollOnce(): Promise<number> {
    const affected = await this.materialiser.materialiseAll();
    const through = this.now() + this.materialiser.horizonMs;
    for (const d of await this.devicesEnteringHorizon(through)) affected.add(d);
    await this.replan(affected);
    await this.deps.sql.db
      .insertInto('meta')
      .values({ key: 'plans_through', value: String(through) })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
    return affected.size;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Devices with a planned occurrence starting between the last roll's horizon end and `through`. */
  private async devicesEnteringHorizon(through: number): Promise<string[]> {
    const { db } = this.deps.sql;
    const row: { value: string } | undefined = await db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'plans_through')
      .executeTakeFirst();
    const from = Math.min(row ? Number(row.value) : this.now(), through);
    const rows: { device_id: string }[] = await db
      .selectFrom('occurrences as o')
      .innerJoin('deliveries as d', 'd.occurrence_id', 'o.id')
      .select('d.device_id')
      .distinct()
      .where('o.command_id', 'is', null)
      .where('o.cancelled_at', 'is', null)
      .where('o.stopped_at', 'is', null)
      .where('o.start_at', '>=', from)
      .where('o.start_at', '<', through)
      .execute();
    return rows.map((r) => r.device_id);
  }

  /**
   * Zone membership or a device changed: the deliveries of schedules that
   * reach those devices follow, and the devices always get a fresh plan
   * (their zone list changed).
   */
  async membershipChanged(deviceIds: string[]): Promise<void> {
    const affected = await this.materialiser.materialiseForDevices(deviceIds);
    for (const d of deviceIds) affected.add(d);
    await this.replan(affected);
  }

  /** Deletes history older than the retention period and media nothing uses any more. */
  async cleanup(now = Date.now()): Promise<{ occurrences: number; acks: number; deviceStatus: number; media: number }> {
    const { sql: sqlDb, media } = this.deps;
    const { db } = sqlDb;
    const cutoff = now - this.deps.retentionDays * 24 * 3600_000;
    const occurrences = Number(
      (
        await db
          .deleteFrom('occurrences')
          .where(sql`start_at + duration_ms`, '<', cutoff)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    const acks = Number(
      (await db.deleteFrom('acks').where('received_at', '<', cutoff).executeTakeFirst()).numDeletedRows,
    );
    const deviceStatus = await pruneDeviceStatus(sqlDb, cutoff);
    // The last week's closed days summed for the province's reports before anyone asks.
    await new Reports(sqlDb, () => now).rollUp(7, cutoff);
    // A file named inside a JSON column (content versions, frozen assets) is found with LIKE:
    // the name is hex, so it holds no wildcard, on both engines.
    const named = (column: string) => sql`${sql.ref(column)} LIKE ('%' || m.sha256 || '%')`;
    const { rows: stale } = await sql<{ sha256: string; format: 'ogg' | 'mp3' }>`
      SELECT m.sha256, m.format FROM media m
      WHERE m.created_at < ${now - MEDIA_GRACE_MS}
        AND NOT EXISTS (SELECT 1 FROM content_items c WHERE c.sha256 = m.sha256 OR ${named('c.versions')})
        AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.sha256 = m.sha256 OR ${named('o.assets')})
        AND NOT EXISTS (SELECT 1 FROM schedules s WHERE ${named('s.approved_assets')}
          OR ${named('s.approved_versions')})
        AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.sha256 = m.sha256
          AND r.engine IN (${sql.join([...GENERATED_ENGINES])}))
        -- A rendition stays while its source does, and goes with it (below).
        AND NOT EXISTS (SELECT 1 FROM media_renditions mr WHERE mr.sha256 = m.sha256)`.execute(db);
    let removed = 0;
    for (const m of stale) {
      const files = await db.transaction().execute(async (tx) => {
        const renditions: { sha256: string; format: 'ogg' | 'mp3' }[] = await tx
          .selectFrom('media_renditions as r')
          .innerJoin('media as m', 'm.sha256', 'r.sha256')
          .select(['m.sha256', 'm.format'])
          .where('r.source_sha256', '=', m.sha256)
          .execute();
        await tx.deleteFrom('media_renditions').where('source_sha256', '=', m.sha256).execute();
        await tx.deleteFrom('renders').where('sha256', '=', m.sha256).execute();
        await tx.deleteFrom('media').where('sha256', '=', m.sha256).execute();
        // Two sources with the same sound can share one MP3 file: it goes with the last of them.
        const orphaned: typeof renditions = [];
        for (const r of renditions) {
          const unused = (table: string) =>
            sql<boolean>`NOT EXISTS (SELECT 1 FROM ${sql.table(table)} WHERE sha256 = ${r.sha256})`;
          const gone = await tx
            .deleteFrom('media')
            .where('sha256', '=', r.sha256)
            .where(unused('media_renditions'))
            .where(unused('content_items'))
            .where(unused('occurrences'))
            .where(unused('renders'))
            .executeTakeFirst();
          if (Number(gone.numDeletedRows) > 0) orphaned.push(r);
        }
        return [m, ...orphaned];
      });
      // The files go after the commit: a rolled-back deletion keeps them.
      for (const f of files) fs.rmSync(path.join(media.root, media.relativePath(f.sha256, f.format)), { force: true });
      removed += files.length;
    }
    return { occurrences, acks, deviceStatus, media: removed };
  }

  /** What plays when in `scope`, for the week view: occurrences overlapping [from, to). */
  async calendar(scope: Scope, from: number, to: number): Promise<CalendarEntry[]> {
    const rows = (await this.deps.sql.db
      .selectFrom('occurrences as o')
      .leftJoin('deliveries as d', 'd.occurrence_id', 'o.id')
      .select(['o.id', 'o.commune_id', 'o.schedule_id', 'o.title', 'o.priority', 'o.start_at', 'o.duration_ms'])
      .select('o.cancelled_at')
      .select((eb) => [
        eb.fn.count<number>('d.device_id').as('devices'),
        sql<number>`CAST(SUM(CASE WHEN d.stage = 'finished' THEN 1 ELSE 0 END) AS BIGINT)`.as('finished'),
        sql<number>`CAST(SUM(CASE WHEN d.stage = 'failed' THEN 1 ELSE 0 END) AS BIGINT)`.as('failed'),
      ])
      .where('o.start_at', '<', to)
      .where(sql`o.start_at + o.duration_ms`, '>', from)
      .$if(scope.communeId !== null, (q) => q.where('o.commune_id', '=', scope.communeId))
      // o.id is the key: PostgreSQL takes the other columns of o as grouped with it.
      .groupBy('o.id')
      .orderBy('o.start_at')
      .orderBy('o.id')
      .limit(5000)
      .execute()) as {
      id: string;
      commune_id: string;
      schedule_id: string | null;
      title: string;
      priority: Priority;
      start_at: number;
      duration_ms: number;
      cancelled_at: number | null;
      devices: number;
      finished: number | null;
      failed: number | null;
    }[];
    const breaks = await this.calendarRuleBreaks(rows, from);
    const overrides = await this.overridesOf(rows.flatMap((r) => [r.id, ...(r.schedule_id ? [r.schedule_id] : [])]));
    return rows.map((r) => ({
      occurrenceId: r.id,
      communeId: r.commune_id,
      scheduleId: r.schedule_id,
      title: r.title,
      priority: r.priority,
      start: new Date(r.start_at).toISOString(),
      end: new Date(r.start_at + r.duration_ms).toISOString(),
      cancelled: r.cancelled_at !== null,
      devices: r.devices,
      finished: r.finished ?? 0,
      failed: r.failed ?? 0,
      ruleBreaks: breaks.get(r.id) ?? [],
      ruleOverride: overrides.get(r.id) ?? (r.schedule_id ? (overrides.get(r.schedule_id) ?? null) : null),
    }));
  }

  /** Each occurrence's rule breaks, by id: the communes' normal and priority plays checked in start order. */
  private async calendarRuleBreaks(
    rows: readonly {
      id: string;
      commune_id: string;
      priority: Priority;
      start_at: number;
      duration_ms: number;
      cancelled_at: number | null;
    }[],
    from: number,
  ): Promise<Map<string, { rule: string; message: string }[]>> {
    const out = new Map<string, { rule: string; message: string }[]>();
    const guard = this.deps.guard;
    if (!guard) return out;
    const byCommune = new Map<string, typeof rows>();
    for (const r of rows) {
      // Language versions follow their notice: they are not sessions of their own.
      if (r.priority === 'emergency' || r.cancelled_at !== null || r.id.includes(':')) continue;
      byCommune.set(r.commune_id, [...(byCommune.get(r.commune_id) ?? []), r]);
    }
    for (const [communeId, plays] of byCommune) {
      const sorted = [...plays].sort((a, b) => a.start_at - b.start_at);
      const found = await guard.review(
        communeId,
        sorted.map((p) => ({ startAt: p.start_at, durationMs: p.duration_ms })),
        from,
      );
      for (const b of found) {
        const play = sorted.find((p) => p.start_at === b.startAt);
        if (play) out.set(play.id, [...(out.get(play.id) ?? []), { rule: b.rule, message: b.message }]);
      }
    }
    return out;
  }

  /** The rule overrides recorded for these occurrences and schedules (the audit log keeps them). */
  private async overridesOf(targets: readonly string[]): Promise<Map<string, { reason: string; by: string }>> {
    if (targets.length === 0) return new Map();
    const rows: { target: string; actor: string; detail: string | null }[] = await this.deps.sql.db
      .selectFrom('audit_log')
      .select(['target', 'actor', 'detail'])
      .where('action', '=', 'rules.override')
      .where('target', 'in', [...new Set(targets)])
      .orderBy('id')
      .execute();
    return new Map(
      rows.map((r) => [
        r.target,
        { reason: String((JSON.parse(r.detail ?? '{}') as { reason?: unknown }).reason ?? ''), by: r.actor },
      ]),
    );
  }

  /**
   * Materialises now, then keeps the horizon rolling and the history trimmed. Only the leader
   * among the server instances runs it (cluster/leadership.ts).
   */
  async start(): Promise<void> {
    // Again after a stop(): an instance that lost the leadership and wins it back.
    this.stopped = false;
    const planned = await this.rollForward();
    this.deps.logger.info({ devices: planned }, 'schedules materialised');
    const { logger, timeZone } = this.deps;
    this.tasks.push(
      cron.schedule(
        '*/10 * * * *',
        async () => {
          try {
            await this.rollForward();
          } catch (err) {
            logger.error({ err }, 'horizon roll-forward failed');
          }
        },
        { name: 'loaxa-horizon', noOverlap: true },
      ),
      cron.schedule(
        '30 3 * * *',
        async () => {
          if (this.stopped) return;
          const run = this.cleanup();
          this.cleaning = run;
          try {
            logger.info(await run, 'retention clean-up done');
          } catch (err) {
            logger.error({ err }, 'retention clean-up failed');
          } finally {
            if (this.cleaning === run) this.cleaning = null;
          }
        },
        { name: 'loaxa-cleanup', timezone: timeZone, noOverlap: true },
      ),
    );
  }

  /** Stops the timers and waits for a roll-forward or clean-up that is running (the database closes next). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.tasks) void t.stop();
    this.tasks = [];
    await Promise.allSettled([this.rollQueued, this.rolling, this.cleaning]);
  }
}
