#!/usr/bin/env node
/**
 * Bundles the agent (sources, @loaxa/protocol, mqtt, pino, typebox) into one
 * ESM file, dist/loaxa-agent.mjs, so the node on the pole runs plain
 * JavaScript: no TypeScript loader thread, no esbuild service, far fewer
 * modules in memory. Run at install time (scripts/install-agent.sh, and
 * `npm install` in a checkout: scripts/ensure-built.mjs) and by
 * bin/loaxa-agent.mjs when the bundle is missing or older than the sources.
 * esbuild is a dependency of the agent, so it is present on the Pi.
 *
 *   node device-agent/scripts/bundle.mjs [--out <file>]
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const agentDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_BUNDLE = join(agentDir, 'dist', 'loaxa-agent.mjs');
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

/** The bundle exists and is newer than every source file (and package.json: the version is read from it). */
export function bundleIsFresh(bundle = DEFAULT_BUNDLE) {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return (
    statSync(join(agentDir, 'package.json')).mtimeMs <= built && sourceDirs.every((dir) => newestMtime(dir) <= built)
  );
}

export async function bundleAgent(outfile = DEFAULT_BUNDLE) {
  const { build } = await import('esbuild');
  mkdirSync(dirname(outfile), { recursive: true });
  // Built beside the target and renamed: a concurrent start never imports half a file.
  const temp = `${outfile}.${process.pid}.tmp.mjs`;
  try {
    await build({
      entryPoints: [join(agentDir, 'src', 'cli.ts')],
      outfile: temp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: false,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
      // Some CommonJS dependencies call require() for Node built-ins; ESM has none, so give them one.
      banner: {
        js: "import { createRequire as __loaxaCreateRequire } from 'node:module'; const require = __loaxaCreateRequire(import.meta.url);",
      },
    });
    renameSync(temp, outfile);
  } finally {
    rmSync(temp, { force: true });
  }
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const started = performance.now();
  const out = await bundleAgent(values.out ? resolve(values.out) : DEFAULT_BUNDLE);
  console.log(`loaxa-agent bundled to ${out} in ${Math.round(performance.now() - started)} ms`);
}
