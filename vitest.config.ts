import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{protocol,server,device-agent,firmware-sim,scripts}/{src,test}/**/*.test.ts', 'web/test/**/*.test.ts'],
    // The scale-out tests (each starts 3 NATS nodes; some PostgreSQL and 2 server processes too)
    // run apart, one at a time: npm run test:cluster.
    exclude: ['**/node_modules/**', '**/*.cluster.test.ts'],
    // Builds server/dist, scripts/dist and device-agent/dist when missing or stale: tests spawn the bins.
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most end-to-end tests wait on wall-clock starts rather than burn CPU, so two files run at
    // once even on 2 cores; three starved timing checks (a planned start 270 ms late) in CI.
    maxWorkers: 2,
  },
});
