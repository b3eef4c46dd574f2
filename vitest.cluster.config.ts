import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster` (issue 18): the scale-out tests, every `*.cluster.test.ts`. Each starts
 * its own 3-node NATS cluster (and, for server/test/cluster/, a private PostgreSQL and two
 * `loaxa serve` processes): the engines and a node's death (engines), JetStream inbound consumers
 * (nats-inbound), an agent failing over between nodes (broker-failover), and the whole
 * deployment (server/test/cluster/). One file at a time: a cluster is most of a 2-core machine.
 * (nats-broker.test.ts, the NATS authorization and the server's client, stays in npm test.)
 */
export default defineConfig({
  test: {
    include: ['{server,device-agent}/test/**/*.cluster.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
