/**
 * HTTP plumbing shared by the cloud adapters: per-attempt timeouts, retries
 * with exponential backoff on 408/429/5xx/network errors (never on other 4xx:
 * a wrong key stays wrong), vendor-named errors, and polling for audio that
 * is produced asynchronously (FPT.AI, Vbee).
 */
import { TtsError } from './errors';

export interface RetryPolicy {
  /** Per HTTP attempt, including reading the body. */
  timeoutMs: number;
  /** Extra attempts after the first. */
  retries: number;
  /** First backoff; doubles each retry (with ±20 % jitter), capped at maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface PollPolicy {
  intervalMs: number;
  /** Give up waiting for the asynchronous result after this long. */
  timeoutMs: number;
}

/** Options every cloud adapter accepts besides its credentials. */
export interface HttpAdapterOptions {
  /** Overrides the vendor's documented base URL (tests point it at a local fake). */
  baseUrl?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  pollIntervalMs?: number;
  pollTimeoutMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 15_000, retries: 2, backoffMs: 500, maxBackoffMs: 8_000 };
export const DEFAULT_POLL: PollPolicy = { intervalMs: 1_000, timeoutMs: 120_000 };

export function retryPolicyOf(o: HttpAdapterOptions): RetryPolicy {
  return {
    timeoutMs: o.timeoutMs ?? DEFAULT_RETRY.timeoutMs,
    retries: o.retries ?? DEFAULT_RETRY.retries,
    backoffMs: o.backoffMs ?? DEFAULT_RETRY.backoffMs,
    maxBackoffMs: Math.max(o.backoffMs ?? 0, DEFAULT_RETRY.maxBackoffMs),
  };
}

export function pollPolicyOf(o: HttpAdapterOptions): PollPolicy {
  return {
    intervalMs: o.pollIntervalMs ?? DEFAULT_POLL.intervalMs,
    timeoutMs: o.pollTimeoutMs ?? DEFAULT_POLL.timeoutMs,
  };
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function retryAfterMs(res: Response): number | undefined {
  const raw = res.headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** The human part of a vendor's error body, whatever shape it uses. */
export function vendorMessage(body: string): string {
  const text = body.trim();
  if (!text) return '';
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const nested = json.error as Record<string, unknown> | string | undefined;
    const candidates = [
      typeof nested === 'object' && nested ? nested.message : nested,
      json.error_message,
      json.message,
      json.msg,
      json.detail,
    ];
    const found = candidates.find((c) => typeof c === 'string' && c.trim());
    if (typeof found === 'string') return found.trim();
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/** A TtsError for a non-2xx response (reads the body for the vendor's own message). */
export async function errorFromResponse(vendor: string, res: Response): Promise<TtsError> {
  const body = await res.text().catch(() => '');
  let detail = vendorMessage(body);
  if (!detail) {
    detail =
      res.status === 401 || res.status === 403
        ? 'invalid or missing api key'
        : res.status === 429
          ? 'rate limited'
          : res.statusText || 'request failed';
  }
  return new TtsError(vendor, detail, {
    status: res.status,
    retryable: isRetryableStatus(res.status),
    retryAfterMs: retryAfterMs(res),
  });
}

/** Throws a TtsError unless `res` is 2xx. */
export async function expectOk(vendor: string, res: Response): Promise<Response> {
  if (!res.ok) throw await errorFromResponse(vendor, res);
  return res;
}

/** Turns whatever an attempt threw into a TtsError that says what happened. */
function classify(
  vendor: string,
  err: unknown,
  attemptSignal: AbortSignal,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): TtsError {
  if (err instanceof TtsError) return err;
  if (callerSignal?.aborted) return new TtsError(vendor, 'aborted', { cause: err });
  if (attemptSignal.aborted) {
    return new TtsError(vendor, `no answer within ${timeoutMs} ms (timeout)`, { retryable: true, cause: err });
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const what = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
  return new TtsError(vendor, `network error: ${what}`, { retryable: true, cause: err });
}

/**
 * Runs `attempt` until it succeeds, a non-retryable error occurs, or the
 * retries are spent. Each attempt gets its own timeout signal, also aborted by
 * the caller's `signal`.
 */
export async function withRetry<T>(
  vendor: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    if (signal?.aborted) throw new TtsError(vendor, 'aborted');
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const attemptSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      return await attempt(attemptSignal);
    } catch (raw) {
      const err = classify(vendor, raw, attemptSignal, signal, policy.timeoutMs);
      if (!err.retryable || n >= policy.retries) {
        if (n === 0) throw err;
        throw new TtsError(vendor, `${err.detail} (after ${n + 1} attempts)`, {
          status: err.status,
          retryable: err.retryable,
          cause: err,
        });
      }
      const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** n) * (0.8 + Math.random() * 0.4);
      const wait = Math.min(policy.maxBackoffMs, Math.max(exponential, err.retryAfterMs ?? 0));
      try {
        await sleep(wait, signal);
      } catch {
        throw new TtsError(vendor, 'aborted');
      }
    }
  }
}

export type PollOutcome<T> = { ready: true; value: T } | { ready: false };

/**
 * Polls `check` every `poll.intervalMs` until it reports ready, for at most
 * `poll.timeoutMs`. Each check is retried on transient errors by `withRetry`.
 */
export async function pollUntilReady<T>(
  vendor: string,
  what: string,
  retry: RetryPolicy,
  poll: PollPolicy,
  signal: AbortSignal | undefined,
  check: (signal: AbortSignal) => Promise<PollOutcome<T>>,
  /**
   * Called before each check; aborting the signal it returns cuts the wait after that check short (a
   * callback arrived). Taken before the check, so a callback that lands while the check is in flight
   * is not lost.
   */
  wake?: () => AbortSignal,
): Promise<T> {
  const deadline = Date.now() + poll.timeoutMs;
  for (;;) {
    const early = wake?.();
    const outcome = await withRetry(vendor, retry, signal, check);
    if (outcome.ready) return outcome.value;
    if (Date.now() + poll.intervalMs > deadline) {
      throw new TtsError(vendor, `${what} not ready after ${poll.timeoutMs} ms`, { retryable: true });
    }
    try {
      await sleep(poll.intervalMs, early && signal ? AbortSignal.any([signal, early]) : (early ?? signal));
    } catch {
      if (signal?.aborted || !early?.aborted) throw new TtsError(vendor, 'aborted');
    }
  }
}

/** GETs `url` and returns its bytes; 404/403 (object not written yet) count as "not ready". */
export async function fetchAudioIfReady(
  vendor: string,
  url: string,
  signal: AbortSignal,
  headers?: Record<string, string>,
): Promise<PollOutcome<Uint8Array>> {
  const res = await fetch(url, { headers, signal });
  if (res.status === 404 || res.status === 403) {
    await res.body?.cancel().catch(() => {});
    return { ready: false };
  }
  await expectOk(vendor, res);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength === 0) return { ready: false };
  return { ready: true, value: bytes };
}

/** Health of a vendor whose every call is billed: only what can be checked for free. */
export function configuredKeyHealth(apiKey: string | undefined): { ok: boolean; detail?: string } {
  return apiKey ? { ok: true, detail: 'api key configured (not probed)' } : { ok: false, detail: 'no api key' };
}

/** The trimmed text, or a TtsError naming the vendor's length limits. */
export function boundedText(vendor: string, raw: string, limits: { min?: number; max?: number } = {}): string {
  const text = raw.trim();
  const min = limits.min ?? 1;
  if (text.length < min) {
    throw new TtsError(vendor, min === 1 ? 'text is empty' : `text must be at least ${min} characters`);
  }
  if (limits.max !== undefined && text.length > limits.max) {
    throw new TtsError(vendor, `text must be at most ${limits.max} characters`);
  }
  return text;
}
