/**
 * `loaxa --help` and `loaxa normalize` answer in about twice a bare `node -e 0` because the CLI's
 * entry loads only commander and the commands' descriptions: each command imports what it needs
 * when it runs. This walks the compiled entry's static imports (what Node loads before any command
 * runs) and checks that none of them is the database, the broker or the HTTP server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = path.resolve(__dirname, '../dist');

/** The packages `file` loads before its code runs: its static imports, followed through our own chunks. */
function staticPackages(file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  const source = fs.readFileSync(file, 'utf8');
  // `import … from "x"` and `import "x"`; not `import("x")`, which loads only when a command runs.
  for (const [, specifier] of source.matchAll(/(?:^|[;\n])\s*(?:import|export)\b[^;()]*?["']([^"']+)["']/g)) {
    if (specifier!.startsWith('.')) {
      for (const p of staticPackages(path.resolve(path.dirname(file), specifier!), seen)) packages.add(p);
    } else {
      packages.add(
        specifier!.startsWith('node:')
          ? specifier!
          : specifier!
              .split('/')
              .slice(0, specifier!.startsWith('@') ? 2 : 1)
              .join('/'),
      );
    }
  }
  return packages;
}

describe('the command line starts light', () => {
  it('loads no database, broker or HTTP server before a command runs', () => {
    const loaded = staticPackages(path.join(DIST, 'loaxa.mjs'));
    expect(loaded).toContain('commander');
    for (const heavy of ['better-sqlite3', 'pg', 'kysely', 'fastify', 'aedes', 'mqtt', 'luxon', 'pino']) {
      expect(loaded, `${heavy} is loaded before any command runs`).not.toContain(heavy);
    }
  });

  it('finds a heavy import when there is one (the check can fail)', () => {
    const main = staticPackages(path.join(DIST, 'main.mjs'));
    expect(main).toContain('fastify');
  });
});
