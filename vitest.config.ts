import fs from 'node:fs';
import { defineConfig } from 'vitest/config';

const INCLUDE = [
  '{protocol,server,device-agent,firmware-sim,scripts}/{src,test}/**/*.test.ts',
  'web/test/**/*.test.ts',
];
// The scale-out tests (each starts 3 NATS nodes; some PostgreSQL and 2 server processes too)
// run apart, one at a time: npm run test:cluster.
const EXCLUDE = ['**/node_modules/**', '**/*.cluster.test.ts'];

/**
 * Test files that replace a module (`vi.mock`): the replacement lives in the module cache, so
 * they run in a process of their own. Every other file shares its worker's process and module
 * cache with the files before it: a fresh process and a fresh import of the server for each of
 * 215 files cost more CPU than the tests of half of them (npm test took 13 min on 2 cores).
 */
function filesReplacingModules(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(file);
      } else if (entry.name.endsWith('.test.ts') && /\bvi\.(mock|doMock)\(/.test(fs.readFileSync(file, 'utf8'))) {
        found.push(file);
      }
    }
  };
  for (const dir of ['protocol', 'server', 'device-agent', 'firmware-sim', 'scripts', 'web/test']) walk(dir);
  return found;
}
const ISOLATED = filesReplacingModules();

export default defineConfig({
  test: {
    // Builds server/dist, scripts/dist and device-agent/dist when missing or stale: tests spawn the bins.
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most end-to-end tests wait on wall-clock starts rather than burn CPU, so two files run at
    // once even on 2 cores (the CPU ~70 % busy). Three ran faster (vitest 605 → 484 s) but starved
    // timing checks: a planned start 270 ms late, a live click 55 ms out of step in CI.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: INCLUDE, exclude: [...EXCLUDE, ...ISOLATED], isolate: false },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED, exclude: EXCLUDE, isolate: true } },
    ],
  },
});
