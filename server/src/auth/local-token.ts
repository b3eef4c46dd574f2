/**
 * A token for the operator's command line on the same machine: the server
 * writes it into the data directory (mode 0600) at start, and `loaxa` reads
 * it from there to call the running server as an admin. Whoever can read the
 * data directory already owns the database, so this grants nothing new.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hashToken, newToken, tokenMatches } from './passwords';

export const LOCAL_TOKEN_FILE = 'admin-token';

export function writeLocalToken(dataDir: string): { matches(token: string): boolean } {
  const token = newToken();
  const file = path.join(dataDir, LOCAL_TOKEN_FILE);
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, `${token}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
  const hash = hashToken(token);
  return { matches: (candidate) => tokenMatches(candidate, hash) };
}

export function readLocalToken(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, LOCAL_TOKEN_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}
