import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster` (issue 18): the scale-out end-to-end tests, each on its own private
 * PostgreSQL, 3-node NATS cluster and two `loaxa serve` processes (server/test/cluster/). One
 * file at a time: a cluster is most of a 2-core machine.
 */
export default defineConfig({
  test: {
    include: ['server/test/cluster/**/*.cluster.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
