/**
 * The request a piece of work belongs to, carried across awaits. The logger
 * reads it, so a line written by a service (which holds the root logger, not
 * `request.log`) during an HTTP request still names that request's id.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LogContext {
  reqId: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();
