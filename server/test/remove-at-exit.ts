/**
 * Temporary directories removed when the test process exits. One `exit` listener for all of
 * them: test files share their worker's process (vitest.config.ts), and a listener per
 * directory would pile up past Node's warning threshold within a few files.
 */
import fs from 'node:fs';

const dirs = new Set<string>();

export function removeAtExit(dir: string): void {
  if (dirs.size === 0) process.once('exit', removeAll);
  dirs.add(dir);
}

function removeAll(): void {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
