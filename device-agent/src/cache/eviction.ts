/**
 * Which cached files to delete to fit a disk budget: least recently used
 * first, never one the plan or the loudspeaker still needs. A pure function of
 * the index, so the rule is tested by table.
 */
export interface CacheUse {
  sha256: string;
  bytes: number;
  /** Device-clock ms of the last store or lookup. */
  lastUsed: number;
}

export interface EvictionPlan {
  /** Oldest first. */
  evict: string[];
  /** Bytes left after the evictions. */
  keptBytes: number;
  /** True when only needed assets are left and they alone exceed the budget. */
  overBudget: boolean;
}

export function planEviction(
  entries: readonly CacheUse[],
  budgetBytes: number,
  needed: ReadonlySet<string>,
): EvictionPlan {
  let kept = entries.reduce((sum, e) => sum + e.bytes, 0);
  const evict: string[] = [];
  const candidates = entries
    .filter((e) => !needed.has(e.sha256))
    .sort((a, b) => a.lastUsed - b.lastUsed || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  for (const entry of candidates) {
    if (kept <= budgetBytes) break;
    evict.push(entry.sha256);
    kept -= entry.bytes;
  }
  return { evict, keptBytes: kept, overBudget: kept > budgetBytes };
}
