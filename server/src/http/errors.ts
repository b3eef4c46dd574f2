/**
 * Every error leaves as JSON `{statusCode, error, message, field?, requestId}`: the
 * message says what is wrong in a sentence, `field` names the input, and no
 * stack trace ever reaches a client.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { STATUS_CODES } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
    /** Structured detail sent alongside the message (e.g. a conflict list). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const ErrorReply = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    /** A stable name for the reason, where a client acts on it (e.g. `password-change-required`). */
    code: { type: 'string' },
    /** The request's id, as in the X-Request-Id header and the server log: quote it when reporting a problem. */
    requestId: { type: 'string' },
    /** On a 409 from a compare-and-set: the object as it is now, so the client can show what changed. */
    current: {},
    /** On a 409 from the commune's broadcast rules (field "rules"): each rule broken, when, and why. */
    ruleBreaks: {
      type: 'array',
      items: {
        type: 'object',
        properties: { rule: { type: 'string' }, startAt: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function describeValidation(issue: ValidationIssue, context: string | undefined): { field: string; message: string } {
  let field = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
    field = field ? `${field}.${issue.params.missingProperty}` : issue.params.missingProperty;
    return { field, message: `${field}: is required` };
  }
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
    return {
      field: issue.params.additionalProperty,
      message: `${issue.params.additionalProperty}: is not a known field`,
    };
  }
  const name = field || context || 'body';
  return { field: name, message: `${name}: ${issue.message ?? 'is invalid'}` };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { field?: string }, request, reply) => {
    if (error.validation && error.validation.length > 0) {
      const { field, message } = describeValidation(error.validation[0] as ValidationIssue, error.validationContext);
      return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message, field, requestId: request.id });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(status).send({
        statusCode: status,
        error: STATUS_CODES[status],
        message: 'internal server error',
        requestId: request.id,
      });
    }
    const body: Record<string, unknown> = {
      ...(error as { extra?: Record<string, unknown> }).extra,
      statusCode: status,
      error: STATUS_CODES[status],
      message: error.message,
    };
    if (error.field) body.field = error.field;
    body.requestId = request.id;
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route for ${request.method} ${request.url.split('?')[0]}`,
      requestId: request.id,
    }),
  );
}
