/**
 * Applies a commune's broadcast rules (broadcast-rules.ts) where plays are
 * asked for: a broadcast, a schedule, a bulletin placed by the commune. A
 * normal or priority play that breaks one is refused (409) with the rule and
 * the times; an emergency never is. A leader may let one single play through
 * with a written reason, which the caller records in the audit log.
 */
import { DateTime } from 'luxon';
import type { Priority } from '@loaxa/protocol';
import type { Db } from '../db/database';
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
      db: Db;
      rules: (communeId: string) => BroadcastRules;
      timeZone: string;
    },
  ) {}

  /** The commune's rules in force. */
  rulesOf(communeId: string): BroadcastRules {
    return this.deps.rules(communeId);
  }

  /** The rules `plays` would break in `communeId`, without refusing anything (a preview). */
  breaks(communeId: string, plays: readonly Play[], priority: Priority, excludeScheduleId?: string): RuleBreak[] {
    if (priority === 'emergency' || plays.length === 0) return [];
    return checkRules(this.deps.rules(communeId), plays, this.deps.timeZone, (day) =>
      this.sessionsOn(communeId, day, excludeScheduleId),
    );
  }

  /**
   * The rules `plays` would break in `communeId` (nothing for an emergency).
   * Throws RuleBreakError unless `override` is given for a single play by
   * someone who `mayOverride`; returns what the override let through.
   */
  check(
    communeId: string,
    plays: readonly Play[],
    priority: Priority,
    options: { override?: RuleOverride | undefined; mayOverride: boolean; excludeScheduleId?: string } = {
      mayOverride: false,
    },
  ): RuleBreak[] {
    const breaks = this.breaks(communeId, plays, priority, options.excludeScheduleId);
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
  review(communeId: string, plays: readonly Play[], from: number): RuleBreak[] {
    if (plays.length === 0) return [];
    return checkRules(this.deps.rules(communeId), plays, this.deps.timeZone, (day) =>
      this.sessionsOn(communeId, day, undefined, from),
    );
  }

  /** The commune's normal and priority plays on a local day (yyyy-MM-dd), language versions aside. */
  private sessionsOn(communeId: string, day: string, excludeScheduleId?: string, before = Infinity): number {
    const start = DateTime.fromISO(day, { zone: this.deps.timeZone });
    const row = this.deps.db
      .prepare(
        `SELECT COUNT(*) AS n FROM occurrences
         WHERE commune_id = ? AND priority != 'emergency' AND cancelled_at IS NULL AND stopped_at IS NULL
           AND start_at >= ? AND start_at < ? AND instr(id, ':') = 0
           AND (schedule_id IS NULL OR schedule_id != ?)`,
      )
      .get(
        communeId,
        start.toMillis(),
        Math.min(start.plus({ days: 1 }).toMillis(), before),
        excludeScheduleId ?? '',
      ) as {
      n: number;
    };
    return row.n;
  }
}
