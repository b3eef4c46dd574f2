import { ZoneArea, ZoneGeocodes, ZoneLanguages } from '../language-fields';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ID_PATTERN } from '@loaxa/protocol';
import { ConflictError, DEVICE_STATUSES, NO_ZONE, NotFoundError, type DeviceView } from '../../devices/registry';
import { agentConfigFor, PROVISIONED_PLAYERS } from '../../devices/provisioning';
import { deviceMqttUrls } from '../../config';
import { CommuneField } from '../commune-field';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';

/** The optional `commune` filter of a list. */
const CommuneFilter = Type.Object({ commune: CommuneField }, { additionalProperties: false });

/** At most this many loudspeakers in one page of GET /devices. */
export const DEVICE_PAGE_MAX = 1000;

/** GET /devices: the commune, search, filters and a page. Query values arrive as text (no coercion). */
const DeviceListQuery = Type.Object(
  {
    commune: CommuneField,
    q: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'every word in the name or the id, in any order; case and diacritics forgiven',
      }),
    ),
    status: Type.Optional(
      Type.Union(
        DEVICE_STATUSES.map((s) => Type.Literal(s)),
        {
          description:
            'online, offline (not revoked), revoked, or problem: not revoked and offline or its clock more than 1 s off',
        },
      ),
    ),
    zone: Type.Optional(
      Type.String({
        pattern: `^${NO_ZONE}$|${ID_PATTERN}`,
        description: `a zone id (its loudspeakers), or "${NO_ZONE}" for those in no zone`,
      }),
    ),
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,9}$', description: `1 to ${DEVICE_PAGE_MAX}; without it, every match` }),
    ),
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'matches to skip (default 0)' })),
  },
  { additionalProperties: false },
);

const Location = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
  },
  { additionalProperties: false },
);

const Telemetry = Type.Object({
  at: Type.String({ format: 'date-time' }),
  volume: Type.Integer(),
  playing: Type.Union([Type.String(), Type.Null()]),
  cacheBytes: Type.Integer(),
  freeDiskBytes: Type.Optional(Type.Integer()),
  uptimeS: Type.Integer(),
  signalDbm: Type.Optional(Type.Number()),
  cpuTempC: Type.Optional(Type.Number()),
});

const Device = Type.Object({
  id: Type.String(),
  name: Type.String(),
  communeId: Type.String({ description: 'the commune it serves' }),
  zones: Type.Array(Type.String()),
  online: Type.Boolean(),
  lastSeen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  agentVersion: Type.Union([Type.String(), Type.Null()]),
  revoked: Type.Boolean(),
  clockOffsetMs: Type.Union([Type.Integer(), Type.Null()], {
    description: 'server clock − device clock in ms, as the device last measured it',
  }),
  clockWarning: Type.Boolean({ description: 'the device clock is more than 1 s off the server' }),
  location: Type.Union([Location, Type.Null()]),
  simulated: Type.Boolean({
    description: 'its agent runs a null or simulated player: plays are reported but nothing is heard',
  }),
  telemetry: Type.Union([Telemetry, Type.Null()], {
    description: 'the last telemetry since the server started (every 30 s from an online agent)',
  }),
});

const Languages = ZoneLanguages;
const Zone = Type.Object({
  id: Type.String(),
  name: Type.String(),
  communeId: Type.String({ description: 'the commune it is a zone of' }),
  languages: Languages,
  geocodes: ZoneGeocodes,
  area: ZoneArea,
  deviceIds: Type.Array(Type.String()),
});

type DeviceJson = Static<typeof Device>;

export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  /** The stored device with what its agent last reported. */
  // The reply schema keeps only the Telemetry fields (the clock offset is already on the device).
  const withTelemetry = (device: DeviceView) => {
    const t = services.telemetry.get(device.id);
    return { ...device, telemetry: t ? { ...t, at: new Date(t.at).toISOString() } : null };
  };

  /**
   * A device exactly as the Device schema writes it, field by field, for the
   * list: the schema's serializer checks each nullable field's branches and
   * took 200 ms of the 300 for a province's 15,000; JSON.stringify of these
   * plain objects takes 25.
   */
  const deviceJson = (device: DeviceView): DeviceJson => {
    const t = services.telemetry.get(device.id);
    return {
      id: device.id,
      name: device.name,
      communeId: device.communeId,
      zones: device.zones,
      online: device.online,
      lastSeen: device.lastSeen,
      agentVersion: device.agentVersion,
      revoked: device.revoked,
      clockOffsetMs: device.clockOffsetMs,
      clockWarning: device.clockWarning,
      location: device.location,
      simulated: device.simulated,
      telemetry: t
        ? {
            at: new Date(t.at).toISOString(),
            volume: t.volume,
            playing: t.playing,
            cacheBytes: t.cacheBytes,
            ...(t.freeDiskBytes !== undefined ? { freeDiskBytes: t.freeDiskBytes } : {}),
            uptimeS: t.uptimeS,
            ...(t.signalDbm !== undefined ? { signalDbm: t.signalDbm } : {}),
            ...(t.cpuTempC !== undefined ? { cpuTempC: t.cpuTempC } : {}),
          }
        : null,
    };
  };

  app.get(
    '/devices',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'The loudspeakers you may see (your commune’s, or the province’s) with online state',
        description:
          'In id order, narrowed by `q`, `status`, `zone` and `commune`; `limit` and `offset` page it ' +
          `(without \`limit\`, every match). The \`X-Total-Count\` header says how many match before paging.`,
        querystring: DeviceListQuery,
        response: { 200: Type.Array(Device), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const { commune, q, status, zone, limit, offset } = request.query;
      const scope = await services.communes.listScope(request.scope, commune);
      const pageSize = limit === undefined ? undefined : Number(limit);
      if (pageSize !== undefined && (pageSize < 1 || pageSize > DEVICE_PAGE_MAX)) {
        throw new HttpError(400, `limit: must be from 1 to ${DEVICE_PAGE_MAX}`, 'limit');
      }
      const { devices, total } = await services.registry.listDevicePage(scope, {
        ...(q !== undefined ? { q } : {}),
        ...(status ? { status } : {}),
        ...(zone ? { zone } : {}),
        ...(pageSize !== undefined ? { limit: pageSize } : {}),
        ...(offset !== undefined ? { offset: Number(offset) } : {}),
      });
      return reply
        .header('x-total-count', String(total))
        .type('application/json; charset=utf-8')
        .serializer((x: unknown) => String(x))
        .send(JSON.stringify(devices.map(deviceJson)) as never);
    },
  );

  app.get(
    '/map',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'Where the console’s loudspeaker map takes its background tiles from',
        response: {
          200: Type.Object({
            tileUrl: Type.Union([Type.String(), Type.Null()], {
              description: 'a {z}/{x}/{y} tile template (LOAXA_MAP_TILES_URL); null: the public OpenStreetMap server',
            }),
          }),
        },
      },
    },
    async () => ({ tileUrl: services.config.mapTilesUrl ?? null }),
  );

  app.post(
    '/devices',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Provision a loudspeaker: creates its credentials and returns a ready agent configuration',
        body: Type.Object(
          {
            id: Type.String({ pattern: ID_PATTERN }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            zones: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN }), { maxItems: 64, uniqueItems: true })),
            commune: CommuneField,
            player: Type.Optional(
              Type.Union(
                PROVISIONED_PLAYERS.map((p) => Type.Literal(p)),
                {
                  description:
                    '"alsa" (default): the node plays through its sound card; "null": a silent node that logs ' +
                    'what it would play and says so in every ack (test benches only)',
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            device: Device,
            agentConfig: Type.Object({
              deviceId: Type.String(),
              serverUrl: Type.String(),
              mqttUrl: Type.String({ description: 'the broker node the agent tries first' }),
              mqttUrls: Type.Optional(
                Type.Array(Type.String(), {
                  description:
                    'a broker of several nodes: the others, in the order the agent moves to them when its node fails',
                }),
              ),
              secret: Type.String(),
              dataDir: Type.String(),
              player: Type.Union([
                Type.Object({ type: Type.Literal('alsa'), device: Type.String(), command: Type.String() }),
                Type.Object({ type: Type.Literal('null'), log: Type.String() }),
              ]),
              audioFormat: Type.String(),
              amp: Type.Object({ type: Type.String() }),
              mixer: Type.Union([
                Type.Object({ type: Type.Literal('amixer'), card: Type.Integer(), control: Type.String() }),
                Type.Object({ type: Type.Literal('none') }),
              ]),
            }),
          }),
          400: ErrorReply,
          404: ErrorReply,
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      try {
        const { player, commune, ...input } = request.body;
        const communeId = await services.communes.forWrite(request.scope, commune);
        const { device, secret } = await services.registry.createDevice({ ...input, communeId });
        // Schedules already aimed at its zones reach the new loudspeaker too.
        await services.scheduling.membershipChanged([device.id]);
        const serverUrl = services.config.publicUrl ?? `${request.protocol}://${request.host}`;
        const agentConfig = agentConfigFor({
          deviceId: device.id,
          secret,
          serverUrl,
          mqttPort: services.mqttPort,
          // An external broker: every device URL (a cluster's nodes), in this device's own order.
          ...(services.config.mqttUrl ? { mqttUrls: deviceMqttUrls(services.config) } : {}),
          ...(player ? { player } : {}),
        });
        await services.audit.record({
          actor: request.user!.username,
          action: 'device.add',
          target: device.id,
          detail: { zones: device.zones, name: device.name, player: player ?? 'alsa' },
          ip: request.ip,
          communeId: device.communeId,
        });
        return reply.status(201).send({ device: withTelemetry(device), agentConfig });
      } catch (err) {
        if (err instanceof ConflictError) throw new HttpError(409, err.message, err.field);
        if (err instanceof NotFoundError) throw new HttpError(404, err.message, err.field);
        throw err;
      }
    },
  );

  app.post(
    '/devices/:id/revoke',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Revoke a loudspeaker: disconnects it now and refuses it from then on',
        params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }),
        response: { 200: Device, 404: ErrorReply },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await services.registry.revokeDevice(id, request.scope)))
        throw new HttpError(404, `no device with id ${id}`, 'id');
      services.bus.disconnect(id);
      const device = (await services.registry.getDevice(id))!;
      await services.audit.record({
        actor: request.user!.username,
        action: 'device.revoke',
        target: id,
        ip: request.ip,
        communeId: device.communeId,
      });
      return withTelemetry(device);
    },
  );

  app.get(
    '/zones',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['zones'],
        summary: 'The zones you may see (your commune’s, or the province’s) with their devices',
        querystring: CommuneFilter,
        response: { 200: Type.Array(Zone), 404: ErrorReply },
      },
    },
    async (request) =>
      services.registry.listZones(await services.communes.listScope(request.scope, request.query.commune)),
  );

  app.post(
    '/zones',
    {
      config: { permission: 'zones:manage' },
      schema: {
        tags: ['zones'],
        summary: 'Create a zone (village or group of loudspeakers)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
            languages: Type.Optional(Languages),
            commune: CommuneField,
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            communeId: Type.String(),
            languages: Languages,
          }),
          400: ErrorReply,
          404: ErrorReply,
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      try {
        const communeId = await services.communes.forWrite(request.scope, request.body.commune);
        const zone = await services.registry.createZone(
          request.body.name,
          communeId,
          undefined,
          request.body.languages,
        );
        await services.audit.record({
          actor: request.user!.username,
          action: 'zone.create',
          target: zone.id,
          detail: { name: zone.name },
          ip: request.ip,
          communeId,
        });
        return reply.status(201).send({ id: zone.id, name: zone.name, communeId, languages: zone.languages });
      } catch (err) {
        if (err instanceof ConflictError) throw new HttpError(409, err.message, err.field);
        throw err;
      }
    },
  );
  const registryErrors = (err: unknown): never => {
    if (err instanceof NotFoundError) throw new HttpError(404, err.message, err.field);
    if (err instanceof ConflictError) throw new HttpError(409, err.message, err.field);
    throw err;
  };

  app.patch(
    '/devices/:id',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Rename a loudspeaker and/or set where it stands (location null clears it)',
        params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            location: Type.Optional(Type.Union([Location, Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Device, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const { id } = request.params;
      try {
        const device = await services.registry.updateDevice(id, request.body, request.scope);
        await services.audit.record({
          actor: request.user!.username,
          action: 'device.update',
          target: id,
          detail: request.body,
          ip: request.ip,
          communeId: device.communeId,
        });
        return withTelemetry(device);
      } catch (err) {
        return registryErrors(err);
      }
    },
  );

  app.put(
    '/devices/:id/zones',
    {
      config: { permission: 'zones:manage' },
      schema: {
        tags: ['zones'],
        summary: 'Move a loudspeaker: set exactly the zones it belongs to (its plan follows at once)',
        params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }),
        body: Type.Object(
          { zones: Type.Array(Type.String({ pattern: ID_PATTERN }), { maxItems: 100, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ id: Type.String(), zones: Type.Array(Type.String()) }), 404: ErrorReply },
      },
    },
    async (request) => {
      const { id } = request.params;
      try {
        const device = await services.registry.setDeviceZones(id, request.body.zones, request.scope);
        await services.scheduling.membershipChanged([id]);
        await services.audit.record({
          actor: request.user!.username,
          action: 'device.zones',
          target: id,
          detail: { zones: device.zones },
          ip: request.ip,
          communeId: device.communeId,
        });
        return { id, zones: device.zones };
      } catch (err) {
        return registryErrors(err);
      }
    },
  );

  app.patch(
    '/zones/:id',
    {
      config: { permission: 'zones:manage' },
      schema: {
        tags: ['zones'],
        summary:
          'Rename a zone and/or set the languages notices play in there, the codes and the area alerts reach it by',
        params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
            languages: Type.Optional(Languages),
            geocodes: Type.Optional(ZoneGeocodes),
            area: Type.Optional(ZoneArea),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Zone, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      try {
        const zone = await services.registry.updateZone(request.params.id, request.body, request.scope);
        await services.audit.record({
          actor: request.user!.username,
          action: request.body.name !== undefined ? 'zone.rename' : 'zone.update',
          target: zone.id,
          detail: {
            name: zone.name,
            languages: zone.languages,
            geocodes: zone.geocodes,
            ...(request.body.area !== undefined ? { area: zone.area } : {}),
          },
          ip: request.ip,
          communeId: zone.communeId,
        });
        return zone;
      } catch (err) {
        return registryErrors(err);
      }
    },
  );

  app.delete(
    '/zones/:id',
    {
      config: { permission: 'zones:manage' },
      schema: {
        tags: ['zones'],
        summary: 'Delete a zone (refused while a schedule targets it); its loudspeakers stay',
        params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }),
        response: { 204: Type.Null(), 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      try {
        const zone = await services.registry.deleteZone(request.params.id, request.scope);
        await services.scheduling.membershipChanged(zone.deviceIds);
        await services.audit.record({
          actor: request.user!.username,
          action: 'zone.delete',
          target: zone.id,
          detail: { name: zone.name },
          ip: request.ip,
          communeId: zone.communeId,
        });
        return reply.status(204).send(null);
      } catch (err) {
        return registryErrors(err);
      }
    },
  );
};
