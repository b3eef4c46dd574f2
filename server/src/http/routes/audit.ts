import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditCsv } from '../../audit/audit-log';
import type { AppServices } from '../context';

const Entry = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  communeId: Type.Union([Type.String(), Type.Null()]),
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first; `format=csv` downloads it',
        querystring: Type.Object(
          {
            // Query values arrive as text and the app does not coerce types: digits, read below.
            limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$|^10000$', description: '1 to 10000' })),
            before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'an entry id' })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Entry) },
      },
    },
    async (request, reply) => {
      const { format, limit, before, action } = request.query;
      const entries = await services.audit.list(request.scope, {
        action,
        ...(limit ? { limit: Number(limit) } : {}),
        ...(before ? { before: Number(before) } : {}),
      });
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="loaxa-audit.csv"')
          .serializer((x: unknown) => String(x))
          .send(auditCsv(entries) as never);
      }
      return entries;
    },
  );
};
