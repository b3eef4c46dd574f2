/**
 * The catalogue is complete: Vietnamese and English hold the same keys, and
 * every literal key the console asks for exists (a missing key would show the
 * key itself to the officer).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import vi from '../src/lib/i18n/vi.json';
import en from '../src/lib/i18n/en.json';

function keys(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(svelte|ts)$/.test(entry.name) && !entry.name.endsWith('api-types.ts') ? [full] : [];
  });
}

describe('i18n catalogue', () => {
  const viKeys = new Set(keys(vi));

  it('has the same keys in Vietnamese and English', () => {
    expect(keys(en).sort()).toEqual([...viKeys].sort());
  });

  it('has every literal key the source uses', () => {
    const used = new Set<string>();
    const patterns = [/\$_\(\s*'([a-zA-Z][\w.]*)'/g, /\bkey: '([a-zA-Z][\w.]*)'/g, /\blabel: '([a-zA-Z][\w.]*)'/g];
    for (const file of sourceFiles(path.resolve(import.meta.dirname, '../src'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const pattern of patterns) for (const match of text.matchAll(pattern)) used.add(match[1]!);
    }
    // Values passed to `describeApiError` as known keys.
    for (const file of sourceFiles(path.resolve(import.meta.dirname, '../src'))) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/'\d{3}(?::\w+)?': '([\w.]+)'/g)) used.add(match[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((key) => !viKeys.has(key))).toEqual([]);
  });

  it('has a label and hint for every role and a name for every stage', () => {
    for (const role of ['admin', 'approver', 'editor', 'technician', 'viewer']) {
      expect(viKeys.has(`roles.${role}`) && viKeys.has(`roleHints.${role}`)).toBe(true);
    }
    for (const stage of ['pending', 'received', 'ready', 'started', 'finished', 'failed', 'skipped', 'preempted']) {
      expect(viKeys.has(`stage.${stage}`)).toBe(true);
    }
  });
});
