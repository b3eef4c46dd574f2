/**
 * Every shell script in the repository (scripts/*.sh, .ci/run, any other file
 * named *.sh or starting with a sh/bash #! line) parses and is shellcheck-clean.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onPath, requireTool } from './require-tool';

const repo = path.resolve(import.meta.dirname, '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'data', 'reports', 'coverage']);

const hasShellcheck = requireTool({
  tool: 'shellcheck',
  found: () => onPath('shellcheck'),
  install: 'apt-get install shellcheck',
  skips: 'shellcheck of the shell scripts',
});

function isShellScript(file: string): boolean {
  if (file.endsWith('.sh')) return true;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return /^#!\s*\S*\/(?:env\s+)?(?:ba|da)?sh\b/.test(head.subarray(0, n).toString('utf8'));
  } finally {
    fs.closeSync(fd);
  }
}

function shellScripts(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !(entry.name.startsWith('.') && entry.name !== '.ci')) {
        found.push(...shellScripts(full));
      }
    } else if (entry.isFile() && isShellScript(full)) {
      found.push(path.relative(repo, full));
    }
  }
  return found.sort();
}

describe('shell scripts', () => {
  const scripts = shellScripts(repo);

  it('are found: scripts/*.sh and .ci/run at least', () => {
    expect(scripts).toEqual(expect.arrayContaining(['scripts/install-agent.sh', '.ci/run']));
  });

  it.each(scripts)('%s parses (bash -n)', (script) => {
    const result = spawnSync('bash', ['-n', script], { cwd: repo, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasShellcheck)('are shellcheck-clean', () => {
    const result = spawnSync('shellcheck', scripts, { cwd: repo, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
