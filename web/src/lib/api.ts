/**
 * The one typed client for the server's REST API (`/api/v1`).
 *
 * Types are written by hand for now; they mirror the contract the server
 * publishes at /api/v1/openapi.json and will be checked against it.
 */

export const API_BASE = '/api/v1';
export const EVENTS_URL = `${API_BASE}/events`;

// ---------------------------------------------------------------- types

export type Role = string;

export interface User {
  username: string;
  role: Role;
}

export interface Device {
  id: string;
  name: string;
  /** Zone ids this device belongs to. */
  zones: string[];
  online: boolean;
  /** ISO-8601, or null when never seen. */
  lastSeen: string | null;
  agentVersion: string | null;
}

export interface Zone {
  id: string;
  name: string;
  deviceIds: string[];
}

export const PRIORITIES = ['normal', 'priority', 'emergency'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Furthest stage a delivery reached; `pending` until the device acknowledges anything. */
export const DELIVERY_STAGES = [
  'pending',
  'received',
  'ready',
  'started',
  'finished',
  'failed',
  'skipped',
  'preempted',
] as const;
export type DeliveryStage = (typeof DELIVERY_STAGES)[number];

export interface Delivery {
  deviceId: string;
  stage: DeliveryStage;
  at: string | null;
  detail: string | null;
}

export interface Occurrence {
  id: string;
  startAt: string;
  title: string;
  priority: Priority;
  deliveries: Delivery[];
}

export interface BroadcastRequest {
  text: string;
  zones: string[] | 'all';
  priority?: Priority;
  /** ISO-8601 UTC; omitted = now. */
  at?: string;
}

export interface BroadcastCreated {
  occurrenceId: string;
}

/** Live events on GET /api/v1/events (Server-Sent Events). */
export interface DeviceEvent {
  id: string;
  online: boolean;
  lastSeen: string | null;
}

export interface DeliveryEvent {
  occurrenceId: string;
  deviceId: string;
  stage: DeliveryStage;
  at: string | null;
  detail: string | null;
}

/** Error body of every non-2xx answer. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

// ---------------------------------------------------------------- errors

/**
 * A failed request. `status` is 0 when no answer came: the server could not
 * be reached (`network`) or did not answer in time (`timeout`; the request may
 * still have been carried out).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly kind: 'http' | 'network' | 'timeout';
  readonly field: string | undefined;

  constructor(status: number, message: string, options: { kind?: ApiError['kind']; field?: string } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.kind = options.kind ?? 'http';
    this.field = options.field;
  }

  /** No answer at all (unreachable or timed out). */
  get isNetwork(): boolean {
    return this.kind !== 'http';
  }
}

// ---------------------------------------------------------------- transport

let onUnauthorized: (() => void) | null = null;

/** Called whenever the API answers 401 on an authenticated call (session expired or revoked). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

interface RequestOptions {
  body?: unknown;
  /** 401 is an expected answer (login, session probe): do not treat it as "session lost". */
  expect401?: boolean;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: timeoutSignal(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
    throw new ApiError(0, cause instanceof Error ? cause.message : String(cause), {
      kind: timedOut ? 'timeout' : 'network',
    });
  }

  if (response.status === 401 && !options.expect401) onUnauthorized?.();

  if (!response.ok) {
    const error = await readErrorBody(response);
    throw new ApiError(response.status, error.message, error.field ? { field: error.field } : {});
  }
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError(response.status, 'Invalid JSON in response');
  }
}

/** AbortSignal.timeout is missing from older phone browsers; they simply wait. */
function timeoutSignal(ms: number): AbortSignal | undefined {
  return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
}

async function readErrorBody(response: Response): Promise<{ message: string; field?: string }> {
  try {
    const data = (await response.json()) as Partial<ApiErrorBody>;
    const message = typeof data.message === 'string' && data.message ? data.message : response.statusText;
    return typeof data.field === 'string' ? { message, field: data.field } : { message };
  } catch {
    return { message: response.statusText || `HTTP ${response.status}` };
  }
}

// ---------------------------------------------------------------- endpoints

export const api = {
  login(username: string, password: string): Promise<{ user: User }> {
    return request('POST', '/session', { body: { username, password }, expect401: true });
  },

  /** The current session's user, or null when not logged in. */
  async currentUser(): Promise<User | null> {
    try {
      const { user } = await request<{ user: User }>('GET', '/session', { expect401: true });
      return user;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },

  logout(): Promise<void> {
    return request('DELETE', '/session', { expect401: true });
  },

  devices(): Promise<Device[]> {
    return request('GET', '/devices');
  },

  zones(): Promise<Zone[]> {
    return request('GET', '/zones');
  },

  /** Renders the speech on the server, which can take several seconds. */
  createBroadcast(broadcast: BroadcastRequest): Promise<BroadcastCreated> {
    return request('POST', '/broadcasts', { body: broadcast, timeoutMs: 120_000 });
  },

  occurrence(id: string): Promise<Occurrence> {
    return request('GET', `/occurrences/${encodeURIComponent(id)}`);
  },
};
