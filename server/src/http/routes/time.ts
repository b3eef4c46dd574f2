import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/**
 * The server's clock, for agents whose node has no NTP (no route to a time
 * server on a private 4G APN). Public: the time of day is no secret, and a
 * device must be able to ask before anything else works. The agent measures
 * the round trip itself and takes the midpoint, as NTP and Snapcast do.
 */
export const timeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/time',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: "The server's clock in epoch ms (UTC), for device clock-offset estimates",
        response: { 200: Type.Object({ now: Type.Integer({ minimum: 0, description: 'server time, epoch ms' }) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { now: Date.now() };
    },
  );
};
