/**
 * The province's communes: a province admin creates and renames them; every
 * signed-in user reads the ones they may see (a commune user: their own).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { ZoneGeocodes } from '../language-fields';

const CommuneView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  geocodes: ZoneGeocodes,
  revision: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});
const Name = Type.String({ minLength: 1, maxLength: 120 });

export const communeRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/communes',
    {
      config: { permission: 'communes:read' },
      schema: {
        tags: ['communes'],
        summary: 'The communes you may see: all of the province for a province user, your own for a commune user',
        response: { 200: Type.Array(CommuneView) },
      },
    },
    async (request) => services.communes.list(request.scope),
  );

  app.get(
    '/communes/:id',
    {
      config: { permission: 'communes:read' },
      schema: {
        tags: ['communes'],
        summary: 'One commune',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: CommuneView, 404: ErrorReply },
      },
    },
    async (request) => {
      const commune = await services.communes.get(request.scope, request.params.id);
      if (!commune) throw new HttpError(404, `no commune with id ${request.params.id}`, 'id');
      return commune;
    },
  );

  app.post(
    '/communes',
    {
      config: { permission: 'communes:manage' },
      schema: {
        tags: ['communes'],
        summary: 'Create a commune (province admin); its id is made from the name',
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 201: CommuneView, 400: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const commune = await services.communes.create(request.body.name);
      await services.audit.record({
        actor: request.user!.username,
        action: 'commune.create',
        target: commune.id,
        detail: { name: commune.name },
        ip: request.ip,
        communeId: null,
      });
      return reply.status(201).send(commune);
    },
  );

  app.patch(
    '/communes/:id',
    {
      config: { permission: 'communes:manage' },
      schema: {
        tags: ['communes'],
        summary:
          'Rename a commune and/or set the codes disaster alerts reach all its loudspeakers by ' +
          '(compare-and-set on `revision`: 409 with `current` if someone changed it first)',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          { name: Type.Optional(Name), geocodes: Type.Optional(ZoneGeocodes), revision: Type.Integer({ minimum: 1 }) },
          { additionalProperties: false, minProperties: 2 },
        ),
        response: { 200: CommuneView, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const before = await services.communes.get(request.scope, request.params.id);
      const { revision, ...change } = request.body;
      const commune = await services.communes.update(request.params.id, change, revision);
      await services.audit.record({
        actor: request.user!.username,
        action: change.name !== undefined ? 'commune.rename' : 'commune.update',
        target: commune.id,
        detail: { from: before?.name, to: commune.name, geocodes: commune.geocodes },
        ip: request.ip,
        communeId: null,
      });
      return commune;
    },
  );
};
