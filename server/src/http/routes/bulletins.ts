/**
 * The provincial source tier over HTTP: the province writes, approves and
 * follows bulletins; a commune reads its inbox and places or declines the
 * normal ones. See bulletins/bulletins.ts for the rules.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { allows } from '../../auth/permissions';

const Priority = Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')]);
const Stage = Type.String();
const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Revision = Type.Integer({ minimum: 1 });

const CommuneHandlingView = Type.Object({
  communeId: Type.String(),
  name: Type.String(),
  status: Type.Union(['received', 'scheduled', 'aired', 'declined'].map((s) => Type.Literal(s))),
  declineReason: NullableString,
  detail: NullableString,
  handledBy: NullableString,
  handledAt: NullableIso,
  revision: Type.Integer(),
  occurrences: Type.Array(Type.Object({ id: Type.String(), startAt: Iso })),
  devices: Type.Integer(),
  played: Type.Integer(),
  failed: Type.Integer(),
  deliveries: Type.Optional(
    Type.Array(
      Type.Object({
        deviceId: Type.String(),
        occurrenceId: Type.String(),
        stage: Stage,
        at: NullableIso,
        detail: NullableString,
      }),
    ),
  ),
});

const BulletinView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  text: NullableString,
  priority: Priority,
  status: Type.Union(['submitted', 'sent', 'rejected', 'cancelled'].map((s) => Type.Literal(s))),
  allCommunes: Type.Boolean(),
  sha256: Type.String(),
  durationMs: Type.Integer(),
  expiresAt: NullableIso,
  public: Type.Boolean({ description: 'shown on the communes’ public pages and podcasts once aired' }),
  reviewReason: NullableString,
  reviewedBy: NullableString,
  sentAt: NullableIso,
  createdBy: Type.String(),
  createdAt: Iso,
  revision: Type.Integer(),
  communes: Type.Array(CommuneHandlingView),
});

export const bulletinRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const bulletins = () => services.bulletins;

  app.get(
    '/bulletins',
    {
      config: { permission: 'bulletins:read' },
      schema: {
        tags: ['bulletins'],
        summary:
          'Bulletins from the province, newest first: all for a province user, a commune’s inbox for a commune user',
        querystring: Type.Object(
          { limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1 to 999' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(BulletinView) },
      },
    },
    async (request) =>
      bulletins().list(request.scope, request.query.limit ? { limit: Number(request.query.limit) } : {}),
  );

  app.post(
    '/bulletins',
    {
      config: { permission: 'bulletins:write' },
      schema: {
        tags: ['bulletins'],
        summary: 'Write a bulletin for all or chosen communes with a TT39 priority (province)',
        description:
          'Give `text` (spoken by the TTS) or `audio` (the sha256 of an uploaded file). A province approver’s or ' +
          'admin’s bulletin is sent at once; an editor’s waits for approval (POST /bulletins/{id}/approve). ' +
          '`normal` lands in each commune’s inbox; `priority` is placed just ahead of each commune’s next ' +
          'scheduled programme; `emergency` plays at once on every loudspeaker of the communes, preempting, and ' +
          'reaches loudspeakers that come back online until `expiresAt` (default one hour).',
        body: Type.Object(
          {
            title: Type.Optional(Type.String({ maxLength: 200 })),
            text: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
            audio: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
            priority: Priority,
            communes: Type.Union([Type.Literal('all'), Type.Array(Id, { minItems: 1, maxItems: 500 })]),
            expiresAt: Type.Optional(Iso),
            voice: Type.Optional(Type.String({ maxLength: 64 })),
            public: Type.Optional(
              Type.Boolean({
                description: 'shown on the communes’ public pages once aired (default: yes for text, no for audio)',
              }),
            ),
            speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: BulletinView, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const { expiresAt, ...rest } = request.body;
      const user = request.user!;
      const bulletin = await bulletins().create(
        { ...rest, ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}) },
        user.username,
        allows(user, 'bulletins:approve'),
      );
      await services.audit.record({
        actor: user.username,
        action: bulletin.status === 'sent' ? 'bulletin.send' : 'bulletin.submit',
        target: bulletin.id,
        detail: {
          priority: bulletin.priority,
          communes: bulletin.communes.map((c) => c.communeId),
          title: bulletin.title,
        },
        ip: request.ip,
        communeId: null,
      });
      return reply.status(201).send(bulletin);
    },
  );

  app.get(
    '/bulletins/:id',
    {
      config: { permission: 'bulletins:read' },
      schema: {
        tags: ['bulletins'],
        summary: 'One bulletin: each commune’s handling (received/scheduled/aired/declined) and per-device deliveries',
        params: Type.Object({ id: Id }),
        response: { 200: BulletinView, 404: ErrorReply },
      },
    },
    async (request) => {
      const bulletin = await bulletins().get(request.scope, request.params.id);
      if (!bulletin) throw new HttpError(404, `no bulletin with id ${request.params.id}`, 'id');
      return bulletin;
    },
  );

  app.post(
    '/bulletins/:id/approve',
    {
      config: { permission: 'bulletins:approve' },
      schema: {
        tags: ['bulletins'],
        summary: 'Approve a submitted bulletin and send it (compare-and-set on `revision`)',
        params: Type.Object({ id: Id }),
        body: Type.Object({ revision: Revision }, { additionalProperties: false }),
        response: { 200: BulletinView, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const bulletin = await bulletins().approve(request.params.id, request.body.revision, request.user!.username);
      await services.audit.record({
        actor: request.user!.username,
        action: 'bulletin.approve',
        target: bulletin.id,
        ip: request.ip,
        communeId: null,
      });
      return bulletin;
    },
  );

  app.post(
    '/bulletins/:id/reject',
    {
      config: { permission: 'bulletins:approve' },
      schema: {
        tags: ['bulletins'],
        summary: 'Reject a submitted bulletin with a reason (compare-and-set on `revision`)',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          { revision: Revision, reason: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: BulletinView, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const { revision, reason } = request.body;
      const bulletin = await bulletins().reject(request.params.id, revision, reason, request.user!.username);
      await services.audit.record({
        actor: request.user!.username,
        action: 'bulletin.reject',
        target: bulletin.id,
        detail: { reason },
        ip: request.ip,
        communeId: null,
      });
      return bulletin;
    },
  );

  app.post(
    '/bulletins/:id/place',
    {
      config: { permission: 'bulletins:handle' },
      schema: {
        tags: ['bulletins'],
        summary: 'Place a bulletin from the commune’s inbox at a time on the commune’s zones',
        description:
          '`revision` is the commune’s row revision (GET /bulletins/{id} → communes[].revision). ' +
          'A province user names the `commune` it acts for.',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            commune: Type.Optional(Id),
            at: Iso,
            zones: Type.Union([Type.Literal('all'), Type.Array(Id, { minItems: 1, maxItems: 500 })]),
            revision: Revision,
          },
          { additionalProperties: false },
        ),
        response: { 200: BulletinView, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const { commune, at, zones, revision } = request.body;
      const communeId = await services.communes.forWrite(request.scope, commune);
      const bulletin = await bulletins().place(
        request.scope,
        request.params.id,
        communeId,
        { at: new Date(at), zones, revision },
        request.user!.username,
      );
      await services.audit.record({
        actor: request.user!.username,
        action: 'bulletin.place',
        target: bulletin.id,
        detail: { at, zones },
        ip: request.ip,
        communeId,
      });
      return bulletin;
    },
  );

  app.post(
    '/bulletins/:id/decline',
    {
      config: { permission: 'bulletins:handle' },
      schema: {
        tags: ['bulletins'],
        summary: 'Decline a bulletin in the commune’s inbox, with a reason the province sees',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          { commune: Type.Optional(Id), reason: Type.String({ minLength: 1, maxLength: 1000 }), revision: Revision },
          { additionalProperties: false },
        ),
        response: { 200: BulletinView, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const { commune, reason, revision } = request.body;
      const communeId = await services.communes.forWrite(request.scope, commune);
      const bulletin = await bulletins().decline(
        request.scope,
        request.params.id,
        communeId,
        { reason, revision },
        request.user!.username,
      );
      await services.audit.record({
        actor: request.user!.username,
        action: 'bulletin.decline',
        target: bulletin.id,
        detail: { reason },
        ip: request.ip,
        communeId,
      });
      return bulletin;
    },
  );
};
