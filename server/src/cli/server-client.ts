/**
 * How `loaxa` reaches the server: over HTTP to the running server with the
 * local admin token from the data directory, or — when no server runs —
 * straight to the database.
 *
 * Which server: `--server-url` when given; else the one running on LOAXA_DATA,
 * which writes its address there (server-address.ts); else, only when PORT is
 * set, whatever answers on that port. Each command says on stderr which it used.
 */
import { loadConfig, type Config } from '../config';
import { readLocalToken } from '../auth/local-token';
import { readServerAddress, serverAddressFile } from '../server-address';
import { CliError } from './errors';

export { CliError };

export interface ServerTarget {
  config: Config;
  url: string;
  /** True when the user named the server explicitly (no database fallback then). */
  explicit: boolean;
  /** How the server was chosen, in words for stderr ("found in …/server.json, pid 4242"). */
  via: string;
  /** Why there is no server to call (then the CLI writes to the database), or null. */
  noServer: string | null;
}

export function resolveTarget(serverUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): ServerTarget {
  const config = loadConfig(env);
  if (serverUrl !== undefined) {
    return { config, url: serverUrl.replace(/\/$/, ''), explicit: true, via: '--server-url', noServer: null };
  }
  const file = serverAddressFile(config.dataDir);
  const lookup = readServerAddress(config.dataDir);
  if ('found' in lookup) {
    const { url, pid } = lookup.found;
    return { config, url, explicit: false, via: `found in ${file}, pid ${pid}`, noServer: null };
  }
  const why =
    'stale' in lookup ? `${file} names pid ${lookup.stale.pid}, which no longer runs` : `no server has written ${file}`;
  const portUrl = `http://127.0.0.1:${config.port}`;
  // An explicit PORT still names a server (one started before this file existed, or elsewhere).
  if (env.PORT) return { config, url: portUrl, explicit: false, via: `PORT=${env.PORT}; ${why}`, noServer: null };
  return { config, url: portUrl, explicit: false, via: why, noServer: why };
}

/** One line on stderr naming the server a command talked to. */
export function announceServer(target: ServerTarget): void {
  console.error(`loaxa: using the server at ${target.url} (${target.via})`);
}

/** Calls the running server; returns null when there is none to call (nothing listens there). */
export async function callServer<T>(
  target: ServerTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T } | null> {
  if (target.noServer) return null;
  const token = process.env.LOAXA_TOKEN ?? readLocalToken(target.config.dataDir);
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      target.noServer = `nothing answers at ${target.url} (${target.via})`;
      return null;
    }
    throw new CliError(`cannot reach the server at ${target.url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as T) : (null as T);
  if (res.status === 401) {
    throw new CliError(
      `the server at ${target.url} (${target.via}) refused the local admin token; ` +
        'run loaxa with the same LOAXA_DATA as the server, or set LOAXA_TOKEN',
    );
  }
  announceServer(target);
  return { status: res.status, body: parsed };
}

export async function serverIsRunning(target: ServerTarget): Promise<boolean> {
  if (target.noServer) return false;
  try {
    const res = await fetch(`${target.url}/api/v1/health`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}
