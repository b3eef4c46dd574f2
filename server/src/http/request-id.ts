/**
 * Request ids: a caller (a proxy, the console, the CLI) may send its own
 * `X-Request-Id`; a sane one is kept, anything else is replaced by a fresh id.
 * The id goes back in the `X-Request-Id` header and in JSON error bodies
 * (`requestId`), and every log line written while serving the request carries
 * it as `reqId`.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { logContext } from '../log-context';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Printable, no spaces or quotes, short enough for a log line and a header. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;

export function newRequestId(): string {
  return `req-${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`;
}

/** Fastify's `genReqId`: the caller's id if it is sane, else a new one. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : newRequestId();
}

/**
 * Registers the hooks on the root instance (before any route plugin, so they
 * run first and cover 404s and refused requests too).
 */
export function installRequestIds(app: FastifyInstance): void {
  // Callback hooks: the rest of the request runs inside `done`, so inside the context.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    logContext.run({ reqId: request.id }, done);
  });
  // Reading the body runs in the socket's context, not ours: enter it again before the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    logContext.run({ reqId: request.id }, done);
  });
}
