/**
 * Schedules: a programme put on the calendar for zones and/or devices, with
 * an approval workflow (draft → submitted → approved | rejected; cancelled).
 * Only approved schedules go on air, and they air the programme as it was
 * when approved. Every change re-materialises the occurrences and re-plans
 * exactly the devices whose plans changed.
 */
import type { Play, RuleBreak } from '../rules/broadcast-rules';
import type { RuleOverride, RulesGuard } from '../rules/guard';
import { parsePublicItems } from '../public/items';
import crypto from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';
import type { Priority } from '@loaxa/protocol';
import { sql, type Kysely } from 'kysely';
import type { SqlDb, Tables } from '../db/sql';
import type { DeviceRegistry } from '../devices/registry';
import { badInput, notFound, ScheduleInputError } from './errors';
import { expandRule, RuleError, validateRule, type ScheduleRule } from './recurrence';
import { findConflicts, type Booking, type Conflict } from './conflicts';
import { newId } from './content';
import type { ProgrammeService, ProgrammeView } from './programmes';
import { activeDevices, targetsOf, type OccurrenceMaterialiser, type ScheduleRow } from './materialise';
import { communeScope, PROVINCE, type Scope } from '../tenancy/scope';

export type ScheduleStatus = ScheduleRow['status'];

export interface ScheduleInput {
  title: string;
  programmeId: string;
  rule: ScheduleRule;
  timezone?: string;
  priority?: Priority;
  volume?: number | null;
  /** Play the programme this many times in a row… */
  repeat?: number;
  /** …with this gap between passes. */
  repeatGapMs?: number;
  zones?: string[];
  devices?: string[];
  /** 'reject' (default): overlaps are refused with the list; 'priority': accepted, devices order by priority. */
  onConflict?: 'reject' | 'priority';
  /** A leader lets a one-off play through the commune's broadcast rules (rules/guard.ts), with a reason. */
  overrideRules?: RuleOverride;
}

export interface ScheduleView {
  id: string;
  /** The commune it belongs to; its programme, zones and loudspeakers are all of this commune. */
  communeId: string;
  title: string;
  programmeId: string;
  programmeTitle: string | null;
  rule: ScheduleRule;
  timezone: string;
  priority: Priority;
  volume: number | null;
  repeat: number;
  repeatGapMs: number;
  zones: string[];
  devices: string[];
  status: ScheduleStatus;
  programmeChanged: boolean;
  reviewReason: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  revision: number;
  /**
   * Names exactly what an approver reviews: this schedule's revision, its
   * programme's and that of every content item in it. Approval carries it back.
   */
  reviewRevision: string;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** One pass of the programme times repeat, gaps included. */
  durationMs: number;
  /** The items the public page shows once aired (frozen at approval; pending: what approval would confirm). */
  publicTitles: string[];
  /** Set on the answer to a create or change that a leader let through the broadcast rules. */
  ruleOverride?: { reason: string; breaks: RuleBreak[] };
}

/** A broadcast rule the schedule would break, as the conflict preview shows it. */
export interface RuleBreakView {
  rule: RuleBreak['rule'];
  startAt: string;
  message: string;
}

export interface ConflictView {
  deviceIds: string[];
  otherScheduleId: string;
  otherTitle: string;
  otherPriority: Priority;
  start: string;
  end: string;
  otherStart: string;
  otherEnd: string;
}

export interface Actor {
  username: string;
  /** May approve others' schedules. */
  canApprove: boolean;
  /** May put a schedule on air without someone else's approval. */
  canPublish: boolean;
}

/** A schedule's input as checked, with the commune it belongs to. */
type CheckedSchedule = Required<Omit<ScheduleInput, 'onConflict' | 'overrideRules'>> & { communeId: string };

/** How far ahead conflicts are looked for. */
export const CONFLICT_WINDOW_MS = 366 * 24 * 3600_000;
export const MAX_REPEAT = 10;
/** Target rows per INSERT when a schedule's targets are written. */
const TARGET_ROWS_PER_INSERT = 500;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class ScheduleService {
  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      registry: DeviceRegistry;
      programmes: ProgrammeService;
      materialiser: OccurrenceMaterialiser;
      /** Publishes fresh plans to these devices. */
      replan: (deviceIds: Set<string>) => Promise<void>;
      defaultTimezone: string;
      /** The commune's broadcast rules; absent, nothing is checked. */
      guard?: RulesGuard;
      now?: () => number;
    },
  ) {}

  private get db(): Kysely<Tables> {
    return this.deps.sqlDb.db;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** A schedule visible in `scope`; one of another commune answers exactly as an unknown id. */
  private async row(scope: Scope, id: string, db: Kysely<Tables> = this.db): Promise<ScheduleRow> {
    const row = (await db
      .selectFrom('schedules')
      .selectAll()
      .where('id', '=', id)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst()) as ScheduleRow | undefined;
    if (!row) throw notFound('id', `no schedule with id ${id}`);
    return row;
  }

  private async view(r: ScheduleRow): Promise<ScheduleView> {
    const { zones, devices } = await targetsOf(this.db, r.id);
    const programme = await this.deps.programmes.get(communeScope(r.commune_id), r.programme_id);
    return {
      id: r.id,
      communeId: r.commune_id,
      title: r.title,
      programmeId: r.programme_id,
      programmeTitle: programme?.title ?? null,
      rule: JSON.parse(r.rule) as ScheduleRule,
      timezone: r.timezone,
      priority: r.priority,
      volume: r.volume,
      repeat: r.repeat,
      repeatGapMs: r.repeat_gap_ms,
      zones,
      devices,
      status: r.status,
      programmeChanged: r.programme_changed === 1,
      reviewReason: r.review_reason,
      reviewedBy: r.reviewed_by,
      reviewedAt: iso(r.reviewed_at),
      revision: r.revision,
      reviewRevision: revisionName(r, fingerprintOf(programme, r.programme_id)),
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
      durationMs: programme ? this.passDuration(programme.durationMs, r.repeat, r.repeat_gap_ms) : 0,
      publicTitles: await this.publicTitles(r, programme !== null),
    };
  }

  /** What the public page shows of it once aired: as approved, or as approving it now would confirm. */
  private async publicTitles(r: ScheduleRow, hasProgramme: boolean): Promise<string[]> {
    const pending = r.status !== 'approved' || r.programme_changed === 1;
    const items =
      pending && hasProgramme
        ? await this.deps.programmes.publicItemsOf(communeScope(r.commune_id), r.programme_id)
        : parsePublicItems(r.approved_public);
    return items.map((i) => i.title);
  }

  /**
   * The programme and its content as they would air now (see ScheduleView.reviewRevision).
   * In a transaction that writes on the strength of it, `lock` holds what was read (ProgrammeService.get).
   */
  private async programmeFingerprint(
    communeId: string,
    programmeId: string,
    db: Kysely<Tables> = this.db,
    lock = false,
  ): Promise<string> {
    return fingerprintOf(
      await this.deps.programmes.get(communeScope(communeId), programmeId, db, { lock }),
      programmeId,
    );
  }

  async reviewRevision(
    r: Pick<ScheduleRow, 'id' | 'revision' | 'programme_id' | 'commune_id'>,
    db: Kysely<Tables> = this.db,
    lock = false,
  ): Promise<string> {
    return revisionName(r, await this.programmeFingerprint(r.commune_id, r.programme_id, db, lock));
  }

  /** A 409 that carries the schedule as it is now, for the console to show. */
  private async changedMeanwhile(id: string, what: string): Promise<ScheduleInputError> {
    // Only ever about a schedule the caller already read in their scope.
    const current = await this.view(await this.row(PROVINCE, id));
    return new ScheduleInputError(
      409,
      'revision',
      `${what} (the schedule is now ${current.status}, revision ${current.revision}); reload it and try again`,
      { current },
    );
  }

  /**
   * Compare-and-set: the write lands only if the schedule is still at the
   * revision it was read at. Every transition goes through here, so a cancel
   * that lands while an approval waits for its audio is never overwritten.
   * False when it did not land (`db` may be a transaction: the caller answers the 409 after it).
   */
  private async writeIf(db: Kysely<Tables>, r: ScheduleRow, values: Record<string, unknown>): Promise<boolean> {
    const result = await db
      .updateTable('schedules')
      .set({ ...values, revision: sql`revision + 1`, updated_at: this.now() })
      .where('id', '=', r.id)
      .where('revision', '=', r.revision)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** writeIf outside a transaction: a 409 naming `what` when the schedule moved on. */
  private async writeOrConflict(r: ScheduleRow, values: Record<string, unknown>, what: string): Promise<void> {
    if (!(await this.writeIf(this.db, r, values))) throw await this.changedMeanwhile(r.id, what);
  }

  private passDuration(programmeMs: number, repeat: number, gapMs: number): number {
    return programmeMs * repeat + gapMs * (repeat - 1);
  }

  async get(scope: Scope, id: string): Promise<ScheduleView> {
    return this.view(await this.row(scope, id));
  }

  /** The commune of a schedule visible in `scope` (404 as for an unknown id otherwise). */
  async communeOf(scope: Scope, id: string): Promise<string> {
    return (await this.row(scope, id)).commune_id;
  }

  async list(scope: Scope, filter: { status?: ScheduleStatus[] } = {}): Promise<ScheduleView[]> {
    const { status } = filter;
    const rows = (await this.db
      .selectFrom('schedules')
      .selectAll()
      .$if(!!status?.length, (q) => q.where('status', 'in', status!))
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .orderBy('updated_at', 'desc')
      .execute()) as ScheduleRow[];
    return this.views(rows);
  }

  private async views(rows: ScheduleRow[]): Promise<ScheduleView[]> {
    const out: ScheduleView[] = [];
    for (const r of rows) out.push(await this.view(r));
    return out;
  }

  /** Submitted schedules and approved ones whose programme changed since approval. */
  async approvalQueue(scope: Scope): Promise<ScheduleView[]> {
    const rows = (await this.db
      .selectFrom('schedules')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('status', '=', 'submitted'),
          eb.and([eb('status', '=', 'approved'), eb('programme_changed', '=', 1)]),
        ]),
      )
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .orderBy('updated_at')
      .execute()) as ScheduleRow[];
    return this.views(rows);
  }

  /**
   * Checks a schedule of `communeId`. Its programme, zones and loudspeakers
   * must be that commune's: another commune's id is refused as unknown.
   */
  private async check(communeId: string, input: ScheduleInput): Promise<CheckedSchedule> {
    const { registry, programmes, defaultTimezone } = this.deps;
    const scope = communeScope(communeId);
    const title = input.title.trim();
    if (!title) throw badInput('title', 'give the schedule a title');
    const programme = await programmes.get(scope, input.programmeId);
    if (!programme) throw badInput('programmeId', `no programme with id ${input.programmeId}`);
    const timezone = input.timezone ?? defaultTimezone;
    if (!IANAZone.isValidZone(timezone)) throw badInput('timezone', `${JSON.stringify(timezone)} is not a time zone`);
    try {
      validateRule(input.rule, timezone);
    } catch (err) {
      if (err instanceof RuleError) throw badInput(`rule.${err.field}`, err.message.replace(/^[^:]*: /, ''));
      throw err;
    }
    this.refusePast(input.rule, timezone, 'rule');
    const zones = [...new Set(input.zones ?? [])];
    const devices = [...new Set(input.devices ?? [])];
    if (zones.length === 0 && devices.length === 0) throw badInput('zones', 'choose at least one zone or loudspeaker');
    const unknownZones = await registry.unknownZones(zones, scope);
    if (unknownZones.length) throw badInput('zones', `unknown zone(s) ${unknownZones.join(', ')}`);
    const unknownDevices: string[] = [];
    for (const d of devices) if (!(await registry.getDevice(d, scope))) unknownDevices.push(d);
    if (unknownDevices.length) throw badInput('devices', `unknown loudspeaker(s) ${unknownDevices.join(', ')}`);
    const repeat = input.repeat ?? 1;
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT)
      throw badInput('repeat', `must be 1 … ${MAX_REPEAT}`);
    const repeatGapMs = input.repeatGapMs ?? 0;
    if (!Number.isInteger(repeatGapMs) || repeatGapMs < 0 || repeatGapMs > 600_000) {
      throw badInput('repeatGapMs', 'must be 0 … 600000 ms');
    }
    const volume = input.volume ?? null;
    if (volume !== null && (!Number.isInteger(volume) || volume < 0 || volume > 100)) {
      throw badInput('volume', 'must be 0 … 100');
    }
    return {
      communeId,
      title,
      programmeId: programme.id,
      rule: input.rule,
      timezone,
      priority: input.priority ?? 'normal',
      volume,
      repeat,
      repeatGapMs,
      zones,
      devices,
    };
  }

  /**
   * A schedule none of whose times is still ahead would be saved (or approved)
   * and never play: say so instead of accepting it silently.
   */
  private refusePast(rule: ScheduleRule, timezone: string, field: string): void {
    const now = this.now();
    if (expandRule(rule, timezone, now, now + CONFLICT_WINDOW_MS).length > 0) return;
    const last = rule.kind === 'once' ? `${rule.startDate} ${rule.times.at(-1) ?? ''}`.trim() : rule.endDate;
    throw badInput(
      field,
      `every time of this schedule is already past (${last ?? rule.startDate}, ${timezone}); choose a time from now on`,
    );
  }

  /** The schedule's airtime over the conflict window, per its devices. */
  private booking(
    id: string,
    title: string,
    priority: Priority,
    rule: ScheduleRule,
    timezone: string,
    durationMs: number,
    deviceIds: string[],
    window: [number, number],
  ): Booking {
    const starts = expandRule(rule, timezone, window[0], window[1]);
    return {
      scheduleId: id,
      title,
      priority,
      deviceIds,
      intervals: starts.map((s) => [s, s + Math.max(durationMs, 1)] as const),
    };
  }

  /**
   * Overlaps with submitted or approved schedules on any shared device.
   * Others are only expanded over the candidate's own span, which keeps the
   * check fast for a calendar full of year-long daily schedules.
   */
  async conflictsFor(
    candidate: CheckedSchedule,
    selfId: string | null,
  ): Promise<{ conflicts: ConflictView[]; total: number }> {
    const { db } = this;
    const { registry, programmes } = this.deps;
    const now = this.now();
    const scope = communeScope(candidate.communeId);
    const programme = (await programmes.get(scope, candidate.programmeId))!;
    const duration = this.passDuration(programme.durationMs, candidate.repeat, candidate.repeatGapMs);
    const deviceIds = await activeDevices(db, registry, candidate.communeId, candidate.zones, candidate.devices);
    const mine = this.booking(
      selfId ?? 'new',
      candidate.title,
      candidate.priority,
      candidate.rule,
      candidate.timezone,
      duration,
      deviceIds,
      [now, now + CONFLICT_WINDOW_MS],
    );
    if (mine.intervals.length === 0 || deviceIds.length === 0) return { conflicts: [], total: 0 };
    const span: [number, number] = [mine.intervals[0]![0] - 24 * 3600_000, mine.intervals.at(-1)![1]];
    const mineSet = new Set(deviceIds);
    const others: Booking[] = [];
    // A loudspeaker belongs to one commune: only its schedules can overlap (and only their titles may show).
    const rows = (await db
      .selectFrom('schedules')
      .selectAll()
      .where('status', 'in', ['submitted', 'approved'])
      .where('id', '!=', selfId ?? '')
      .where('commune_id', '=', candidate.communeId)
      .execute()) as ScheduleRow[];
    // Calendars repeat the same targets and programmes: resolve each once.
    const targetCache = new Map<string, string[]>();
    const durationCache = new Map<string, number | null>();
    for (const r of rows) {
      const targets = await targetsOf(db, r.id);
      const key = JSON.stringify(targets);
      let resolved = targetCache.get(key);
      if (!resolved) {
        resolved = (await activeDevices(db, registry, r.commune_id, targets.zones, targets.devices)).filter((d) =>
          mineSet.has(d),
        );
        targetCache.set(key, resolved);
      }
      const theirDevices = resolved;
      if (theirDevices.length === 0) continue;
      if (!durationCache.has(r.programme_id)) {
        durationCache.set(r.programme_id, (await programmes.get(scope, r.programme_id))?.durationMs ?? null);
      }
      const programmeMs = durationCache.get(r.programme_id);
      if (programmeMs == null) continue;
      others.push(
        this.booking(
          r.id,
          r.title,
          r.priority,
          JSON.parse(r.rule) as ScheduleRule,
          r.timezone,
          this.passDuration(programmeMs, r.repeat, r.repeat_gap_ms),
          theirDevices,
          span,
        ),
      );
    }
    const report = findConflicts(mine, others);
    return {
      total: report.total,
      conflicts: report.conflicts.map((c: Conflict) => ({
        deviceIds: c.deviceIds,
        otherScheduleId: c.otherScheduleId,
        otherTitle: c.otherTitle,
        otherPriority: c.otherPriority,
        start: new Date(c.start).toISOString(),
        end: new Date(c.end).toISOString(),
        otherStart: new Date(c.otherStart).toISOString(),
        otherEnd: new Date(c.otherEnd).toISOString(),
      })),
    };
  }

  /**
   * Overlaps a schedule would have, without saving it: a change to the
   * schedule `selfId` (visible in `scope`), or a new one in `communeId`.
   */
  async checkConflicts(
    scope: Scope,
    input: ScheduleInput,
    of: { selfId: string } | { communeId: string },
  ): Promise<{ conflicts: ConflictView[]; total: number; ruleBreaks: RuleBreakView[] }> {
    const selfId = 'selfId' in of ? of.selfId : null;
    const checked = await this.check(
      selfId ? (await this.row(scope, selfId)).commune_id : (of as { communeId: string }).communeId,
      input,
    );
    const { guard } = this.deps;
    const breaks = guard
      ? await guard.breaks(checked.communeId, await this.playsOf(checked), checked.priority, selfId ?? undefined)
      : [];
    return {
      ...(await this.conflictsFor(checked, selfId)),
      ruleBreaks: breaks.slice(0, 100).map((b) => ({ ...b, startAt: new Date(b.startAt).toISOString() })),
    };
  }

  /** The schedule's plays over the conflict window: when each starts and how long it lasts. */
  private async playsOf(checked: CheckedSchedule): Promise<Play[]> {
    const programme = (await this.deps.programmes.get(communeScope(checked.communeId), checked.programmeId))!;
    const durationMs = this.passDuration(programme.durationMs, checked.repeat, checked.repeatGapMs);
    const now = this.now();
    return expandRule(checked.rule, checked.timezone, now, now + CONFLICT_WINDOW_MS).map((startAt) => ({
      startAt,
      durationMs,
    }));
  }

  private async refuseConflicts(input: ScheduleInput, checked: CheckedSchedule, selfId: string | null): Promise<void> {
    if (input.onConflict === 'priority') return;
    const { conflicts, total } = await this.conflictsFor(checked, selfId);
    if (total === 0) return;
    const first = conflicts[0]!;
    const local = DateTime.fromISO(first.start, { zone: checked.timezone }).toFormat('dd/MM/yyyy HH:mm');
    throw new ScheduleInputError(
      409,
      'rule',
      `overlaps ${total} time(s) with other schedules, first with "${first.otherTitle}" on ${first.deviceIds.length} loudspeaker(s) at ${local}; shift the time or choose onConflict "priority"`,
      { conflicts, total },
    );
  }

  private async writeTargets(tx: Kysely<Tables>, id: string, zones: string[], devices: string[]): Promise<void> {
    await tx.deleteFrom('schedule_targets').where('schedule_id', '=', id).execute();
    const rows = [
      ...zones.map((z) => ({ schedule_id: id, kind: 'zone', target_id: z })),
      ...devices.map((d) => ({ schedule_id: id, kind: 'device', target_id: d })),
    ];
    // In slices: a schedule may name 5,500 targets, three parameters each.
    for (let i = 0; i < rows.length; i += TARGET_ROWS_PER_INSERT) {
      await tx
        .insertInto('schedule_targets')
        .values(rows.slice(i, i + TARGET_ROWS_PER_INSERT))
        .execute();
    }
  }

  /** Creates a draft in `communeId` (the route resolved it with CommuneService.forWrite). */
  async create(communeId: string, input: ScheduleInput, actor: Actor): Promise<ScheduleView> {
    const checked = await this.check(communeId, input);
    await this.refuseConflicts(input, checked, null);
    const override = await this.refuseRuleBreaks(input, checked, null, actor);
    const id = newId('sc');
    const at = this.now();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('schedules')
        .values({
          id,
          commune_id: communeId,
          title: checked.title,
          programme_id: checked.programmeId,
          rule: JSON.stringify(checked.rule),
          timezone: checked.timezone,
          priority: checked.priority,
          volume: checked.volume,
          repeat: checked.repeat,
          repeat_gap_ms: checked.repeatGapMs,
          status: 'draft',
          created_by: actor.username,
          created_at: at,
          updated_at: at,
        })
        .execute();
      await this.writeTargets(tx, id, checked.zones, checked.devices);
    });
    return { ...(await this.get(communeScope(communeId), id)), ...(override ? { ruleOverride: override } : {}) };
  }

  /**
   * Refuses a schedule whose plays over the next year break the commune's broadcast
   * rules (an emergency never does); a leader's override lets a one-off through.
   */
  private async refuseRuleBreaks(
    input: ScheduleInput,
    checked: CheckedSchedule,
    selfId: string | null,
    actor: Actor,
  ): Promise<{ reason: string; breaks: RuleBreak[] } | null> {
    const { guard } = this.deps;
    if (!guard) return null;
    const breaks = await guard.check(checked.communeId, await this.playsOf(checked), checked.priority, {
      override: input.overrideRules,
      mayOverride: actor.canApprove,
      ...(selfId ? { excludeScheduleId: selfId } : {}),
    });
    return breaks.length ? { reason: input.overrideRules!.reason, breaks } : null;
  }

  /**
   * Changes a schedule. A publisher's change stays on air (re-frozen); anyone
   * else's change goes back to draft and off air until approved again.
   * `input.revision`, when given, is the revision the writer saw.
   */
  async update(
    scope: Scope,
    id: string,
    input: ScheduleInput & { revision?: number },
    actor: Actor,
  ): Promise<ScheduleView> {
    const old = await this.row(scope, id);
    if (old.status === 'cancelled') throw new ScheduleInputError(409, 'status', 'a cancelled schedule cannot change');
    if (input.revision !== undefined && input.revision !== old.revision) {
      throw await this.changedMeanwhile(id, 'someone changed this schedule since you opened it');
    }
    const checked = await this.check(old.commune_id, input);
    await this.refuseConflicts(input, checked, id);
    const override = await this.refuseRuleBreaks(input, checked, id, actor);
    const staysOnAir = old.status === 'approved' && actor.canPublish;
    const airs = await this.programmeFingerprint(old.commune_id, checked.programmeId);
    const frozen = staysOnAir
      ? await this.freeze(old.commune_id, checked.programmeId, checked.repeat, checked.repeatGapMs)
      : null;
    const outcome = await this.db.transaction().execute(async (tx) => {
      if (staysOnAir && (await this.programmeFingerprint(old.commune_id, checked.programmeId, tx, true)) !== airs) {
        return 'the programme changed while its audio was prepared';
      }
      const written = await this.writeIf(tx, old, {
        title: checked.title,
        programme_id: checked.programmeId,
        rule: JSON.stringify(checked.rule),
        timezone: checked.timezone,
        priority: checked.priority,
        volume: checked.volume,
        repeat: checked.repeat,
        repeat_gap_ms: checked.repeatGapMs,
        status: staysOnAir ? 'approved' : 'draft',
        approved_assets: frozen?.assets ?? null,
        approved_public: frozen?.public ?? null,
        approved_versions: frozen?.versions ?? null,
        programme_changed: 0,
        reviewed_by: staysOnAir ? actor.username : null,
        reviewed_at: staysOnAir ? this.now() : null,
        review_reason: null,
      });
      if (!written) return 'someone changed this schedule meanwhile';
      await this.writeTargets(tx, id, checked.zones, checked.devices);
      return null;
    });
    if (outcome !== null) throw await this.changedMeanwhile(id, outcome);
    await this.replanSchedule(id);
    return { ...(await this.get(scope, id)), ...(override ? { ruleOverride: override } : {}) };
  }

  /**
   * Freezes what the schedule will air: its commune's programme's files, repeated, and
   * what of it the public page may show once aired (the approver confirms both).
   */
  private async freeze(communeId: string, programmeId: string, repeat: number, gapMs: number) {
    const scope = communeScope(communeId);
    const assets = await this.deps.programmes.assetsOf(scope, programmeId, repeat, gapMs);
    const publicItems = await this.deps.programmes.publicItemsOf(scope, programmeId);
    const versions = await this.deps.programmes.versionsOf(scope, programmeId);
    return {
      assets: JSON.stringify(assets),
      public: publicItems.length ? JSON.stringify(publicItems) : null,
      versions: versions.length ? JSON.stringify(versions) : null,
    };
  }

  /**
   * Puts the schedule on air with exactly what `reviewed` names (see
   * reviewRevision): checked before the audio is frozen and again, with the
   * write, after — anything changed in between answers 409.
   */
  private async approveNow(r: ScheduleRow, reviewer: string, reviewed: string): Promise<void> {
    const changed = 'the schedule, its programme or its content changed since it was reviewed';
    if ((await this.reviewRevision(r)) !== reviewed) throw await this.changedMeanwhile(r.id, changed);
    try {
      this.refusePast(JSON.parse(r.rule) as ScheduleRule, r.timezone, 'rule');
    } catch (err) {
      if (!(err instanceof ScheduleInputError)) throw err;
      throw new ScheduleInputError(409, 'rule', `${err.message.replace(/^rule: /, '')}; it would never play`, {
        current: await this.view(r),
      });
    }
    const frozen = await this.freeze(r.commune_id, r.programme_id, r.repeat, r.repeat_gap_ms);
    const outcome = await this.db.transaction().execute(async (tx) => {
      const now = await this.row(communeScope(r.commune_id), r.id, tx);
      if ((await this.reviewRevision(now, tx, true)) !== reviewed) return changed;
      const written = await this.writeIf(tx, r, {
        status: 'approved',
        approved_assets: frozen.assets,
        approved_public: frozen.public,
        approved_versions: frozen.versions,
        programme_changed: 0,
        reviewed_by: reviewer,
        reviewed_at: this.now(),
        review_reason: null,
      });
      return written ? null : 'someone changed this schedule meanwhile';
    });
    if (outcome !== null) throw await this.changedMeanwhile(r.id, outcome);
    await this.replanSchedule(r.id);
  }

  /** draft | rejected → submitted; a publisher's submission is approved at once. */
  async submit(scope: Scope, id: string, actor: Actor): Promise<ScheduleView> {
    const r = await this.row(scope, id);
    if (r.status !== 'draft' && r.status !== 'rejected') {
      throw new ScheduleInputError(
        409,
        'status',
        `only a draft or rejected schedule can be submitted (it is ${r.status})`,
        { current: await this.view(r) },
      );
    }
    if (actor.canPublish) {
      await this.approveNow(r, actor.username, await this.reviewRevision(r));
    } else {
      await this.writeOrConflict(
        r,
        { status: 'submitted', review_reason: null },
        'someone changed this schedule meanwhile',
      );
    }
    return this.get(scope, id);
  }

  /**
   * submitted → approved, or an approved schedule with a changed programme →
   * approved with the new version. `reviewed` is the reviewRevision the
   * approver saw: approval binds to exactly that.
   */
  async approve(scope: Scope, id: string, actor: Actor, reviewed: string): Promise<ScheduleView> {
    const r = await this.row(scope, id);
    if (!actor.canApprove) throw new ScheduleInputError(403, 'status', 'your role may not approve schedules');
    const pending = r.status === 'submitted' || (r.status === 'approved' && r.programme_changed === 1);
    if (!pending) {
      throw new ScheduleInputError(409, 'status', `there is nothing to approve (the schedule is ${r.status})`, {
        current: await this.view(r),
      });
    }
    await this.approveNow(r, actor.username, reviewed);
    return this.get(scope, id);
  }

  /** submitted → rejected with a reason; a changed programme is refused and the frozen version keeps airing. */
  async reject(scope: Scope, id: string, reason: string, actor: Actor): Promise<ScheduleView> {
    const r = await this.row(scope, id);
    if (!actor.canApprove) throw new ScheduleInputError(403, 'status', 'your role may not reject schedules');
    if (!reason.trim()) throw badInput('reason', 'say why the schedule is rejected');
    if (r.status === 'approved' && r.programme_changed === 1) {
      await this.writeOrConflict(
        r,
        { programme_changed: 0, review_reason: reason.trim() },
        'someone changed it meanwhile',
      );
      return this.get(scope, id);
    }
    if (r.status !== 'submitted') {
      throw new ScheduleInputError(409, 'status', `only a submitted schedule can be rejected (it is ${r.status})`, {
        current: await this.view(r),
      });
    }
    await this.writeOrConflict(
      r,
      { status: 'rejected', review_reason: reason.trim(), reviewed_by: actor.username, reviewed_at: this.now() },
      'someone changed this schedule meanwhile',
    );
    return this.get(scope, id);
  }

  /**
   * Takes the whole schedule off air: its future occurrences leave every plan.
   * What is on air (approved, or any emergency) is the approvers' to take off.
   */
  async cancel(scope: Scope, id: string, actor: Actor): Promise<ScheduleView> {
    const r = await this.row(scope, id);
    if (r.status === 'cancelled') return this.view(r);
    if ((r.status === 'approved' || r.priority === 'emergency') && !actor.canApprove) {
      throw new ScheduleInputError(
        403,
        'status',
        r.priority === 'emergency'
          ? 'only an approver may cancel an emergency schedule'
          : 'this schedule is on air; only an approver may cancel it',
      );
    }
    // Cancel wins over any other change: it only needs the schedule not to be cancelled already.
    await this.db
      .updateTable('schedules')
      .set({ status: 'cancelled', revision: sql`revision + 1`, updated_at: this.now() })
      .where('id', '=', id)
      .where('status', '!=', 'cancelled')
      .execute();
    await this.replanSchedule(id);
    return this.get(scope, id);
  }

  /**
   * Cancels one future occurrence; it is not re-created by later
   * materialisation. Returns the occurrence's commune (for the audit log).
   */
  async cancelOccurrence(scope: Scope, occurrenceId: string, actor: Actor): Promise<string> {
    const { db } = this;
    const o = (await db
      .selectFrom('occurrences')
      .select(['commune_id', 'start_at', 'cancelled_at', 'priority'])
      .where('id', '=', occurrenceId)
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .executeTakeFirst()) as
      { commune_id: string; start_at: number; cancelled_at: number | null; priority: Priority } | undefined;
    if (!o) throw notFound('id', `no occurrence with id ${occurrenceId}`);
    // Every stored occurrence is on air (approved or sent by a publisher).
    if (!actor.canApprove) throw new ScheduleInputError(403, 'id', 'only an approver may cancel a broadcast on air');
    if (o.start_at <= this.now()) {
      throw new ScheduleInputError(409, 'id', 'this occurrence has already started; send a stop command instead');
    }
    const result = await db
      .updateTable('occurrences')
      .set({ cancelled_at: this.now() })
      .where('id', '=', occurrenceId)
      .where('cancelled_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return o.commune_id;
    const devices: { device_id: string }[] = await db
      .selectFrom('deliveries')
      .select('device_id')
      .where('occurrence_id', '=', occurrenceId)
      .execute();
    await this.deps.replan(new Set(devices.map((d) => d.device_id)));
    return o.commune_id;
  }

  /**
   * A programme (or content in it) changed. Nothing airs that was not reviewed:
   * an approved schedule keeps airing the frozen version and goes back to the
   * approval queue, unless the change came from a publisher, whose change is
   * approved at once; a submitted one stays in the queue, and an approval
   * given for the old version is refused (its reviewRevision changed).
   * Returns what happened to each schedule, for the audit log.
   */
  async programmeChanged(
    scope: Scope,
    programmeId: string,
    actor: Actor,
  ): Promise<
    {
      scheduleId: string;
      communeId: string;
      title: string;
      outcome: 'reapproved' | 'back-to-approval' | 'changed-in-review';
    }[]
  > {
    const rows = (await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('programme_id', '=', programmeId)
      .where('status', 'in', ['approved', 'submitted'])
      .$if(scope.communeId !== null, (q) => q.where('commune_id', '=', scope.communeId))
      .execute()) as ScheduleRow[];
    const outcomes = [];
    for (const r of rows) {
      if (r.status === 'submitted') {
        outcomes.push({
          scheduleId: r.id,
          communeId: r.commune_id,
          title: r.title,
          outcome: 'changed-in-review' as const,
        });
      } else if (actor.canPublish) {
        await this.approveNow(r, actor.username, await this.reviewRevision(r));
        outcomes.push({ scheduleId: r.id, communeId: r.commune_id, title: r.title, outcome: 'reapproved' as const });
      } else {
        await this.writeOrConflict(r, { programme_changed: 1 }, 'someone changed this schedule meanwhile');
        outcomes.push({
          scheduleId: r.id,
          communeId: r.commune_id,
          title: r.title,
          outcome: 'back-to-approval' as const,
        });
      }
    }
    return outcomes;
  }

  async replanSchedule(id: string): Promise<void> {
    await this.deps.replan(await this.deps.materialiser.materialiseSchedule(id));
  }
}

/** What of a programme would air now, for ScheduleView.reviewRevision. */
function fingerprintOf(p: ProgrammeView | null, programmeId: string): string {
  return p ? `${p.id}@${p.revision}:${p.contentRevisions.join('.')}` : `${programmeId}@gone`;
}

/** The reviewRevision of a schedule whose programme's fingerprint is `fingerprint`. */
function revisionName(r: Pick<ScheduleRow, 'id' | 'revision'>, fingerprint: string): string {
  const basis = `${r.id}/${r.revision}/${fingerprint}`;
  return `${r.revision}-${crypto.createHash('sha256').update(basis).digest('hex').slice(0, 12)}`;
}
