/**
 * A private PostgreSQL (Debian's), started by a test on a free loopback port
 * in a temporary directory and stopped by its pid: `initdb` with trust
 * authentication, then the `postgres` server itself as our child process (as
 * the `postgres` user when the tests run as root, which PostgreSQL requires).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireTool } from '../../scripts/test/require-tool';
import { freePort, waitFor } from './helpers';

/** The newest installed server's bin directory (Debian keeps them off PATH: /usr/lib/postgresql/15/bin). */
export const POSTGRES_BIN_DIR = (() => {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
})();

/**
 * Whether PostgreSQL is here for `skips` (the tests that need it): without it they skip with the
 * reason, or fail under LOAXA_REQUIRE_ALL=1 (scripts/test/require-tool.ts). Call at module load.
 */
export function requirePostgres(skips: string): boolean {
  return requireTool({ tool: 'postgresql', found: POSTGRES_BIN_DIR, install: 'apt-get install postgresql', skips });
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  url: string;
  pid: number;
  /** Everything the server logged so far. */
  log(): string;
  /** Fast shutdown (SIGINT) and removal of the data directory. */
  close(): Promise<void>;
}

/** The uid/gid to run as: PostgreSQL refuses to run as root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!POSTGRES_BIN_DIR) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-pg-'));
  const data = path.join(dir, 'data');
  const user = runAs();
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const bin = (name: string) => path.join(POSTGRES_BIN_DIR!, name);
  execFileSync(bin('initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
    stdio: 'pipe',
    ...user,
  });
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    bin('postgres'),
    [
      '-D',
      data,
      '-c',
      'listen_addresses=127.0.0.1',
      '-p',
      String(port),
      '-c',
      `unix_socket_directories=${dir}`,
      // A test database is thrown away: no need to survive a power cut.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...user },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    'PostgreSQL to accept connections',
    () => {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${output}`);
      return /ready to accept connections/.test(output);
    },
    30_000,
  );
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid: child.pid!,
    log: () => output,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
