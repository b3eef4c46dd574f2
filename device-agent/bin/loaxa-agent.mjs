#!/usr/bin/env node
// Runs the agent from its one-file bundle (dist/loaxa-agent.mjs, ~74 MB RSS idle)
// rather than through the TypeScript loader (~115 MB). The bundle is made at
// install time; here it is (re)made when missing or older than the sources, in a
// child process so esbuild never lives in the agent's memory. Without esbuild,
// or with LOAXA_AGENT_RUN=source, the sources run through tsx as before.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const agentDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(agentDir, 'dist', 'loaxa-agent.mjs');
// The sources the bundle is made of: the agent's and the protocol package's.
const sourceDirs = [join(agentDir, 'src'), join(agentDir, '..', 'protocol', 'src')];

function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  // package.json too: the agent's version string is read from it at bundle time.
  return (
    statSync(join(agentDir, 'package.json')).mtimeMs <= built && sourceDirs.every((dir) => newestMtime(dir) <= built)
  );
}

function tryBundle() {
  const result = spawnSync(process.execPath, [join(agentDir, 'scripts', 'bundle.mjs')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status === 0) return true;
  console.error(`loaxa-agent: bundling failed, running the sources through tsx instead\n${result.stderr ?? ''}`);
  return false;
}

const mode = process.env.LOAXA_AGENT_RUN ?? 'auto';
if (mode !== 'source' && (bundleIsFresh() || tryBundle())) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
