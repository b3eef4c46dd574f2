/**
 * Content library, programmes, schedules with approval, the calendar and
 * occurrence cancellation: the culture officer's daily work, over HTTP.
 */
import { OverrideRules, VersionsInput } from '../language-fields';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ID_PATTERN, PRIORITIES } from '@loaxa/protocol';
import { CommuneField } from '../commune-field';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { allows } from '../../auth/permissions';
import { ScheduleInputError } from '../../schedule/errors';
import type { Actor, ScheduleInput, ScheduleView } from '../../schedule/schedules';

const KINDS = ['notice', 'audio', 'stream', 'silence'] as const;
const STATUSES = ['draft', 'submitted', 'approved', 'rejected', 'cancelled'] as const;
const KindT = Type.Union(KINDS.map((k) => Type.Literal(k)));
const StatusT = Type.Union(STATUSES.map((s) => Type.Literal(s)));
const PriorityT = Type.Union(PRIORITIES.map((p) => Type.Literal(p)));
const Id = Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9._-]+$' });
const IdParams = Type.Object({ id: Id });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 20, uniqueItems: true });
/**
 * On creation: the commune the new row belongs to (a commune user's own by
 * default; a province user names one when there are several). On a change:
 * only the row's own commune (nothing moves between communes).
 */
/** A province user's list filter: only this commune's rows. */
const CommuneQuery = Type.Object({ commune: CommuneField }, { additionalProperties: false });

const ContentBody = Type.Object(
  {
    kind: KindT,
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    tags: Type.Optional(Tags),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
    voice: Type.Optional(Type.String({ maxLength: 64 })),
    speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2 })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    url: Type.Optional(Type.String({ maxLength: 2000 })),
    durationMs: Type.Optional(Type.Integer({ minimum: 100 })),
    versions: Type.Optional(VersionsInput),
    public: Type.Optional(
      Type.Boolean({
        description:
          'notice and audio: shown on the commune’s public page once aired, as the approver confirms ' +
          '(default: a notice yes, uploaded audio no; an update without it keeps it)',
      }),
    ),
    /** On a change: the revision the writer saw (409 with the current item when it moved on). */
    revision: Type.Optional(Type.Integer({ minimum: 1 })),
    commune: CommuneField,
  },
  { additionalProperties: false },
);
const ContentItem = Type.Object({
  id: Type.String(),
  communeId: Type.String(),
  kind: Type.String(),
  title: Type.String(),
  tags: Type.Array(Type.String()),
  text: Type.Union([Type.String(), Type.Null()]),
  voice: Type.Union([Type.String(), Type.Null()]),
  speed: Type.Union([Type.Number(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  engine: Type.Union([Type.String(), Type.Null()]),
  url: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
  public: Type.Boolean(),
  versions: Type.Array(
    Type.Object({
      language: Type.String(),
      sha256: Type.String(),
      durationMs: Type.Integer(),
      title: Type.String(),
      text: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  revision: Type.Integer(),
});

const ProgrammeBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    items: Type.Array(
      Type.Object(
        {
          contentId: Id,
          repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
          gapMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 50 },
    ),
    /** On a change: the revision the writer saw (409 with the current programme when it moved on). */
    revision: Type.Optional(Type.Integer({ minimum: 1 })),
    commune: CommuneField,
  },
  { additionalProperties: false },
);
const Programme = Type.Object({
  id: Type.String(),
  communeId: Type.String(),
  title: Type.String(),
  items: Type.Array(
    Type.Object({
      contentId: Type.String(),
      title: Type.String(),
      kind: Type.String(),
      repeat: Type.Integer(),
      gapMs: Type.Integer(),
      durationMs: Type.Integer(),
    }),
  ),
  durationMs: Type.Integer(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
  revision: Type.Integer(),
});

const Rule = Type.Object(
  {
    kind: Type.Union([Type.Literal('once'), Type.Literal('daily'), Type.Literal('weekly')]),
    startDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    endDate: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    times: Type.Array(Type.String({ pattern: '^\\d{2}:\\d{2}(:\\d{2})?$' }), { minItems: 1, maxItems: 24 }),
    weekdays: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { maxItems: 7, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const ScheduleBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    programmeId: Id,
    rule: Rule,
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    priority: Type.Optional(PriorityT),
    volume: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()])),
    repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    repeatGapMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    zones: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN }), { maxItems: 500, uniqueItems: true })),
    devices: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN }), { maxItems: 5000, uniqueItems: true })),
    onConflict: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('priority')])),
    overrideRules: Type.Optional(OverrideRules),
    /** On a change: the revision the writer saw (409 with the current schedule when it moved on). */
    revision: Type.Optional(Type.Integer({ minimum: 1 })),
    commune: CommuneField,
  },
  { additionalProperties: false },
);
const Schedule = Type.Object({
  id: Type.String(),
  communeId: Type.String(),
  title: Type.String(),
  programmeId: Type.String(),
  programmeTitle: Type.Union([Type.String(), Type.Null()]),
  rule: Rule,
  timezone: Type.String(),
  priority: PriorityT,
  volume: Type.Union([Type.Integer(), Type.Null()]),
  repeat: Type.Integer(),
  repeatGapMs: Type.Integer(),
  zones: Type.Array(Type.String()),
  devices: Type.Array(Type.String()),
  status: StatusT,
  programmeChanged: Type.Boolean(),
  reviewReason: Type.Union([Type.String(), Type.Null()]),
  reviewedBy: Type.Union([Type.String(), Type.Null()]),
  reviewedAt: Type.Union([Type.String(), Type.Null()]),
  revision: Type.Integer(),
  reviewRevision: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer(),
  publicTitles: Type.Array(Type.String(), {
    description:
      'the items the public page will show once aired: frozen at approval; for a schedule awaiting approval, ' +
      'what approving it would confirm',
  }),
});
const ConflictT = Type.Object({
  deviceIds: Type.Array(Type.String()),
  otherScheduleId: Type.String(),
  otherTitle: Type.String(),
  otherPriority: PriorityT,
  start: Type.String(),
  end: Type.String(),
  otherStart: Type.String(),
  otherEnd: Type.String(),
});
const RuleBreakT = Type.Object({
  rule: Type.Union([Type.Literal('quietHours'), Type.Literal('maxSessionMinutes'), Type.Literal('maxSessionsPerDay')]),
  startAt: Type.String({ format: 'date-time' }),
  message: Type.String(),
});
const ConflictReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  /** An overlap: the list and its size. */
  conflicts: Type.Optional(Type.Array(ConflictT)),
  total: Type.Optional(Type.Integer()),
  /** A change made meanwhile (field "revision"): the schedule as it is now. */
  current: Type.Optional(Type.Unknown()),
  /** The commune's broadcast rules the schedule breaks (field "rules"). */
  ruleBreaks: Type.Optional(Type.Array(RuleBreakT)),
});

function actorOf(request: FastifyRequest): Actor {
  const user = request.user!;
  return {
    username: user.username,
    canApprove: allows(user, 'schedules:approve'),
    canPublish: allows(user, 'schedules:publish'),
  };
}

/** A change names no commune, or the row's own: nothing moves between communes. */
function stayIn(communeId: string, requested: string | undefined): void {
  if (requested !== undefined && requested !== communeId) {
    throw new HttpError(400, `commune: cannot move to another commune (it belongs to ${communeId})`, 'commune');
  }
}

/** Service errors become HTTP errors; a conflict keeps its list for the console. */
async function guarded<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ScheduleInputError) {
      throw new HttpError(err.status, err.message, err.field, err.detail);
    }
    throw err;
  }
}

export const scheduleRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { scheduling, audit, communes } = services;
  /** Audits an action on `target`, an object of `communeId`. */
  const record = (request: FastifyRequest, action: string, target: string, communeId: string, detail?: object) =>
    audit.record({ actor: request.user!.username, action, target, detail, ip: request.ip, communeId });
  /** A leader let a one-off play through the broadcast rules: the reason and what it broke, audited. */
  const recordOverride = async (request: FastifyRequest, s: ScheduleView) => {
    if (!s.ruleOverride) return;
    await record(request, 'rules.override', s.id, s.communeId, {
      reason: s.ruleOverride.reason,
      breaks: s.ruleOverride.breaks.map((b) => ({ rule: b.rule, startAt: new Date(b.startAt).toISOString() })),
    });
  };
  /** The commune a new row is created in (tenancy/communes.ts). */
  const communeFor = async (request: FastifyRequest, requested: string | undefined) =>
    communes.forWrite(request.scope, requested);

  /** Schedules using a changed programme go back for approval (or are re-approved by a publisher), audited each. */
  const schedulesFollow = async (request: FastifyRequest, programmeId: string, cause: string) => {
    const outcomes = await guarded(() =>
      scheduling.schedules.programmeChanged(request.scope, programmeId, actorOf(request)),
    );
    for (const o of outcomes) {
      const action = {
        reapproved: 'schedule.reapprove',
        'back-to-approval': 'schedule.back_to_approval',
        'changed-in-review': 'schedule.changed_in_review',
      }[o.outcome];
      await record(request, action, o.scheduleId, o.communeId, { title: o.title, cause });
      services.hub.emit('approval', { scheduleId: o.scheduleId, status: o.outcome, title: o.title });
    }
  };

  // ---- content library ------------------------------------------------------
  app.get(
    '/content',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['content'],
        summary: 'Search the content library (words in title, text or tags)',
        querystring: Type.Object(
          {
            q: Type.Optional(Type.String({ maxLength: 200 })),
            kind: Type.Optional(KindT),
            tag: Type.Optional(Type.String({ maxLength: 40 })),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(ContentItem), 404: ErrorReply },
      },
    },
    async (request) => {
      const { commune, ...filter } = request.query;
      return scheduling.content.list(await communes.listScope(request.scope, commune), filter);
    },
  );

  app.post(
    '/content',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['content'],
        summary: 'Add a notice (rendered now), uploaded audio, a stream relay or a silence to the library',
        body: ContentBody,
        response: { 201: ContentItem, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const communeId = await communeFor(request, request.body.commune);
      const item = await guarded(() => scheduling.content.create(communeId, request.body, request.user!.username));
      await record(request, 'content.create', item.id, item.communeId, { kind: item.kind, title: item.title });
      return reply.status(201).send(item);
    },
  );

  app.get(
    '/content/:id',
    {
      config: { permission: 'broadcasts:read' },
      schema: { tags: ['content'], params: IdParams, response: { 200: ContentItem, 404: ErrorReply } },
    },
    async (request) => {
      const item = await scheduling.content.get(request.scope, request.params.id);
      if (!item) throw new HttpError(404, `no content item with id ${request.params.id}`, 'id');
      return item;
    },
  );

  app.put(
    '/content/:id',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['content'],
        summary: 'Change an item; approved schedules using it wait for approval again (publishers: at once)',
        params: IdParams,
        body: ContentBody,
        response: { 200: ContentItem, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const item = await guarded(async () => {
        const existing = await scheduling.content.get(request.scope, request.params.id);
        if (existing) stayIn(existing.communeId, request.body.commune);
        return scheduling.content.update(request.scope, request.params.id, request.body);
      });
      await record(request, 'content.update', item.id, item.communeId, { title: item.title, revision: item.revision });
      for (const pid of await scheduling.programmes.programmesUsing(item.id)) {
        await schedulesFollow(request, pid, `content ${item.id}`);
      }
      return item;
    },
  );

  app.delete(
    '/content/:id',
    {
      config: { permission: 'content:write' },
      schema: { tags: ['content'], params: IdParams, response: { 204: Type.Null(), 404: ErrorReply, 409: ErrorReply } },
    },
    async (request, reply) => {
      const item = await guarded(() => scheduling.content.remove(request.scope, request.params.id));
      await record(request, 'content.delete', item.id, item.communeId);
      return reply.status(204).send(null);
    },
  );

  // ---- programmes -------------------------------------------------------------
  app.get(
    '/programmes',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['programmes'],
        querystring: CommuneQuery,
        response: { 200: Type.Array(Programme), 404: ErrorReply },
      },
    },
    async (request) => scheduling.programmes.list(await communes.listScope(request.scope, request.query.commune)),
  );

  app.post(
    '/programmes',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['programmes'],
        summary: 'Create a programme: ordered items with per-item repeat and gap',
        body: ProgrammeBody,
        response: { 201: Programme, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const communeId = await communeFor(request, request.body.commune);
      const p = await guarded(() => scheduling.programmes.create(communeId, request.body, request.user!.username));
      await record(request, 'programme.create', p.id, p.communeId, { title: p.title, items: p.items.length });
      return reply.status(201).send(p);
    },
  );

  app.get(
    '/programmes/:id',
    {
      config: { permission: 'broadcasts:read' },
      schema: { tags: ['programmes'], params: IdParams, response: { 200: Programme, 404: ErrorReply } },
    },
    async (request) => {
      const p = await scheduling.programmes.get(request.scope, request.params.id);
      if (!p) throw new HttpError(404, `no programme with id ${request.params.id}`, 'id');
      return p;
    },
  );

  app.put(
    '/programmes/:id',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['programmes'],
        summary: 'Change (e.g. reorder) a programme',
        params: IdParams,
        body: ProgrammeBody,
        response: { 200: Programme, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const p = await guarded(async () => {
        const existing = await scheduling.programmes.get(request.scope, request.params.id);
        if (existing) stayIn(existing.communeId, request.body.commune);
        return scheduling.programmes.update(request.scope, request.params.id, request.body);
      });
      await record(request, 'programme.update', p.id, p.communeId, {
        title: p.title,
        items: p.items.map((i) => i.contentId),
        revision: p.revision,
      });
      await schedulesFollow(request, p.id, `programme ${p.id}`);
      return p;
    },
  );

  app.delete(
    '/programmes/:id',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['programmes'],
        params: IdParams,
        response: { 204: Type.Null(), 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const p = await guarded(() => scheduling.programmes.remove(request.scope, request.params.id));
      await record(request, 'programme.delete', p.id, p.communeId);
      return reply.status(204).send(null);
    },
  );

  // ---- schedules ----------------------------------------------------------------
  const emergencyGuard = (request: FastifyRequest, body: Static<typeof ScheduleBody>) => {
    if (body.priority === 'emergency' && !allows(request.user!, 'broadcasts:emergency')) {
      throw new HttpError(403, `your role (${request.user!.role}) may not schedule emergency broadcasts`, 'priority');
    }
  };

  app.get(
    '/schedules',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['schedules'],
        querystring: Type.Object(
          {
            status: Type.Optional(StatusT),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Schedule), 404: ErrorReply },
      },
    },
    async (request) =>
      scheduling.schedules.list(
        await communes.listScope(request.scope, request.query.commune),
        request.query.status ? { status: [request.query.status] } : {},
      ),
  );

  app.post(
    '/schedules',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['schedules'],
        summary: 'Create a schedule (a draft); overlaps on any loudspeaker are refused with the list (409)',
        body: ScheduleBody,
        response: { 201: Schedule, 400: ErrorReply, 404: ErrorReply, 409: ConflictReply },
      },
    },
    async (request, reply) => {
      emergencyGuard(request, request.body);
      const communeId = await communeFor(request, request.body.commune);
      const s = await guarded(() =>
        scheduling.schedules.create(communeId, request.body as ScheduleInput, actorOf(request)),
      );
      await record(request, 'schedule.create', s.id, s.communeId, request.body);
      await recordOverride(request, s);
      return reply.status(201).send(s);
    },
  );

  app.post(
    '/schedules/conflicts',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['schedules'],
        summary:
          'Check a schedule for overlaps and for the commune’s broadcast rules it breaks, without saving it ' +
          '(for the calendar, before saving)',
        // `id`: the schedule being edited, left out of its own conflicts.
        body: Type.Composite([ScheduleBody, Type.Object({ id: Type.Optional(Id) })], { additionalProperties: false }),
        response: {
          200: Type.Object({
            conflicts: Type.Array(ConflictT),
            total: Type.Integer(),
            ruleBreaks: Type.Array(RuleBreakT, {
              description: 'the commune’s broadcast rules it breaks (quiet hours, limits); none for an emergency',
            }),
          }),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const { id, commune, ...input } = request.body;
      return guarded(async () =>
        scheduling.schedules.checkConflicts(
          request.scope,
          input as ScheduleInput,
          id === undefined ? { communeId: await communeFor(request, commune) } : { selfId: id },
        ),
      );
    },
  );

  app.get(
    '/schedules/:id',
    {
      config: { permission: 'broadcasts:read' },
      schema: { tags: ['schedules'], params: IdParams, response: { 200: Schedule, 404: ErrorReply } },
    },
    async (request) => guarded(() => scheduling.schedules.get(request.scope, request.params.id)),
  );

  app.put(
    '/schedules/:id',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['schedules'],
        summary: 'Change a schedule; it needs approval again unless a publisher changed it',
        params: IdParams,
        body: ScheduleBody,
        response: { 200: Schedule, 400: ErrorReply, 404: ErrorReply, 409: ConflictReply },
      },
    },
    async (request) => {
      emergencyGuard(request, request.body);
      const s = await guarded(async () => {
        stayIn(await scheduling.schedules.communeOf(request.scope, request.params.id), request.body.commune);
        return scheduling.schedules.update(
          request.scope,
          request.params.id,
          request.body as ScheduleInput,
          actorOf(request),
        );
      });
      await record(request, 'schedule.update', s.id, s.communeId, request.body);
      await recordOverride(request, s);
      return s;
    },
  );

  const transition = (
    path: string,
    summary: string,
    permission: 'content:write' | 'schedules:approve',
    act: (
      id: string,
      request: FastifyRequest<{ Body: { reason?: string; revision?: string } }>,
    ) => Promise<unknown> | unknown,
    action: string,
  ) =>
    app.post(
      path,
      {
        config: { permission },
        schema: {
          tags: ['schedules'],
          summary,
          params: IdParams,
          // A rejection carries its reason, an approval the reviewRevision it approves; the others take none.
          ...(action === 'schedule.reject'
            ? {
                body: Type.Object({ reason: Type.String({ maxLength: 500 }) }, { additionalProperties: false }),
              }
            : action === 'schedule.approve'
              ? {
                  body: Type.Object(
                    { revision: Type.String({ minLength: 1, maxLength: 64 }) },
                    { additionalProperties: false },
                  ),
                }
              : {}),
          response: { 200: Schedule, 400: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply },
        },
      },
      async (request) => {
        const id = (request.params as { id: string }).id;
        await guarded(() => act(id, request as FastifyRequest<{ Body: { reason?: string; revision?: string } }>));
        const s = await scheduling.schedules.get(request.scope, id);
        const body = request.body as { reason?: string; revision?: string } | undefined;
        await record(request, action, id, s.communeId, {
          status: s.status,
          reason: body?.reason,
          reviewed: body?.revision,
        });
        services.hub.emit('approval', { scheduleId: id, status: s.status, title: s.title });
        return s;
      },
    );

  transition(
    '/schedules/:id/submit',
    'Submit for approval (a publisher’s submission goes on air at once)',
    'content:write',
    (id, r) => scheduling.schedules.submit(r.scope, id, actorOf(r)),
    'schedule.submit',
  );
  transition(
    '/schedules/:id/approve',
    'Approve exactly what was reviewed (body: its reviewRevision); 409 with the current schedule if anything changed',
    'schedules:approve',
    (id, r) => scheduling.schedules.approve(r.scope, id, actorOf(r), r.body?.revision ?? ''),
    'schedule.approve',
  );
  transition(
    '/schedules/:id/reject',
    'Reject with a reason',
    'schedules:approve',
    (id, r) => scheduling.schedules.reject(r.scope, id, r.body?.reason ?? '', actorOf(r)),
    'schedule.reject',
  );
  transition(
    '/schedules/:id/cancel',
    'Cancel the whole schedule: its future occurrences leave every plan (on air or emergency: approvers only)',
    'content:write',
    (id, r) => scheduling.schedules.cancel(r.scope, id, actorOf(r)),
    'schedule.cancel',
  );

  app.get(
    '/approvals',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['schedules'],
        summary: 'The approval queue: submitted schedules and approved ones whose programme changed',
        querystring: CommuneQuery,
        response: { 200: Type.Array(Schedule), 404: ErrorReply },
      },
    },
    async (request) =>
      scheduling.schedules.approvalQueue(await communes.listScope(request.scope, request.query.commune)),
  );

  // ---- calendar and occurrences -----------------------------------------------------
  app.get(
    '/calendar',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['schedules'],
        summary: 'What plays when (occurrences overlapping [from, to), at most 62 days)',
        querystring: Type.Object(
          {
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Array(
            Type.Object({
              occurrenceId: Type.String(),
              communeId: Type.String(),
              scheduleId: Type.Union([Type.String(), Type.Null()]),
              title: Type.String(),
              priority: PriorityT,
              start: Type.String(),
              end: Type.String(),
              cancelled: Type.Boolean(),
              devices: Type.Integer(),
              finished: Type.Integer(),
              failed: Type.Integer(),
              ruleBreaks: Type.Array(Type.Object({ rule: Type.String(), message: Type.String() }), {
                description: 'the commune’s broadcast rules this play breaks (quiet hours, length, plays a day)',
              }),
              ruleOverride: Type.Union([Type.Object({ reason: Type.String(), by: Type.String() }), Type.Null()], {
                description: 'a leader let this play through the rules, with a written reason',
              }),
            }),
          ),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      if (to <= from) throw new HttpError(400, 'to: must be after from', 'to');
      if (to - from > 62 * 24 * 3600_000) throw new HttpError(400, 'to: at most 62 days after from', 'to');
      return scheduling.calendar(await communes.listScope(request.scope, request.query.commune), from, to);
    },
  );

  app.delete(
    '/occurrences/:id',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['schedules'],
        summary: 'Cancel one future occurrence (it leaves the plans and is not re-created); approvers only',
        params: IdParams,
        response: { 204: Type.Null(), 403: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const communeId = await guarded(() =>
        scheduling.schedules.cancelOccurrence(request.scope, request.params.id, actorOf(request)),
      );
      await record(request, 'occurrence.cancel', request.params.id, communeId);
      return reply.status(204).send(null);
    },
  );
};
