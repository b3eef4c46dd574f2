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
import type { Db } from '../db/database';
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
import { inScope, type Scope } from '../tenancy/scope';

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

  constructor(
    private readonly deps: {
      db: Db;
      /** The shared query layer over the same database (db/sql.ts): the reports' clean-up runs on it. */
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
    this.content = new ContentLibrary(deps.db, deps.media, deps.renderer, now);
    this.programmes = new ProgrammeService(deps.db, this.content, now);
    this.materialiser = new OccurrenceMaterialiser(deps.db, deps.registry, {
      horizonMs: deps.horizonDays * 24 * 3600_000,
      now,
      ...(deps.volumeCeiling ? { volumeCeiling: deps.volumeCeiling } : {}),
    });
    this.schedules = new ScheduleService({
      db: deps.db,
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
   */
  async rollForward(): Promise<number> {
    const affected = this.materialiser.materialiseAll();
    const through = this.now() + this.materialiser.horizonMs;
    for (const d of this.devicesEnteringHorizon(through)) affected.add(d);
    await this.replan(affected);
    this.deps.db
      .prepare(
        `INSERT INTO meta (key, value) VALUES ('plans_through', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      )
      .run(String(through));
    return affected.size;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Devices with a planned occurrence starting between the last roll's horizon end and `through`. */
  private devicesEnteringHorizon(through: number): string[] {
    const { db } = this.deps;
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'plans_through'`).get() as { value: string } | undefined;
    const from = Math.min(row ? Number(row.value) : this.now(), through);
    return (
      db
        .prepare(
          `SELECT DISTINCT d.device_id FROM occurrences o JOIN deliveries d ON d.occurrence_id = o.id
           WHERE o.command_id IS NULL AND o.cancelled_at IS NULL AND o.stopped_at IS NULL
             AND o.start_at >= ? AND o.start_at < ?`,
        )
        .all(from, through) as { device_id: string }[]
    ).map((r) => r.device_id);
  }

  /**
   * Zone membership or a device changed: the deliveries of schedules that
   * reach those devices follow, and the devices always get a fresh plan
   * (their zone list changed).
   */
  async membershipChanged(deviceIds: string[]): Promise<void> {
    const affected = this.materialiser.materialiseForDevices(deviceIds);
    for (const d of deviceIds) affected.add(d);
    await this.replan(affected);
  }

  /** Deletes history older than the retention period and media nothing uses any more. */
  async cleanup(now = Date.now()): Promise<{ occurrences: number; acks: number; deviceStatus: number; media: number }> {
    const { db, sql, media } = this.deps;
    const cutoff = now - this.deps.retentionDays * 24 * 3600_000;
    const occurrences = db.prepare('DELETE FROM occurrences WHERE start_at + duration_ms < ?').run(cutoff).changes;
    const acks = db.prepare('DELETE FROM acks WHERE received_at < ?').run(cutoff).changes;
    const deviceStatus = await pruneDeviceStatus(sql, cutoff);
    // The last week's closed days summed for the province's reports before anyone asks.
    await new Reports(sql, () => now).rollUp(7, cutoff);
    const stale = db
      .prepare(
        `SELECT m.sha256, m.format FROM media m
         WHERE m.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM content_items c WHERE c.sha256 = m.sha256 OR instr(c.versions, m.sha256) > 0)
           AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.sha256 = m.sha256 OR instr(o.assets, m.sha256) > 0)
           AND NOT EXISTS (SELECT 1 FROM schedules s WHERE instr(s.approved_assets, m.sha256) > 0
             OR instr(s.approved_versions, m.sha256) > 0)
           AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.sha256 = m.sha256
             AND r.engine IN (SELECT value FROM json_each(?)))
           -- A rendition stays while its source does, and goes with it (below).
           AND NOT EXISTS (SELECT 1 FROM media_renditions mr WHERE mr.sha256 = m.sha256)`,
      )
      .all(now - MEDIA_GRACE_MS, JSON.stringify(GENERATED_ENGINES)) as { sha256: string; format: 'ogg' | 'mp3' }[];
    let removed = 0;
    for (const m of stale) {
      const files = db.transaction(() => {
        const renditions = db
          .prepare(
            `SELECT m.sha256, m.format FROM media_renditions r JOIN media m ON m.sha256 = r.sha256
             WHERE r.source_sha256 = ?`,
          )
          .all(m.sha256) as { sha256: string; format: 'ogg' | 'mp3' }[];
        db.prepare('DELETE FROM media_renditions WHERE source_sha256 = ?').run(m.sha256);
        db.prepare('DELETE FROM renders WHERE sha256 = ?').run(m.sha256);
        db.prepare('DELETE FROM media WHERE sha256 = ?').run(m.sha256);
        // Two sources with the same sound can share one MP3 file: it goes with the last of them.
        const orphaned = renditions.filter(
          (r) =>
            db
              .prepare(
                `DELETE FROM media WHERE sha256 = ?
                   AND NOT EXISTS (SELECT 1 FROM media_renditions WHERE sha256 = ?)
                   AND NOT EXISTS (SELECT 1 FROM content_items WHERE sha256 = ?)
                   AND NOT EXISTS (SELECT 1 FROM occurrences WHERE sha256 = ?)
                   AND NOT EXISTS (SELECT 1 FROM renders WHERE sha256 = ?)`,
              )
              .run(r.sha256, r.sha256, r.sha256, r.sha256, r.sha256).changes > 0,
        );
        return [m, ...orphaned];
      })();
      for (const f of files) fs.rmSync(path.join(media.root, media.relativePath(f.sha256, f.format)), { force: true });
      removed += files.length;
    }
    return { occurrences, acks, deviceStatus, media: removed };
  }

  /** What plays when in `scope`, for the week view: occurrences overlapping [from, to). */
  calendar(scope: Scope, from: number, to: number): CalendarEntry[] {
    const rows = this.deps.db
      .prepare(
        `SELECT o.id, o.commune_id, o.schedule_id, o.title, o.priority, o.start_at, o.duration_ms, o.cancelled_at,
           COUNT(d.device_id) AS devices,
           SUM(d.stage = 'finished') AS finished,
           SUM(d.stage = 'failed') AS failed
         FROM occurrences o LEFT JOIN deliveries d ON d.occurrence_id = o.id
         WHERE o.start_at < ? AND o.start_at + o.duration_ms > ? AND (? IS NULL OR o.commune_id = ?)
         GROUP BY o.id ORDER BY o.start_at LIMIT 5000`,
      )
      .all(to, from, ...inScope(scope)) as {
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
    const breaks = this.calendarRuleBreaks(rows, from);
    const overrides = this.overridesOf(rows.flatMap((r) => [r.id, ...(r.schedule_id ? [r.schedule_id] : [])]));
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
  private calendarRuleBreaks(
    rows: readonly {
      id: string;
      commune_id: string;
      priority: Priority;
      start_at: number;
      duration_ms: number;
      cancelled_at: number | null;
    }[],
    from: number,
  ): Map<string, { rule: string; message: string }[]> {
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
      const found = guard.review(
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
  private overridesOf(targets: readonly string[]): Map<string, { reason: string; by: string }> {
    if (targets.length === 0) return new Map();
    const rows = this.deps.db
      .prepare(
        `SELECT target, actor, detail FROM audit_log
         WHERE action = 'rules.override' AND target IN (SELECT value FROM json_each(?)) ORDER BY id`,
      )
      .all(JSON.stringify([...new Set(targets)])) as { target: string; actor: string; detail: string | null }[];
    return new Map(
      rows.map((r) => [
        r.target,
        { reason: String((JSON.parse(r.detail ?? '{}') as { reason?: unknown }).reason ?? ''), by: r.actor },
      ]),
    );
  }

  /** Materialises now, then keeps the horizon rolling and the history trimmed. */
  async start(): Promise<void> {
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
          try {
            logger.info(await this.cleanup(), 'retention clean-up done');
          } catch (err) {
            logger.error({ err }, 'retention clean-up failed');
          }
        },
        { name: 'loaxa-cleanup', timezone: timeZone, noOverlap: true },
      ),
    );
  }

  stop(): void {
    for (const t of this.tasks) void t.stop();
    this.tasks = [];
  }
}
