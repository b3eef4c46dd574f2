/**
 * Disaster alerts (alerts/service.ts): the list with each commune's decision,
 * matched loudspeakers and the plays they became; a leader's one tap to air
 * an alert that waits for confirmation, or to dismiss it.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { ErrorReply } from '../errors';
import { CommuneField } from '../commune-field';

const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);
const AlertCommune = Type.Object({
  communeId: Type.String(),
  communeName: Type.String(),
  decision: Type.Union([Type.Literal('auto'), Type.Literal('confirm'), Type.Literal('show')]),
  status: Type.Union(['waiting', 'airing', 'done', 'dismissed'].map((s) => Type.Literal(s))),
  devices: Type.Integer({ description: 'loudspeakers of the commune inside the alert’s area' }),
  repeatsDone: Type.Integer(),
  nextAt: NullableIso,
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  revision: Type.Integer(),
  occurrences: Type.Array(Type.Object({ id: Type.String(), startAt: Iso })),
});
const LatLon = Type.Array(Type.Number(), { minItems: 2, maxItems: 2 });
const Alert = Type.Object({
  id: Type.String(),
  sender: Type.String(),
  identifier: Type.String(),
  sentAt: Iso,
  msgType: Type.String(),
  status: Type.String({ description: 'CAP status: only Actual alerts go on air' }),
  state: Type.Union(['active', 'replaced', 'cancelled', 'expired', 'not-actual'].map((s) => Type.Literal(s))),
  event: Type.String(),
  severity: Type.String(),
  urgency: Type.String(),
  certainty: Type.String(),
  level: Type.Integer({ minimum: 1, maximum: 5, description: 'risk level (Decision 18/2021)' }),
  headline: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  instruction: Type.Union([Type.String(), Type.Null()]),
  expiresAt: NullableIso,
  areas: Type.Array(
    Type.Object({
      areaDesc: Type.String(),
      polygons: Type.Array(Type.Array(LatLon)),
      circles: Type.Array(Type.Object({ lat: Type.Number(), lon: Type.Number(), radiusKm: Type.Number() })),
      geocodes: Type.Array(Type.Object({ valueName: Type.String(), value: Type.String() })),
    }),
  ),
  receivedAt: Iso,
  replaces: Type.Union([Type.String(), Type.Null()]),
  communes: Type.Array(AlertCommune),
});

export const alertRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/alerts',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'Disaster alerts (CAP), newest first, with each commune’s decision, loudspeakers and plays',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Alert) },
      },
    },
    async (request) => services.alerts.list(request.scope, request.query.limit ?? 100),
  );

  for (const action of ['confirm', 'dismiss'] as const) {
    app.post(
      `/alerts/:id/${action}`,
      {
        config: { permission: 'broadcasts:emergency' },
        schema: {
          tags: ['alerts'],
          summary:
            action === 'confirm'
              ? 'Air an alert that waits for a leader’s confirmation in a commune (compare-and-set on revision)'
              : 'Dismiss an alert that waits for confirmation in a commune: it does not go on air',
          params: Type.Object({ id: Type.String({ maxLength: 80 }) }),
          body: Type.Object(
            { revision: Type.Integer({ minimum: 1 }), commune: CommuneField },
            { additionalProperties: false },
          ),
          response: { 200: AlertCommune, 404: ErrorReply, 409: ErrorReply },
        },
      },
      async (request) => {
        const communeId = services.communes.forWrite(request.scope, request.body.commune);
        const view = services.alerts.decideFor(
          request.scope,
          request.params.id,
          communeId,
          action,
          request.body.revision,
          request.user!.username,
        );
        services.audit.record({
          actor: request.user!.username,
          action: `alert.${action}`,
          target: request.params.id,
          ip: request.ip,
          communeId,
        });
        return view;
      },
    );
  }
};
