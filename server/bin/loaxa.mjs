#!/usr/bin/env node
// `loaxa`: runs the command line (and `loaxa serve`, the server) from its compiled
// JavaScript, dist/loaxa.mjs, made by scripts/build.mjs: no TypeScript compiler at
// run time. In a checkout (src/ beside dist/) the build is first made again when
// the sources changed since it was made, so an edit is never silently ignored;
// an installed server (scripts/install-server.sh) has dist/ alone and runs it as it is.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/index.ts', import.meta.url))) {
  const { ensureBuilt } = await import('../../scripts/build.mjs');
  ensureBuilt('server');
}
await import('../dist/loaxa.mjs');
