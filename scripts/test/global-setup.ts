/**
 * Vitest global setup: the compiled server, demo and agent bundle (and the console) exist and
 * match the sources before any test spawns a bin (`server/bin/loaxa.mjs`, `loaxa-agent.mjs`),
 * so a fresh clone's `npm test` works and test files never race to build them. Instant when
 * `npm install` already built them and nothing changed since. LOAXA_SKIP_BUILD=1 skips it, for
 * unit tests run while other files are mid-edit (a bin then runs whatever was built last).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  // For a run of unit tests that spawn no bin, while the tree is mid-edit: LOAXA_SKIP_BUILD=1.
  if (process.env.LOAXA_SKIP_BUILD === '1') return;
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/ensure-built.mjs')], { cwd: root, stdio: 'inherit' });
}
