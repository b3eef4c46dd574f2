#!/usr/bin/env node
/**
 * Compiles the server to plain JavaScript, so nothing compiles TypeScript at
 * run time (`tsx` took ≈ 1 s before each `loaxa` command did anything):
 *
 *   server  server/src/cli/index.ts → server/dist/loaxa.mjs (+ chunks): the
 *           `loaxa` command line, and `loaxa serve`, the production server
 *           and server/dist/main.mjs (runServer), for the demo
 *   sim     firmware-sim/src/cli.ts → firmware-sim/dist/loaxa-sim.mjs: the fleet
 *           simulator as the benchmarks run it (the agents' code compiled, as
 *           an installed loudspeaker runs it, not through tsx)
 *   demo    scripts/demo.ts → scripts/dist/demo.mjs: `npm start`, the server
 *           (server/dist/main.mjs, imported as it is) with the demo commune and
 *           its simulated loudspeakers (firmware-sim)
 *
 * Our own sources and the workspace packages (@loaxa/*, TypeScript) are
 * bundled; every other package stays external and is loaded from
 * node_modules as it is: native addons (better-sqlite3), packages that find
 * files beside themselves (text2wav's WebAssembly, ffmpeg binaries, pino's
 * transports). Dynamic imports become chunks of their own (`splitting`), so
 * `loaxa normalize` loads neither Fastify nor the broker.
 *
 * The outputs sit one folder below their package folder, as src/ does: code
 * that finds files from its own location (config.ts: ../../web/dist) finds the
 * same ones from the bundle.
 *
 * Run by `npm install` (scripts/ensure-built.mjs), by the vitest global setup,
 * and by server/bin/loaxa.mjs when the sources changed since the last build
 * (a signature of the source files' paths, sizes and times, kept in
 * <outdir>/build-stamp.json). Concurrent builds wait for each other (a lock
 * folder), and each file is written beside its target and renamed, chunks
 * before the entry that imports them, so a process starting meanwhile never
 * loads half a build.
 *
 *   node scripts/build.mjs [server|sim|demo|all] [--force]
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THIS_FILE = fileURLToPath(import.meta.url);
const STAMP = 'build-stamp.json';
const LOCK = '.build-lock';
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 120_000;

/** What each target is made of; `sources` are folders (every file but tests) or files. */
export const TARGETS = {
  server: {
    // main.mjs: runServer() for the demo, which runs the very same server code.
    entryPoints: { loaxa: 'server/src/cli/index.ts', main: 'server/src/main.ts' },
    outdir: 'server/dist',
    sources: ['server/src', 'protocol/src', 'server/package.json', 'protocol/package.json', 'scripts/build.mjs'],
  },
  sim: {
    entryPoints: { 'loaxa-sim': 'firmware-sim/src/cli.ts' },
    outdir: 'firmware-sim/dist',
    sources: [
      'firmware-sim/src',
      'device-agent/src',
      'protocol/src',
      'firmware-sim/package.json',
      'device-agent/package.json',
      'protocol/package.json',
      'scripts/build.mjs',
    ],
  },
  demo: {
    entryPoints: { demo: 'scripts/demo.ts' },
    outdir: 'scripts/dist',
    // The server itself is not bundled again: the demo imports the server build's main.mjs.
    needs: ['server'],
    linked: { '../server/src/main': '../../server/dist/main.mjs' },
    sources: [
      'scripts/demo.ts',
      'protocol/src',
      'firmware-sim/src',
      'device-agent/src',
      'protocol/package.json',
      'firmware-sim/package.json',
      'device-agent/package.json',
      'scripts/build.mjs',
    ],
  },
};

function collect(entry, out) {
  let stat;
  try {
    stat = fs.statSync(entry);
  } catch {
    return;
  }
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(entry)) {
      if (name === 'node_modules' || name === 'dist') continue;
      if (!name.endsWith('.test.ts')) collect(path.join(entry, name), out);
    }
  } else {
    out.push(`${entry}\0${stat.size}\0${stat.mtimeMs}`);
  }
}

/** Changes whenever a source file is added, removed, edited or touched. */
export function sourceSignature(name) {
  const lines = [];
  for (const source of TARGETS[name].sources) collect(path.join(ROOT, source), lines);
  return crypto.createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

function readStamp(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, TARGETS[name].outdir, STAMP), 'utf8'));
  } catch {
    return null;
  }
}

/** The build exists and was made from the sources as they are now. */
export function isFresh(name) {
  const stamp = readStamp(name);
  if (!stamp || stamp.signature !== sourceSignature(name)) return false;
  const outdir = path.join(ROOT, TARGETS[name].outdir);
  return stamp.files.every((file) => fs.existsSync(path.join(outdir, file)));
}

/**
 * For the bins: builds `name` in a child process (esbuild never lives in the
 * server's memory) when it is missing or stale. On failure prints esbuild's
 * errors and exits: an edit that does not compile is never silently ignored.
 */
export function ensureBuilt(name, { exitOnFailure = true } = {}) {
  if ([...(TARGETS[name].needs ?? []), name].every(isFresh)) return true;
  const result = spawnSync(process.execPath, [THIS_FILE, name], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status === 0) return true;
  const message = `loaxa: building ${TARGETS[name].outdir} failed\n${result.stderr ?? result.error ?? ''}`;
  if (!exitOnFailure) throw new Error(message);
  console.error(message);
  process.exit(1);
}

/**
 * Packages bundled in: the @loaxa/* workspaces (TypeScript sources), and TypeBox, whose ESM build is
 * some 300 small files that took ≈ 100 ms to load one by one (it keeps no state the other copy,
 * @fastify/type-provider-typebox's, would need: we use no TypeRegistry or FormatRegistry).
 */
const BUNDLED = /^(@loaxa\/|@sinclair\/typebox(\/|$))/;

/** Leaves every other package to node_modules, and `linked` imports to another build's output. */
function externals(linked = {}) {
  return {
    name: 'externals',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (BUNDLED.test(args.path) || path.isAbsolute(args.path)) return undefined;
        return { path: args.path, external: true };
      });
      build.onResolve({ filter: /^\./ }, (args) =>
        linked[args.path] ? { path: linked[args.path], external: true } : undefined,
      );
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function withLock(outdir, fn) {
  fs.mkdirSync(outdir, { recursive: true });
  const lock = path.join(outdir, LOCK);
  const waitUntil = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > STALE_LOCK_MS || Date.now() > waitUntil) fs.rmSync(lock, { recursive: true, force: true });
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function writeAtomically(file, contents) {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, contents);
  fs.renameSync(temp, file);
}

/** Builds `name` unless it is fresh (or `force`); returns whether it built. */
export async function build(name, { force = false } = {}) {
  const target = TARGETS[name];
  if (!target) throw new Error(`unknown build target ${name} (one of ${Object.keys(TARGETS).join(', ')})`);
  for (const needed of target.needs ?? []) await build(needed);
  const outdir = path.join(ROOT, target.outdir);
  return withLock(outdir, async () => {
    if (!force && isFresh(name)) return false;
    // Taken before building: an edit made while esbuild runs makes the next start build again.
    const signature = sourceSignature(name);
    const { build: esbuild } = await import('esbuild');
    const result = await esbuild({
      absWorkingDir: ROOT,
      entryPoints: Object.fromEntries(Object.entries(target.entryPoints).map(([k, v]) => [k, path.join(ROOT, v)])),
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      // No source maps: the bundle is not minified, and each module starts with a comment naming its source file.
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
      write: false,
      plugins: [externals(target.linked)],
    });
    for (const warning of result.warnings) console.error(`warning: ${warning.text}`);
    const entries = new Set(Object.keys(target.entryPoints).map((k) => `${k}.mjs`));
    const files = result.outputFiles.map((f) => ({ name: path.relative(outdir, f.path), contents: f.contents }));
    // Chunks first, then the entries that import them, then the stamp that says the build is whole.
    files.sort((a, b) => Number(entries.has(a.name)) - Number(entries.has(b.name)));
    for (const file of files) writeAtomically(path.join(outdir, file.name), file.contents);
    const previous = readStamp(name);
    const names = files.map((f) => f.name);
    writeAtomically(
      path.join(outdir, STAMP),
      JSON.stringify({ signature, builtAt: new Date().toISOString(), files: names }),
    );
    // Keep the previous build's chunks (a process started from it may still import one lazily); drop older ones.
    const keep = new Set([...names, ...(previous?.files ?? []), STAMP, LOCK]);
    for (const file of fs.readdirSync(outdir)) {
      if (!keep.has(file) && /\.mjs(\.map)?$/.test(file)) fs.rmSync(path.join(outdir, file), { force: true });
    }
    return true;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === THIS_FILE) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const named = args.filter((a) => !a.startsWith('--'));
  const names = named.length === 0 || named.includes('all') ? Object.keys(TARGETS) : named;
  for (const name of names) {
    const started = performance.now();
    let built;
    try {
      built = await build(name, { force });
    } catch (err) {
      // esbuild's message names each error's file, line and column; its stack says nothing more.
      console.error(err.errors ? err.message : err);
      process.exit(1);
    }
    const ms = Math.round(performance.now() - started);
    console.log(`loaxa: ${TARGETS[name].outdir} ${built ? `built in ${ms} ms` : 'is up to date'}`);
  }
}
