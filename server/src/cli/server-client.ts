/**
 * How `loaxa` reaches the server: over HTTP to the running server with the
 * local admin token from the data directory, or — when no server runs —
 * straight to the database.
 */
import { loadConfig, type Config } from '../config';
import { readLocalToken } from '../auth/local-token';

export class CliError extends Error {}

export interface ServerTarget {
  config: Config;
  url: string;
  /** True when the user named the server explicitly (no database fallback then). */
  explicit: boolean;
}

export function resolveTarget(serverUrl: string | undefined): ServerTarget {
  const config = loadConfig();
  const url = serverUrl ?? `http://127.0.0.1:${config.port}`;
  return { config, url: url.replace(/\/$/, ''), explicit: serverUrl !== undefined };
}

/** Calls the running server; returns null when nothing listens there. */
export async function callServer<T>(
  target: ServerTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T } | null> {
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
    if (code === 'ECONNREFUSED') return null;
    throw new CliError(`cannot reach the server at ${target.url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as T) : (null as T);
  if (res.status === 401) {
    throw new CliError(
      `the server at ${target.url} refused the local admin token; run loaxa with the same LOAXA_DATA as the server, or set LOAXA_TOKEN`,
    );
  }
  return { status: res.status, body: parsed };
}

export async function serverIsRunning(target: ServerTarget): Promise<boolean> {
  try {
    const res = await fetch(`${target.url}/api/v1/health`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}
