import { sql } from 'kysely';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { SERVER_VERSION } from '../../version';

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Liveness and a few numbers',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            version: Type.String(),
            uptimeS: Type.Integer(),
            devices: Type.Integer(),
            devicesOnline: Type.Integer(),
            /** This server instance (host:pid:random), for a load balancer's or an operator's logs. */
            instance: Type.String(),
            /** Whether this instance runs the scheduler and housekeeping (one of several on PostgreSQL). */
            leader: Type.Boolean(),
          }),
        },
      },
    },
    async () => {
      const row = (await services.sql.db
        .selectFrom('devices')
        .select([sql<number>`COUNT(*)`.as('n'), sql<number>`CAST(COALESCE(SUM(online), 0) AS BIGINT)`.as('online')])
        .where('revoked_at', 'is', null)
        .executeTakeFirstOrThrow()) as { n: number; online: number };
      return {
        status: 'ok' as const,
        version: SERVER_VERSION,
        uptimeS: Math.floor((Date.now() - services.startedAt) / 1000),
        devices: row.n,
        devicesOnline: row.online,
        instance: services.cluster.instance,
        leader: services.cluster.isLeader(),
      };
    },
  );
};
