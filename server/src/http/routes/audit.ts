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
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
            before: Type.Optional(Type.Integer({ minimum: 1 })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Entry) },
      },
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const entries = services.audit.list(filter);
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
