/**
 * Where the running server listens, written into its data directory so that
 * `loaxa` run with the same LOAXA_DATA finds it whatever PORT it was started
 * with. Owner-only (like the local admin token beside it), removed on a clean
 * stop; a file left by a killed server names a dead pid and is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SERVER_ADDRESS_FILE = 'server.json';

export interface ServerAddress {
  /** Base URL of the HTTP API and console, e.g. http://127.0.0.1:8123 */
  url: string;
  /** The broker URL devices are given, e.g. mqtt://127.0.0.1:1884 */
  mqttUrl: string;
  pid: number;
  startedAt: string;
}

export function serverAddressFile(dataDir: string): string {
  return path.join(dataDir, SERVER_ADDRESS_FILE);
}

/** Writes the address (mode 0600, atomically); `remove()` deletes it unless another server has replaced it since. */
export function writeServerAddress(
  dataDir: string,
  address: Omit<ServerAddress, 'pid' | 'startedAt'>,
): {
  written: ServerAddress;
  remove(): void;
} {
  const written: ServerAddress = { ...address, pid: process.pid, startedAt: new Date().toISOString() };
  const file = serverAddressFile(dataDir);
  const text = `${JSON.stringify(written, null, 2)}\n`;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.renameSync(temp, file);
  return {
    written,
    remove() {
      try {
        if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file);
      } catch {
        // Already gone: nothing to clean.
      }
    },
  };
}

export type ServerAddressLookup =
  | { found: ServerAddress }
  /** A file left by a server that no longer runs (killed, or the machine restarted). */
  | { stale: ServerAddress }
  | { none: true };

/** The address of the server running on `dataDir`, if its file is there and its process alive. */
export function readServerAddress(dataDir: string, isAlive: (pid: number) => boolean = pidAlive): ServerAddressLookup {
  let parsed: Partial<ServerAddress>;
  try {
    parsed = JSON.parse(fs.readFileSync(serverAddressFile(dataDir), 'utf8')) as Partial<ServerAddress>;
  } catch {
    return { none: true };
  }
  const { url, mqttUrl, pid, startedAt } = parsed;
  if (typeof url !== 'string' || typeof mqttUrl !== 'string' || !Number.isInteger(pid) || (pid as number) <= 0) {
    return { none: true };
  }
  const address: ServerAddress = { url, mqttUrl, pid: pid as number, startedAt: String(startedAt ?? '') };
  return isAlive(address.pid) ? { found: address } : { stale: address };
}

/** Signal 0 tests for the process without touching it; EPERM means it exists under another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
