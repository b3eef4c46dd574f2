import { OverrideRules, VersionsInput } from '../language-fields';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ID_PATTERN, PRIORITIES, ACK_STAGES } from '@loaxa/protocol';
import { BroadcastInputError } from '../../broadcasts/service';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { allows } from '../../auth/permissions';
import {
  countOccurrences,
  DELIVERY_OUTCOMES,
  DELIVERY_STAGES,
  deliveryProblems,
  recentOccurrences,
} from '../../broadcasts/recent';
import { CommuneField } from '../commune-field';

const CommuneId = Type.String({ description: 'the commune it belongs to' });
const Occurrence = Type.Object({
  id: Type.String(),
  communeId: CommuneId,
  title: Type.String(),
  priority: Type.Union(PRIORITIES.map((p) => Type.Literal(p))),
  startAt: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer(),
  sha256: Type.String(),
  engine: Type.Union([Type.String(), Type.Null()]),
  stoppedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  stoppedBy: Type.Union([Type.String(), Type.Null()]),
  deliveries: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      stage: Type.Union(['pending', ...ACK_STAGES].map((s) => Type.Literal(s))),
      at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      detail: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const OccurrenceSummary = Type.Object({
  id: Type.String(),
  communeId: CommuneId,
  title: Type.String(),
  priority: Type.Union(PRIORITIES.map((p) => Type.Literal(p))),
  startAt: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer(),
  scheduleId: Type.Union([Type.String(), Type.Null()]),
  cancelled: Type.Boolean(),
  stoppedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  stoppedBy: Type.Union([Type.String(), Type.Null()]),
  devices: Type.Integer({ description: 'loudspeakers targeted' }),
  stages: Type.Object(
    Object.fromEntries(DELIVERY_STAGES.map((s) => [s, Type.Integer()])) as Record<
      (typeof DELIVERY_STAGES)[number],
      ReturnType<typeof Type.Integer>
    >,
    { description: 'deliveries at each furthest stage reached' },
  ),
  outcomes: Type.Object(
    Object.fromEntries(DELIVERY_OUTCOMES.map((s) => [s, Type.Integer()])) as Record<
      (typeof DELIVERY_OUTCOMES)[number],
      ReturnType<typeof Type.Integer>
    >,
    {
      description:
        'the same deliveries by outcome: "missed" = not started a minute after the planned start; "stopped" = ' +
        'not finished when someone stopped the broadcast (neither a success nor a failure)',
    },
  ),
});

const DeliveryProblem = Type.Object({
  occurrenceId: Type.String(),
  communeId: CommuneId,
  title: Type.String(),
  priority: Type.Union(PRIORITIES.map((p) => Type.Literal(p))),
  startAt: Type.String({ format: 'date-time' }),
  deviceId: Type.String(),
  deviceName: Type.String(),
  online: Type.Boolean(),
  outcome: Type.Union([Type.Literal('failed'), Type.Literal('missed')]),
  stage: Type.Union(DELIVERY_STAGES.map((s) => Type.Literal(s))),
  at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});

const DAY_MS = 24 * 3600_000;
const LIST_LIMIT = 50;
const LIST_MAX = 200;

export const broadcastRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/broadcasts',
    {
      config: { permission: 'broadcasts:send' },
      schema: {
        tags: ['broadcasts'],
        summary: 'Broadcast a notice now, or at a set time, to zones or to all loudspeakers of one commune',
        description:
          'The broadcast belongs to one commune: the caller’s, or for a province user the `commune` named ' +
          '(required when the province has several). Its zones are that commune’s; `all` is every loudspeaker ' +
          'of that commune.',
        body: Type.Object(
          {
            text: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }),
            zones: Type.Union([
              Type.Array(Type.String({ pattern: ID_PATTERN }), { minItems: 1, maxItems: 500, uniqueItems: true }),
              Type.Literal('all'),
            ]),
            priority: Type.Optional(Type.Union(PRIORITIES.map((p) => Type.Literal(p)))),
            at: Type.Optional(Type.String({ format: 'date-time' })),
            voice: Type.Optional(Type.String({ maxLength: 64 })),
            public: Type.Optional(
              Type.Boolean({
                description:
                  'shown on the commune’s public page and podcast once it has aired (default true: a text notice)',
              }),
            ),
            versions: Type.Optional(VersionsInput),
            overrideRules: Type.Optional(OverrideRules),
            commune: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'the commune it is broadcast in: required for a province user when there are several',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            occurrenceId: Type.String(),
            versions: Type.Array(
              Type.Object({ language: Type.String(), occurrenceId: Type.String(), devices: Type.Integer() }),
              { description: 'the occurrence of each version that plays somewhere' },
            ),
          }),
          400: ErrorReply,
          403: ErrorReply,
          404: ErrorReply,
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const { text, zones, priority, at, voice, commune } = request.body;
      const isPublic = request.body.public ?? true;
      if (priority === 'emergency' && !allows(request.user!, 'broadcasts:emergency')) {
        throw new HttpError(403, `your role (${request.user!.role}) may not send emergency broadcasts`, 'priority');
      }
      const communeId = await services.communes.forWrite(request.scope, commune);
      try {
        const { occurrenceId, versions, overridden } = await services.broadcasts.create({
          communeId,
          text,
          zones,
          priority,
          at: at ? new Date(at) : undefined,
          voice,
          public: isPublic,
          ...(request.body.versions ? { versions: request.body.versions } : {}),
          ...(request.body.overrideRules ? { overrideRules: request.body.overrideRules } : {}),
          mayOverride: allows(request.user!, 'schedules:approve'),
          createdBy: request.user?.username,
        });
        await services.audit.record({
          actor: request.user!.username,
          action: priority === 'emergency' ? 'broadcast.emergency' : 'broadcast.create',
          target: occurrenceId,
          detail: {
            zones,
            priority: priority ?? 'normal',
            at: at ?? null,
            text,
            public: isPublic,
            versions: versions.map((v) => ({ language: v.language, occurrenceId: v.occurrenceId })),
          },
          ip: request.ip,
          communeId,
        });
        if (overridden.length) {
          await services.audit.record({
            actor: request.user!.username,
            action: 'rules.override',
            target: occurrenceId,
            detail: {
              reason: request.body.overrideRules!.reason,
              breaks: overridden.map((b) => ({ rule: b.rule, startAt: new Date(b.startAt).toISOString() })),
            },
            ip: request.ip,
            communeId,
          });
        }
        return reply.status(201).send({
          occurrenceId,
          versions: versions.map((v) => ({
            language: v.language,
            occurrenceId: v.occurrenceId,
            devices: v.deviceIds.length,
          })),
        });
      } catch (err) {
        if (err instanceof BroadcastInputError) throw new HttpError(400, err.message, err.field);
        throw err;
      }
    },
  );

  app.get(
    '/occurrences',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['broadcasts'],
        summary: 'Recent broadcasts, newest first, with their delivery counts',
        description:
          'Occurrences starting in [from, to) (default: the last 24 hours to the next 24 hours), ' +
          `at most \`limit\` (default ${LIST_LIMIT}, at most ${LIST_MAX}) after skipping \`offset\`. ` +
          'The `X-Total-Count` header says how many start in the window.',
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            // Query values arrive as text and the app does not coerce types: digits, read below.
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: `1 to ${LIST_MAX}` })),
            offset: Type.Optional(
              Type.String({ pattern: '^[0-9]{1,9}$', description: 'occurrences to skip (default 0)' }),
            ),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(OccurrenceSummary), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const scope = await services.communes.listScope(request.scope, request.query.commune);
      const now = Date.now();
      const from = request.query.from ? Date.parse(request.query.from) : now - DAY_MS;
      const to = request.query.to ? Date.parse(request.query.to) : now + DAY_MS;
      if (to <= from) throw new HttpError(400, 'to: must be after from', 'to');
      const limit = Number(request.query.limit ?? LIST_LIMIT);
      if (limit < 1 || limit > LIST_MAX) throw new HttpError(400, `limit: must be from 1 to ${LIST_MAX}`, 'limit');
      const offset = Number(request.query.offset ?? 0);
      const page = await recentOccurrences(services.sql, scope, { from, to, limit, offset }, now);
      // A short first page is all there is; otherwise count.
      const total =
        offset === 0 && page.length < limit ? page.length : await countOccurrences(services.sql, scope, { from, to });
      void reply.header('x-total-count', String(total));
      return page;
    },
  );

  app.get(
    '/deliveries/problems',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['broadcasts'],
        summary: 'Deliveries that failed or were missed, newest first, across every broadcast you may see',
        description:
          'Broadcasts that started since `since` (default: the last 24 hours); a delivery is missed when its ' +
          'loudspeaker had not started it a minute after the planned start. At most `limit` (default 20, at most 500).',
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ format: 'date-time' })),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: '1 to 500' })),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(DeliveryProblem), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const scope = await services.communes.listScope(request.scope, request.query.commune);
      const now = Date.now();
      const since = request.query.since ? Date.parse(request.query.since) : now - DAY_MS;
      const limit = Number(request.query.limit ?? 20);
      if (limit < 1 || limit > 500) throw new HttpError(400, 'limit: must be from 1 to 500', 'limit');
      return await deliveryProblems(services.sql, scope, { since, limit }, now);
    },
  );

  app.get(
    '/occurrences/:id',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['broadcasts'],
        summary: 'One occurrence with each device’s furthest delivery stage',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }) }),
        response: { 200: Occurrence, 404: ErrorReply },
      },
    },
    async (request) => {
      // Another commune's occurrence is answered like one that does not exist.
      const occurrence = await services.broadcasts.getOccurrence(request.scope, request.params.id);
      if (!occurrence) throw new HttpError(404, `no occurrence with id ${request.params.id}`, 'id');
      return occurrence;
    },
  );
};
