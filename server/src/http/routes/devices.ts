import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConflictError } from '../../devices/registry';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';

const Device = Type.Object({
  id: Type.String(),
  name: Type.String(),
  zones: Type.Array(Type.String()),
  online: Type.Boolean(),
  lastSeen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  agentVersion: Type.Union([Type.String(), Type.Null()]),
  revoked: Type.Boolean(),
});

const Zone = Type.Object({ id: Type.String(), name: Type.String(), deviceIds: Type.Array(Type.String()) });

export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'All loudspeakers with online state',
        response: { 200: Type.Array(Device) },
      },
    },
    async () => services.registry.listDevices(),
  );

  app.get(
    '/zones',
    { schema: { tags: ['zones'], summary: 'All zones with their devices', response: { 200: Type.Array(Zone) } } },
    async () => services.registry.listZones(),
  );

  app.post(
    '/zones',
    {
      schema: {
        tags: ['zones'],
        summary: 'Create a zone (village or group of loudspeakers)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), name: Type.String() }), 400: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      try {
        const zone = services.registry.createZone(request.body.name);
        return reply.status(201).send({ id: zone.id, name: zone.name });
      } catch (err) {
        if (err instanceof ConflictError) throw new HttpError(409, err.message, err.field);
        throw err;
      }
    },
  );
};
