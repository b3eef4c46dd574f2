/**
 * The one error every engine throws, so callers (the registry's fallback,
 * the console) can say which vendor failed, with what status, and whether
 * trying again could help.
 */
export class TtsError extends Error {
  readonly vendor: string;
  /** HTTP status when the vendor answered; undefined for network errors, timeouts and local failures. */
  readonly status: number | undefined;
  /** True for 408/429/5xx, network errors and timeouts: another attempt may succeed. */
  readonly retryable: boolean;
  /** Milliseconds the vendor asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;
  /** The message without the vendor and status prefix. */
  readonly detail: string;

  constructor(
    vendor: string,
    detail: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${vendor}: ${options.status !== undefined ? `${options.status} ` : ''}${detail}`, { cause: options.cause });
    this.name = 'TtsError';
    this.vendor = vendor;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = detail;
  }
}

export function isTtsError(err: unknown): err is TtsError {
  return err instanceof TtsError;
}
