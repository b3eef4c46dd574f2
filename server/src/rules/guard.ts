/**
 * Applies a commune's broadcast rules (broadcast-rules.ts) where plays are
 * asked for: a broadcast, a schedule, a bulletin placed by the commune. A
 * normal or priority play that breaks one is refused (409) with the rule and
 * the times; an emergency never is. A leader may let one single play through
 * with a written reason, which the caller records in the audit log.
 */
import { DateTime } from 'luxon';
import type { Priority } from '@loaxa/protocol';
import type { SqlDb } from '../db/sql';
import type { BroadcastRules, Play, RuleBreak } from './broadcast-rules';
import { checkRules } from './broadcast-rules';

export class RuleBreakError extends Error {
  readonly field = 'rules';
  readonly extra: { ruleBreaks: { rule: string; startAt: string; message: string }[] };
  constructor(
    breaks: RuleBreak[],
    hint: string,
    readonly statusCode: 403 | 409 = 409,
  ) {
    super(`${breaks[0]!.message}${breaks.length > 1 ? ` (+${breaks.length - 1})` : ''}; ${hint}`);
    this.name = 'RuleBreakError';
    this.extra = {
      ruleBreaks: breaks.slice(0, 20).map((b) => ({ ...b, startAt: new Date(b.startAt).toISOString() })),
    };
  }
}

export interface RuleOverride {
  /** Why the rule may be broken this once (written by the leader; audited). */
  reason: string;
}

export class RulesGuard {
  constructor(
    private readonly deps: {
      sqlDb: SqlDb;
      rules: (communeId: string) => BroadcastRules;
      timeZone: string;
    },
  ) {}

  /** The commune's rules in force. */
  rulesOf(communeId: string): BroadcastRules {
    return this.deps.rules(communeId);
  }

  /** The rules `plays` would break in `communeId`, without refusing anything (a preview). */
  async breaks(
    communeId: string,
    plays: readonly Play[],
    priority: Priority,
    excludeScheduleId?: string,
  ): Promise<RuleBreak[]> {
    if (priority === 'emergency' || plays.length === 0) return [];
    return this.checked(communeId, plays, { excludeScheduleId });
  }

  /**
   * The rules `plays` would break in `communeId` (nothing for an emergency).
   * Throws RuleBreakError unless `override` is given for a single play by
   * someone who `mayOverride`; returns what the override let through.
   */
  async check(
    communeId: string,
    plays: readonly Play[],
    priority: Priority,
    options: { override?: RuleOverride | undefined; mayOverride: boolean; excludeScheduleId?: string } = {
      mayOverride: false,
    },
  ): Promise<RuleBreak[]> {
    const breaks = await this.breaks(communeId, plays, priority, options.excludeScheduleId);
    if (breaks.length === 0) return [];
    if (options.override) {
      if (!options.mayOverride) {
        throw new RuleBreakError(breaks, 'only a leader (approver or admin) may override a rule', 403);
      }
      if (plays.length > 1) {
        throw new RuleBreakError(breaks, 'an override lets one play through; change the times of a repeating one');
      }
      return breaks;
    }
    throw new RuleBreakError(
      breaks,
      'choose another time, or a leader may override this one play with a written reason (overrideRules.reason)',
    );
  }

  /**
   * The rules the commune's planned plays break, as the week view shows them: `plays` are
   * all its normal and priority plays from `from` on, in start order (the day's count
   * includes those before `from`).
   */
  async review(communeId: string, plays: readonly Play[], from: number): Promise<RuleBreak[]> {
    if (plays.length === 0) return [];
    return this.checked(communeId, plays, { before: from });
  }

  /**
   * checkRules with the day's count read first: the plays the commune already has on each
   * local day a play falls on (the rule is pure and synchronous; the count is a query).
   */
  private async checked(
    communeId: string,
    plays: readonly Play[],
    options: { excludeScheduleId?: string | undefined; before?: number },
  ): Promise<RuleBreak[]> {
    const rules = this.deps.rules(communeId);
    const { timeZone } = this.deps;
    const days =
      rules.maxSessionsPerDay === null
        ? []
        : [...new Set(plays.map((p) => DateTime.fromMillis(p.startAt, { zone: timeZone }).toFormat('yyyy-MM-dd')))];
    const counts = await this.sessionsOn(communeId, days, options.excludeScheduleId, options.before);
    return checkRules(rules, plays, timeZone, (day) => counts.get(day) ?? 0);
  }

  /**
   * The commune's normal and priority plays on each local day (yyyy-MM-dd), language versions
   * aside, counting only those starting before `before`: one query over the days' span, counted
   * by day here (a local day's bounds depend on the time zone, which SQL on both engines does not share).
   */
  private async sessionsOn(
    communeId: string,
    days: readonly string[],
    excludeScheduleId?: string,
    before = Infinity,
  ): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (days.length === 0) return counts;
    const bounds = days.map((day) => {
      const start = DateTime.fromISO(day, { zone: this.deps.timeZone });
      return { day, from: start.toMillis(), to: Math.min(start.plus({ days: 1 }).toMillis(), before) };
    });
    const from = Math.min(...bounds.map((b) => b.from));
    const to = Math.max(...bounds.map((b) => b.to));
    if (to <= from) return counts;
    const rows: { start_at: number }[] = await this.deps.sqlDb.db
      .selectFrom('occurrences')
      .select('start_at')
      .where('commune_id', '=', communeId)
      .where('priority', '!=', 'emergency')
      .where('cancelled_at', 'is', null)
      .where('stopped_at', 'is', null)
      .where('start_at', '>=', from)
      .where('start_at', '<', to)
      // A language version's id is its notice's with ':' and the language.
      .where('id', 'not like', '%:%')
      .$if(excludeScheduleId !== undefined, (q) =>
        q.where((eb) => eb.or([eb('schedule_id', 'is', null), eb('schedule_id', '!=', excludeScheduleId!)])),
      )
      .execute();
    for (const { day, from: dayFrom, to: dayTo } of bounds) {
      counts.set(day, rows.filter((r) => r.start_at >= dayFrom && r.start_at < dayTo).length);
    }
    return counts;
  }
}
