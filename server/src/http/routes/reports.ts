/**
 * Reports per loudspeaker and per zone over a period, as JSON or (like the
 * audit log, with `format=csv`) as a CSV download. A commune user's report
 * covers their commune; a province user's every commune, or the one named by
 * `commune`.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { communeReportCsv, deviceReportCsv, Reports, zoneReportCsv, type ReportPeriod } from '../../reports/reports';
import type { Scope } from '../../tenancy/scope';
import { CommuneField } from '../commune-field';

const DAY_MS = 24 * 3600_000;
export const DEFAULT_REPORT_DAYS = 30;
export const MAX_REPORT_DAYS = 366;

const Query = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        format: 'date-time',
        description: `start, inclusive; default ${DEFAULT_REPORT_DAYS} days before to`,
      }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'end, exclusive; default now' })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
    commune: CommuneField,
  },
  { additionalProperties: false },
);

const Numbers = {
  broadcasts: Type.Integer({
    description: 'deliveries of non-cancelled occurrences starting in the period, up to now',
  }),
  finished: Type.Integer(),
  failed: Type.Integer({ description: 'failed or skipped' }),
  missed: Type.Integer({ description: 'not started a minute after their planned start (offline, or no audio)' }),
  stopped: Type.Integer({ description: 'not finished when someone stopped the broadcast: not a failure' }),
  successRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'finished / (broadcasts − stopped); null without any',
  }),
  minutesOnAir: Type.Number({ description: 'summed duration of the finished ones' }),
  uptime: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'share of the observed part of the period (up to now, while the device existed) it was online',
  }),
};
const Period = { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) };

const DeviceReportT = Type.Object({
  deviceId: Type.String(),
  communeId: Type.String(),
  name: Type.String(),
  zones: Type.Array(Type.String()),
  revoked: Type.Boolean(),
  ...Numbers,
});
const ZoneReportT = Type.Object({
  zoneId: Type.String(),
  communeId: Type.String(),
  name: Type.String(),
  devices: Type.Integer({ description: "the zone's current devices counted" }),
  ...Numbers,
});

const CommuneReportT = Type.Object({
  communeId: Type.String(),
  name: Type.String(),
  devices: Type.Integer({ description: 'active loudspeakers now' }),
  online: Type.Integer({ description: 'of them online now' }),
  offline: Type.Integer(),
  lastSeen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  bulletinsPlayed: Type.Integer({ description: 'province bulletins that started on its loudspeakers in the period' }),
  ...Numbers,
});

function periodOf(query: { from?: string; to?: string }, now: number): ReportPeriod {
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - DEFAULT_REPORT_DAYS * DAY_MS;
  if (from >= to) {
    // Name the field the caller set: with `to` left to default (now), it is `from` that is wrong.
    throw query.to
      ? new HttpError(400, 'to: must be after from', 'to')
      : new HttpError(400, 'from: must be before to (now, when to is not given)', 'from');
  }
  if (to - from > MAX_REPORT_DAYS * DAY_MS) {
    throw new HttpError(400, `to: at most ${MAX_REPORT_DAYS} days after from`, 'to');
  }
  return { from, to };
}

/** "2025-11-23" in the commune's zone, for file names. */
function localDate(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

function sendCsv(reply: FastifyReply, filename: string, csv: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .serializer((x: unknown) => String(x))
    .send(csv as never);
}

export const reportRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const reports = new Reports(services.sql);
  /** A report across communes names each row's commune in the CSV (commune_id is in the JSON). */
  const communeColumn = async (scope: Scope) => (scope.communeId === null ? await reports.communeNames() : null);
  const fileName = (kind: string, period: ReportPeriod) => {
    const tz = services.config.timeZone;
    // `to` is exclusive: the last day covered is the one just before it.
    return `loaxa-report-${kind}-${localDate(period.from, tz)}_${localDate(period.to - 1, tz)}.csv`;
  };

  app.get(
    '/reports/devices',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['reports'],
        summary: `Per loudspeaker over [from, to) (default the last ${DEFAULT_REPORT_DAYS} days); \`format=csv\` downloads it`,
        querystring: Query,
        response: {
          200: Type.Object({ ...Period, devices: Type.Array(DeviceReportT) }),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const scope = await services.communes.listScope(request.scope, request.query.commune);
      const period = periodOf(request.query, Date.now());
      const devices = await reports.devices(scope, period);
      if (request.query.format === 'csv') {
        const csv = deviceReportCsv(devices, await reports.zoneNames(scope), await communeColumn(scope));
        return sendCsv(reply, fileName('devices', period), csv);
      }
      return { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), devices };
    },
  );

  app.get(
    '/reports/communes',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['reports'],
        summary:
          'The province roll-up: per commune, its loudspeakers online/offline now, broadcasts, success rate, ' +
          'minutes on air, last seen and bulletins played over [from, to); `format=csv` downloads it. ' +
          'A commune user gets their own commune’s row.',
        querystring: Query,
        response: {
          200: Type.Object({ ...Period, communes: Type.Array(CommuneReportT) }),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const scope = await services.communes.listScope(request.scope, request.query.commune);
      const period = periodOf(request.query, Date.now());
      const communes = await reports.communes(scope, period);
      if (request.query.format === 'csv')
        return sendCsv(reply, fileName('communes', period), communeReportCsv(communes));
      return { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), communes };
    },
  );

  app.get(
    '/reports/zones',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['reports'],
        summary: `Per zone, over its current loudspeakers, over [from, to); \`format=csv\` downloads it`,
        querystring: Query,
        response: { 200: Type.Object({ ...Period, zones: Type.Array(ZoneReportT) }), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const scope = await services.communes.listScope(request.scope, request.query.commune);
      const period = periodOf(request.query, Date.now());
      const zones = await reports.zones(scope, period);
      if (request.query.format === 'csv') {
        return sendCsv(reply, fileName('zones', period), zoneReportCsv(zones, await communeColumn(scope)));
      }
      return { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), zones };
    },
  );
};
