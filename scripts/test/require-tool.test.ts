import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTool, onPath, requireTool, skipForEnvironment, type ToolNeed } from './require-tool';

const need = (found: ToolNeed['found']): ToolNeed => ({
  tool: 'frobnicate',
  found,
  install: 'apt-get install frobnicate',
  skips: 'frobnication tests',
});

/** requireTool with recording hooks. */
function run(found: ToolNeed['found'], env: NodeJS.ProcessEnv) {
  const warned: string[] = [];
  const failed: [string, string][] = [];
  const present = requireTool(need(found), {
    env,
    warn: (m) => warned.push(m),
    fail: (name, error) => failed.push([name, error.message]),
  });
  return { present, warned, failed };
}

describe('requireTool', () => {
  it('runs the tests when the tool is there, whatever LOAXA_REQUIRE_ALL says', () => {
    for (const env of [{}, { LOAXA_REQUIRE_ALL: '1' }]) {
      for (const found of [true, '/usr/bin/frobnicate', () => '/usr/bin/frobnicate']) {
        expect(run(found, env)).toEqual({ present: true, warned: [], failed: [] });
      }
    }
  });

  it('skips with a printed reason when the tool is missing', () => {
    for (const found of [false, undefined, null, '', () => undefined]) {
      expect(run(found, {})).toEqual({
        present: false,
        warned: [
          '[skip] frobnication tests: frobnicate is not installed (apt-get install frobnicate); ' +
            'LOAXA_REQUIRE_ALL=1 fails instead',
        ],
        failed: [],
      });
    }
    expect(run(false, { LOAXA_REQUIRE_ALL: '0' }).failed).toEqual([]);
  });

  it('adds a failing test naming the tool and its package when the tool is missing and LOAXA_REQUIRE_ALL=1', () => {
    expect(run(undefined, { LOAXA_REQUIRE_ALL: '1' })).toEqual({
      present: false,
      warned: [],
      failed: [
        [
          'requires frobnicate',
          'LOAXA_REQUIRE_ALL=1 but frobnicate is not installed (apt-get install frobnicate); needed by frobnication tests',
        ],
      ],
    });
  });

  it('treats a tool listed in LOAXA_HIDE_TOOLS as missing, without looking for it', () => {
    let looked = false;
    const found = () => {
      looked = true;
      return true;
    };
    expect(checkTool(need(found), { LOAXA_HIDE_TOOLS: 'chromium, frobnicate' })).toEqual({
      present: false,
      outcome: 'skip',
      message:
        '[skip] frobnication tests: frobnicate is hidden by LOAXA_HIDE_TOOLS (apt-get install frobnicate); ' +
        'LOAXA_REQUIRE_ALL=1 fails instead',
    });
    expect(checkTool(need(found), { LOAXA_HIDE_TOOLS: 'frobnicate', LOAXA_REQUIRE_ALL: '1' })).toMatchObject({
      present: false,
      outcome: 'fail',
    });
    expect(looked).toBe(false);
    expect(checkTool(need(found), { LOAXA_HIDE_TOOLS: 'frobnicator' })).toEqual({ present: true });
    expect(looked).toBe(true);
  });
});

describe('skipForEnvironment', () => {
  const ctx = {
    skip(note?: string): never {
      throw new Error(`skipped: ${note}`);
    },
  };

  it('skips with the reason, or fails under LOAXA_REQUIRE_ALL=1', () => {
    expect(() => skipForEnvironment(ctx, 'no kSetNoDelay here', {})).toThrow('skipped: no kSetNoDelay here');
    expect(() => skipForEnvironment(ctx, 'no kSetNoDelay here', { LOAXA_REQUIRE_ALL: '1' })).toThrow(
      'no kSetNoDelay here (LOAXA_REQUIRE_ALL=1)',
    );
  });
});

describe('onPath', () => {
  it('finds an executable file on PATH and nothing else', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-onpath-'));
    fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'plain'), '', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'folder'));
    const env = { PATH: ['/nonexistent', dir].join(path.delimiter) };
    expect(onPath('tool', env)).toBe(path.join(dir, 'tool'));
    expect(onPath('plain', env)).toBeUndefined();
    expect(onPath('folder', env)).toBeUndefined();
    expect(onPath('tool', {})).toBeUndefined();
  });
});

describe('in a real vitest run', () => {
  /** Runs a test file that needs a missing tool through vitest, with `env` added. */
  function vitestWithMissingTool(env: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-require-tool-'));
    const helper = path.join(import.meta.dirname, 'require-tool.ts');
    fs.writeFileSync(
      path.join(dir, 'needs-tool.test.ts'),
      [
        `import { describe, expect, it } from 'vitest';`,
        `import { requireTool } from ${JSON.stringify(helper)};`,
        `const has = requireTool({ tool: 'frobnicate', found: false, install: 'apt-get install frobnicate', skips: 'frobnication tests' });`,
        `it('runs the rest of the file', () => expect(1).toBe(1));`,
        `describe.skipIf(!has)('frobnication', () => { it('frobnicates', () => expect(has).toBe(true)); });`,
        '',
      ].join('\n'),
    );
    const vitest = path.resolve(import.meta.dirname, '../../node_modules/vitest/vitest.mjs');
    const result = spawnSync(process.execPath, [vitest, 'run', '--root', dir, '--reporter', 'verbose'], {
      env: { ...process.env, LOAXA_REQUIRE_ALL: '', LOAXA_HIDE_TOOLS: '', ...env, NO_COLOR: '1', CI: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: result.status, output: result.stdout + result.stderr };
  }

  it('skips and passes without LOAXA_REQUIRE_ALL', () => {
    const { status, output } = vitestWithMissingTool({});
    expect(output).toContain('[skip] frobnication tests: frobnicate is not installed (apt-get install frobnicate)');
    expect(output).toMatch(/1 passed \| 1 skipped/);
    expect(status).toBe(0);
  });

  it('fails, naming the tool and its package, with LOAXA_REQUIRE_ALL=1', () => {
    const { status, output } = vitestWithMissingTool({ LOAXA_REQUIRE_ALL: '1' });
    expect(output).toMatch(/requires frobnicate/);
    expect(output).toContain(
      'LOAXA_REQUIRE_ALL=1 but frobnicate is not installed (apt-get install frobnicate); needed by frobnication tests',
    );
    expect(output).toMatch(/1 failed \| 1 passed \| 1 skipped/);
    expect(status).toBe(1);
  });
});
