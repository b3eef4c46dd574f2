/**
 * Each commune's rules for disaster alerts: which alerts go on air by
 * themselves, which wait for a leader's tap and which are only shown; how
 * often they are repeated; whether a Cancel is followed by an all-clear.
 * Rules are tried in order and the first that fits the alert decides; when
 * none fits, the default (issue 20) does: Actual alerts that are Extreme or
 * Severe, Immediate or Expected, Observed or Likely air at once, the other
 * Actual alerts wait for a leader, and the rest are shown only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CAP_CATEGORIES, CAP_CERTAINTIES, CAP_SEVERITIES, CAP_URGENCIES } from './cap';

export type AlertDecision = 'auto' | 'confirm' | 'show';

const oneOf = <T extends readonly string[]>(values: T, description: string) =>
  Type.Optional(
    Type.Array(Type.Union(values.map((v) => Type.Literal(v))), {
      minItems: 1,
      maxItems: values.length,
      uniqueItems: true,
      description,
    }),
  );

export const AlertRuleSchema = Type.Object(
  {
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: 20,
        description: 'words the alert’s event contains (any of them; case and accents ignored), e.g. "lũ", "bão"',
      }),
    ),
    categories: oneOf(CAP_CATEGORIES, 'CAP categories (any of them)'),
    severities: oneOf(CAP_SEVERITIES, 'CAP severities (any of them)'),
    urgencies: oneOf(CAP_URGENCIES, 'CAP urgencies (any of them)'),
    certainties: oneOf(CAP_CERTAINTIES, 'CAP certainties (any of them)'),
    decision: Type.Union([Type.Literal('auto'), Type.Literal('confirm'), Type.Literal('show')], {
      description: 'auto: broadcast at once; confirm: a leader taps Phát ngay; show: on the Alerts page only',
    }),
    repeatsMinutes: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 1440 }), {
        minItems: 1,
        maxItems: 10,
        description:
          'minutes before the first airing, between the first and the second, …; the last gap repeats until the alert ends',
      }),
    ),
    allClear: Type.Optional(Type.Boolean({ description: 'a Cancel of the alert is broadcast as an all-clear' })),
  },
  { additionalProperties: false },
);
export type AlertRule = Static<typeof AlertRuleSchema>;

export const AlertRulesSchema = Type.Array(AlertRuleSchema, { maxItems: 30 });

/** What an alert is judged on. */
export interface AlertFacts {
  status: string;
  event: string;
  categories: readonly string[];
  severity: string;
  urgency: string;
  certainty: string;
}

export interface RuleOutcome {
  decision: AlertDecision;
  /** Gaps in ms (the first before the first airing); null: the install's (LOAXA_ALERT_REPEATS_S). */
  repeatsMs: number[] | null;
  allClear: boolean;
  /** Index of the commune rule that decided; null for the default. */
  ruleIndex: number | null;
}

/** Lower case without accents, đ as d: "Lũ quét" and "lu quet" match. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase();
}

function fits(rule: AlertRule, alert: AlertFacts): boolean {
  const event = fold(alert.event);
  if (rule.events && !rule.events.some((w) => event.includes(fold(w.trim())))) return false;
  if (rule.categories && !alert.categories.some((c) => (rule.categories as readonly string[]).includes(c))) {
    return false;
  }
  if (rule.severities && !(rule.severities as readonly string[]).includes(alert.severity)) return false;
  if (rule.urgencies && !(rule.urgencies as readonly string[]).includes(alert.urgency)) return false;
  if (rule.certainties && !(rule.certainties as readonly string[]).includes(alert.certainty)) return false;
  return true;
}

/** The default rule: broadcast at once, ask a leader, or show only. */
export function defaultDecision(alert: AlertFacts): AlertDecision {
  if (alert.status !== 'Actual') return 'show';
  const grave = alert.severity === 'Extreme' || alert.severity === 'Severe';
  const soon = alert.urgency === 'Immediate' || alert.urgency === 'Expected';
  const sure = alert.certainty === 'Observed' || alert.certainty === 'Likely';
  return grave && soon && sure ? 'auto' : 'confirm';
}

/**
 * What the commune does with an active alert. Only Actual alerts are judged by rules:
 * Test, Exercise, System and Draft are shown, whatever a rule says.
 */
export function judge(rules: readonly AlertRule[], alert: AlertFacts): RuleOutcome {
  if (alert.status !== 'Actual') return { decision: 'show', repeatsMs: null, allClear: false, ruleIndex: null };
  const index = rules.findIndex((r) => fits(r, alert));
  if (index < 0) return { decision: defaultDecision(alert), repeatsMs: null, allClear: false, ruleIndex: null };
  const rule = rules[index]!;
  return {
    decision: rule.decision,
    repeatsMs: rule.repeatsMinutes ? rule.repeatsMinutes.map((m) => m * 60_000) : null,
    allClear: rule.allClear ?? false,
    ruleIndex: index,
  };
}
