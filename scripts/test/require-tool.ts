/**
 * Tests that need a program on the machine (chromium, mosquitto, openssl,
 * shellcheck, ffmpeg, …) ask for it here, at module load:
 *
 *     const hasOpenssl = requireTool({
 *       tool: 'openssl',
 *       found: onPath('openssl'),
 *       install: 'apt-get install openssl',
 *       skips: 'TLS tests',
 *     });
 *     describe.skipIf(!hasOpenssl)('TLS', () => { … });
 *
 * A missing program skips those tests with a printed reason, unless
 * `LOAXA_REQUIRE_ALL=1` (CI sets it): then the file gets a failing test that
 * names the program and how to install it, so a machine without it cannot pass
 * by skipping. `LOAXA_HIDE_TOOLS=chromium,openssl` treats the listed programs
 * as missing, to see what skips (or fails) without them.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'vitest';

export interface ToolNeed {
  /** The program's name, as LOAXA_HIDE_TOOLS lists it: `chromium`. */
  tool: string;
  /** Whether it is there: a path or boolean, or a function giving one (not called when the tool is hidden). */
  found: string | boolean | undefined | null | (() => string | boolean | undefined | null);
  /** How to get it: `apt-get install chromium`. */
  install: string;
  /** What is skipped without it: `content browser tests`. */
  skips: string;
}

export type ToolCheck = { present: true } | { present: false; outcome: 'skip' | 'fail'; message: string };

export const REQUIRE_ALL = 'LOAXA_REQUIRE_ALL';
export const HIDE_TOOLS = 'LOAXA_HIDE_TOOLS';

/** Whether `need.tool` is there, and if not, whether its tests skip or fail and what to print. */
export function checkTool(need: ToolNeed, env: NodeJS.ProcessEnv = process.env): ToolCheck {
  const hidden = (env[HIDE_TOOLS] ?? '')
    .split(',')
    .map((name) => name.trim())
    .includes(need.tool);
  const found = hidden ? false : typeof need.found === 'function' ? need.found() : need.found;
  if (found) return { present: true };
  const why = `${need.tool} is ${hidden ? `hidden by ${HIDE_TOOLS}` : 'not installed'} (${need.install})`;
  if (env[REQUIRE_ALL] === '1') {
    return { present: false, outcome: 'fail', message: `${REQUIRE_ALL}=1 but ${why}; needed by ${need.skips}` };
  }
  return { present: false, outcome: 'skip', message: `[skip] ${need.skips}: ${why}; ${REQUIRE_ALL}=1 fails instead` };
}

export interface RequireToolHooks {
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
  /** Registers a test that fails with `error`. */
  fail: (name: string, error: Error) => void;
}

const defaultHooks: RequireToolHooks = {
  env: process.env,
  warn: (message) => console.warn(message),
  fail: (name, error) =>
    test(name, () => {
      throw error;
    }),
};

/**
 * True when `need.tool` is there. Otherwise false (skip the tests that need it),
 * after printing why, or with LOAXA_REQUIRE_ALL=1 after adding a failing test
 * `requires <tool>` to the calling file.
 */
export function requireTool(need: ToolNeed, hooks: Partial<RequireToolHooks> = {}): boolean {
  const { env, warn, fail } = { ...defaultHooks, ...hooks };
  const check = checkTool(need, env);
  if (check.present) return true;
  if (check.outcome === 'fail') fail(`requires ${need.tool}`, new Error(check.message));
  else warn(check.message);
  return false;
}

/** The path of an executable `program` on PATH, if any. */
export function onPath(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * A test that cannot look at what it checks on this machine (an environment, not a missing
 * program): prints why and skips, or with LOAXA_REQUIRE_ALL=1 fails, so CI cannot pass by
 * skipping. Never returns.
 */
export function skipForEnvironment(ctx: { skip(note?: string): never }, why: string, env = process.env): never {
  if (env[REQUIRE_ALL] === '1') throw new Error(`${why} (${REQUIRE_ALL}=1)`);
  console.warn(`[skip] ${why}; ${REQUIRE_ALL}=1 fails instead`);
  return ctx.skip(why);
}
