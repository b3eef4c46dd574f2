import { describe, expect, it } from 'vitest';
import { fold, judge, type AlertFacts, type AlertRule } from './rules';

const flood: AlertFacts = {
  status: 'Actual',
  event: 'Lũ quét',
  categories: ['Met', 'Geo'],
  severity: 'Severe',
  urgency: 'Immediate',
  certainty: 'Observed',
};

describe('alert rules', () => {
  it('decides by the default rule when the commune has none', () => {
    expect(judge([], flood)).toEqual({ decision: 'auto', repeatsMs: null, allClear: false, ruleIndex: null });
    expect(judge([], { ...flood, severity: 'Moderate' }).decision).toBe('confirm');
    expect(judge([], { ...flood, certainty: 'Possible' }).decision).toBe('confirm');
    expect(judge([], { ...flood, urgency: 'Future' }).decision).toBe('confirm');
  });

  it('takes the first rule that fits, matching event words without accents or case', () => {
    const rules: AlertRule[] = [
      { events: ['bão'], decision: 'show' },
      {
        events: ['lu quet', 'sạt lở'],
        severities: ['Severe', 'Extreme'],
        decision: 'confirm',
        repeatsMinutes: [0, 5, 20],
        allClear: true,
      },
      { categories: ['Geo'], decision: 'auto' },
    ];
    expect(judge(rules, flood)).toEqual({
      decision: 'confirm',
      repeatsMs: [0, 300_000, 1_200_000],
      allClear: true,
      ruleIndex: 1,
    });
    // Moderate: the second rule does not fit; the third (any Geo alert) does.
    expect(judge(rules, { ...flood, severity: 'Moderate' })).toMatchObject({ decision: 'auto', ruleIndex: 2 });
    // No rule fits: the default airs a Severe, Immediate, Observed alert at once, and asks for a Possible one.
    const depression = { ...flood, event: 'Áp thấp nhiệt đới', categories: ['Met'] };
    expect(judge(rules, depression)).toMatchObject({ decision: 'auto', ruleIndex: null, allClear: false });
    expect(judge(rules, { ...depression, certainty: 'Possible' })).toMatchObject({ decision: 'confirm' });
    expect(judge(rules, { ...flood, event: 'BÃO SỐ 5' })).toMatchObject({ decision: 'show', ruleIndex: 0 });
  });

  it('never airs a Test, Exercise, System or Draft alert, whatever a rule says', () => {
    for (const status of ['Test', 'Exercise', 'System', 'Draft']) {
      expect(judge([{ decision: 'auto' }], { ...flood, status }).decision).toBe('show');
    }
  });

  it('folds Vietnamese to plain lower case', () => {
    expect(fold('Đê Sông Hồng — LŨ QUÉT')).toBe('de song hong — lu quet');
  });
});
