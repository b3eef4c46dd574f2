/**
 * A commune's broadcast rules, which protect villagers' nights: quiet hours
 * (default 21:30–05:30), the longest normal session, the most sessions a day,
 * and a volume ceiling by time of day. Pure: given the rules, the commune's
 * time zone and the plays asked for, it says which rule each play breaks.
 * Emergencies are never checked (the callers leave them out).
 */
import { DateTime } from 'luxon';

/** "HH:MM", 24 h, local time of the commune. */
export type ClockTime = string;

export interface BroadcastRules {
  /** No normal or priority broadcast between these times (the window may cross midnight); null: none. */
  quietHours: { start: ClockTime; end: ClockTime } | null;
  /** The longest a normal or priority play may last, in minutes; null: no limit. */
  maxSessionMinutes: number | null;
  /** The most normal or priority plays a day (local day); null: no limit. */
  maxSessionsPerDay: number | null;
  /** Volume ceilings (percent) for plays starting between `from` and `to`. */
  volumeByTime: { from: ClockTime; to: ClockTime; volume: number }[];
}

export const CLOCK_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
export const DEFAULT_QUIET_HOURS = { start: '21:30', end: '05:30' } as const;

export const NO_RULES: BroadcastRules = {
  quietHours: null,
  maxSessionMinutes: null,
  maxSessionsPerDay: null,
  volumeByTime: [],
};

export type RuleName = 'quietHours' | 'maxSessionMinutes' | 'maxSessionsPerDay';

export interface RuleBreak {
  rule: RuleName;
  /** The play that breaks it (UTC ms). */
  startAt: number;
  /** Vietnamese first, then English: names the rule and the times. */
  message: string;
}

export interface Play {
  startAt: number;
  durationMs: number;
}

const minutesOf = (t: ClockTime) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/** [start, end) of each window of local time `from`–`to` (crossing midnight when to ≤ from) near `at`. */
function windowsAround(at: DateTime, from: ClockTime, to: ClockTime): [number, number][] {
  const out: [number, number][] = [];
  for (const offset of [-1, 0, 1]) {
    const day = at.startOf('day').plus({ days: offset });
    const start = day.plus({ minutes: minutesOf(from) });
    const endDay = minutesOf(to) <= minutesOf(from) ? day.plus({ days: 1 }) : day;
    out.push([start.toMillis(), endDay.plus({ minutes: minutesOf(to) }).toMillis()]);
  }
  return out;
}

/** Whether local time `at` falls in the window `from`–`to` (which may cross midnight). */
function inWindow(at: DateTime, from: ClockTime, to: ClockTime): boolean {
  const ms = at.toMillis();
  return windowsAround(at, from, to).some(([s, e]) => ms >= s && ms < e);
}

/**
 * The rules `plays` break, at most one message per play and rule. `alreadyOnDay`
 * counts the normal and priority plays the commune already has on a local day
 * (key yyyy-MM-dd), for the sessions-a-day limit.
 */
export function checkRules(
  rules: BroadcastRules,
  plays: readonly Play[],
  timeZone: string,
  alreadyOnDay: (day: string) => number = () => 0,
): RuleBreak[] {
  const breaks: RuleBreak[] = [];
  const local = (ms: number) => DateTime.fromMillis(ms, { zone: timeZone });
  const when = (ms: number) => local(ms).toFormat('HH:mm dd/MM/yyyy');
  const perDay = new Map<string, number>();
  for (const play of plays) {
    const start = local(play.startAt);
    const end = play.startAt + play.durationMs;
    if (rules.quietHours) {
      const { start: qs, end: qe } = rules.quietHours;
      const hit = windowsAround(start, qs, qe).some(([s, e]) => play.startAt < e && s < end);
      if (hit) {
        breaks.push({
          rule: 'quietHours',
          startAt: play.startAt,
          message:
            `giờ yên tĩnh ${qs}–${qe}: buổi phát lúc ${when(play.startAt)} rơi vào giờ này / ` +
            `quiet hours ${qs}–${qe}: the play at ${when(play.startAt)} falls in them`,
        });
      }
    }
    if (rules.maxSessionMinutes !== null && play.durationMs > rules.maxSessionMinutes * 60_000) {
      const minutes = Math.ceil(play.durationMs / 60_000);
      breaks.push({
        rule: 'maxSessionMinutes',
        startAt: play.startAt,
        message:
          `buổi phát tối đa ${rules.maxSessionMinutes} phút: buổi lúc ${when(play.startAt)} dài ${minutes} phút / ` +
          `sessions last at most ${rules.maxSessionMinutes} min: the one at ${when(play.startAt)} lasts ${minutes} min`,
      });
    }
    if (rules.maxSessionsPerDay !== null) {
      const day = start.toFormat('yyyy-MM-dd');
      const count = (perDay.get(day) ?? alreadyOnDay(day)) + 1;
      perDay.set(day, count);
      if (count > rules.maxSessionsPerDay) {
        breaks.push({
          rule: 'maxSessionsPerDay',
          startAt: play.startAt,
          message:
            `tối đa ${rules.maxSessionsPerDay} buổi phát mỗi ngày: ngày ${start.toFormat('dd/MM/yyyy')} sẽ có ${count} / ` +
            `at most ${rules.maxSessionsPerDay} sessions a day: ${start.toFormat('dd/MM/yyyy')} would have ${count}`,
        });
      }
    }
  }
  return breaks;
}

/** The volume ceiling for a play starting at `startAt`, or null when no rule limits it. */
export function volumeCeiling(rules: BroadcastRules, startAt: number, timeZone: string): number | null {
  const at = DateTime.fromMillis(startAt, { zone: timeZone });
  const caps = rules.volumeByTime.filter((v) => inWindow(at, v.from, v.to)).map((v) => v.volume);
  return caps.length ? Math.min(...caps) : null;
}

/** "21:30-05:30" or "off" (LOAXA_QUIET_HOURS) as quiet hours; undefined when malformed. */
export function parseQuietHours(value: string): BroadcastRules['quietHours'] | undefined {
  if (value.trim() === 'off') return null;
  const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(value.trim());
  const re = new RegExp(CLOCK_TIME_PATTERN);
  if (!m || !re.test(m[1]!) || !re.test(m[2]!) || m[1] === m[2]) return undefined;
  return { start: m[1]!, end: m[2]! };
}
