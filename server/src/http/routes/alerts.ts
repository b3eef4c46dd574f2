/**
 * Disaster alerts (alerts/service.ts): the list with each commune's decision,
 * matched loudspeakers and the plays they became; a leader's one tap to air
 * an alert that waits for confirmation, or to dismiss it; the feeds polled,
 * which a province administrator adds and removes (the install's, not one
 * commune's: an alert reaches whichever communes its area covers).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { CommuneField } from '../commune-field';

const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);
const AlertCommune = Type.Object({
  communeId: Type.String(),
  communeName: Type.String(),
  decision: Type.Union([Type.Literal('auto'), Type.Literal('confirm'), Type.Literal('show')]),
  rule: Type.Union([Type.Integer(), Type.Null()], {
    description: 'the index of the commune’s alert rule that decided (Settings); null: the default rule',
  }),
  allClear: Type.Boolean({ description: 'a Cancel is followed by an all-clear here (or this is that all-clear)' }),
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
  categories: Type.Array(Type.String(), { description: 'CAP categories (Met, Geo, Safety, …)' }),
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

const Feed = Type.Object({
  url: Type.String(),
  source: Type.Union([Type.Literal('environment'), Type.Literal('saved')], {
    description: 'environment: LOAXA_CAP_FEEDS (changed there); saved: added in Settings',
  }),
  savedBy: Type.Union([Type.String(), Type.Null()]),
  savedAt: NullableIso,
  polledAt: NullableIso,
  okAt: NullableIso,
  error: Type.Union([Type.String(), Type.Null()]),
  failures: Type.Integer({ description: 'reads failed in a row (the feed backs off, doubling up to 30 min)' }),
  nextAt: Type.Union([Iso, Type.Null()], { description: 'not read again before this while backing off' }),
});
const FeedUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2000,
  description: 'an http(s) URL serving a CAP 1.2 file, or an RSS/Atom index linking CAP files',
});

export const alertRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  /** Feeds are the install's: only a province user changes them. */
  const provinceOnly = (scope: { communeId: string | null }) => {
    if (scope.communeId !== null) {
      throw new HttpError(403, 'only a province administrator changes the alert feeds', 'url');
    }
  };

  app.get(
    '/alerts/refused',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'CAP files refused whole (malformed or hostile), newest first: where from and why',
        response: {
          200: Type.Array(
            Type.Object({
              at: Iso,
              source: Type.String({ description: 'the file’s URL' }),
              path: Type.Union([Type.String(), Type.Null()], { description: 'where in the XML the problem is' }),
              reason: Type.String(),
            }),
          ),
        },
      },
    },
    async () => services.alerts.refused(),
  );

  app.get(
    '/alerts/feeds',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['alerts'],
        summary: 'The CAP feeds polled, where each comes from and how its last read went',
        response: { 200: Type.Array(Feed) },
      },
    },
    async () => services.alerts.feeds(),
  );

  app.post(
    '/alerts/feeds',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['alerts'],
        summary: 'Poll one more CAP feed (read at once, then every LOAXA_CAP_POLL_S seconds); province only',
        body: Type.Object({ url: FeedUrl }, { additionalProperties: false }),
        response: { 201: Feed, 400: ErrorReply, 403: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      provinceOnly(request.scope);
      const feed = await services.alerts.addFeed(request.body.url, request.user!.username);
      await services.audit.record({
        actor: request.user!.username,
        action: 'alert.feed.add',
        target: feed.url,
        ip: request.ip,
        communeId: null,
      });
      return reply.status(201).send(feed);
    },
  );

  app.delete(
    '/alerts/feeds',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['alerts'],
        summary: 'Stop polling a feed added in Settings (those of LOAXA_CAP_FEEDS stay); province only',
        querystring: Type.Object({ url: FeedUrl }, { additionalProperties: false }),
        response: { 204: Type.Null(), 403: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      provinceOnly(request.scope);
      await services.alerts.removeFeed(request.query.url);
      await services.audit.record({
        actor: request.user!.username,
        action: 'alert.feed.remove',
        target: request.query.url,
        ip: request.ip,
        communeId: null,
      });
      return reply.status(204).send(null);
    },
  );

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
        const communeId = await services.communes.forWrite(request.scope, request.body.commune);
        const view = await services.alerts.decideFor(
          request.scope,
          request.params.id,
          communeId,
          action,
          request.body.revision,
          request.user!.username,
        );
        await services.audit.record({
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
