import { describe, expect, it } from 'vitest';
import { planEviction, type CacheUse } from './eviction';

const use = (sha256: string, bytes: number, lastUsed: number): CacheUse => ({ sha256, bytes, lastUsed });
const A = use('a', 100, 1);
const B = use('b', 100, 2);
const C = use('c', 100, 3);

describe('planEviction', () => {
  it.each([
    { name: 'within budget: nothing goes', entries: [A, B, C], budget: 300, needed: [], evict: [], over: false },
    { name: 'least recently used goes first', entries: [C, A, B], budget: 200, needed: [], evict: ['a'], over: false },
    { name: 'as many as it takes', entries: [A, B, C], budget: 150, needed: [], evict: ['a', 'b'], over: false },
    { name: 'never evicts a planned asset', entries: [A, B, C], budget: 200, needed: ['a'], evict: ['b'], over: false },
    {
      name: 'keeps planned assets over budget and says so',
      entries: [A, B, C],
      budget: 150,
      needed: ['a', 'b'],
      evict: ['c'],
      over: true,
    },
    { name: 'all needed: evicts nothing', entries: [A, B], budget: 0, needed: ['a', 'b'], evict: [], over: true },
    {
      name: 'equal last use: ordered by hash so runs agree',
      entries: [use('y', 10, 5), use('x', 10, 5)],
      budget: 10,
      needed: [],
      evict: ['x'],
      over: false,
    },
    { name: 'empty cache', entries: [], budget: 0, needed: [], evict: [], over: false },
  ])('$name', ({ entries, budget, needed, evict, over }) => {
    const plan = planEviction(entries, budget, new Set(needed));
    expect(plan.evict).toEqual(evict);
    expect(plan.overBudget).toBe(over);
    const evicted = new Set(evict);
    expect(plan.keptBytes).toBe(entries.filter((e) => !evicted.has(e.sha256)).reduce((s, e) => s + e.bytes, 0));
  });
});
