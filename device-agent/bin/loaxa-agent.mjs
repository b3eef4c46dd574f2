#!/usr/bin/env node
// Runs the agent from its one-file bundle (dist/loaxa-agent.mjs, ~74 MB RSS idle):
// plain JavaScript, no TypeScript compiler at run time. The bundle is made at
// install time (`npm install`, scripts/install-agent.sh); here it is (re)made when
// missing or older than the sources, in a child process so esbuild never lives in
// the agent's memory. A bundle that cannot be made is an error, not a silent
// fallback. LOAXA_AGENT_RUN=source runs the sources through tsx instead (a
// development aid: tsx is a dev dependency of the checkout, absent on a node).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_BUNDLE, bundleIsFresh } from '../scripts/bundle.mjs';

const agentDir = join(dirname(fileURLToPath(import.meta.url)), '..');

function tryBundle() {
  const result = spawnSync(process.execPath, [join(agentDir, 'scripts', 'bundle.mjs')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status === 0) return true;
  console.error(`loaxa-agent: bundling failed\n${result.stderr ?? result.error ?? ''}`);
  return false;
}

if (process.env.LOAXA_AGENT_RUN === 'source') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
} else if (bundleIsFresh() || tryBundle()) {
  await import(pathToFileURL(DEFAULT_BUNDLE).href);
} else {
  process.exit(1);
}
