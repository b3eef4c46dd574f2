/**
 * Live broadcast (live/service.ts): go live to zones, see what is on air, end
 * it; the officer's audio comes over a WebSocket at
 * /api/v1/live/{id}/audio (same-origin, the session cookie of the officer who
 * went live), one binary message per 20 ms Opus packet.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WebSocketServer, type WebSocket } from 'ws';
import { LIVE_LATENCY_MS, MAX_LIVE_PACKET_BYTES } from '@loaxa/protocol';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { CommuneField } from '../commune-field';
import { OverrideRules } from '../language-fields';
import { allows } from '../../auth/permissions';
import { SESSION_COOKIE } from '../auth';
import { isSameOrigin } from '../origin';
import { LiveError, type LivePart } from '../../live/service';
import type { Scope } from '../../tenancy/scope';

const Iso = Type.String({ format: 'date-time' });
const EndReason = Type.Union([
  ...['stopped', 'silence', 'max-duration', 'dropped', 'preempted', 'restart'].map((r) => Type.Literal(r)),
  Type.Null(),
]);
const LiveSession = Type.Object({
  id: Type.String(),
  communeId: Type.String(),
  title: Type.String(),
  priority: Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')]),
  zones: Type.Array(Type.String()),
  source: Type.Union([Type.Literal('browser'), Type.Literal('line-in')], {
    description: 'browser: the officer’s console over the WebSocket; line-in: the office microphone on the server',
  }),
  latencyMs: Type.Integer({ description: 'capture to loudspeaker on the server’s clock' }),
  maxDurationMs: Type.Integer(),
  startedBy: Type.String(),
  startedAt: Iso,
  endedAt: Type.Union([Iso, Type.Null()]),
  endReason: EndReason,
  endedBy: Type.Union([Type.String(), Type.Null()]),
  occurrenceId: Type.Union([Type.String(), Type.Null()]),
  devices: Type.Integer(),
  frames: Type.Integer(),
  recording: Type.Union([
    Type.Object({ sha256: Type.String(), url: Type.String(), durationMs: Type.Integer() }),
    Type.Null(),
  ]),
  groupId: Type.Union([Type.String(), Type.Null()], {
    description: 'set when a province officer went live to several communes at once: one session per commune',
  }),
  group: Type.Array(
    Type.Object({
      id: Type.String(),
      communeId: Type.String(),
      zones: Type.Array(Type.String()),
      devices: Type.Integer(),
      endedAt: Type.Union([Iso, Type.Null()]),
      endReason: EndReason,
      endedBy: Type.Union([Type.String(), Type.Null()]),
    }),
    { description: 'the other sessions of its group the caller may see' },
  ),
  revision: Type.Integer(),
});

const AUDIO_PATH = /^\/api\/v1\/live\/([A-Za-z0-9_.:-]{1,80})\/audio$/;

export const liveRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { live } = services;
  /**
   * The communes a live start reaches, each with its zones: the named (or the caller's) commune;
   * for a province user who names none, every commune whose zones were chosen.
   */
  const partsOf = async (scope: Scope, zones: string[], commune: string | undefined): Promise<LivePart[]> => {
    if (commune !== undefined || scope.communeId !== null) {
      const communeId = await services.communes.forWrite(scope, commune);
      const unknown = await services.registry.unknownZones(zones, { communeId });
      if (unknown.length) throw new HttpError(400, `zones: no zone ${unknown.join(', ')} in this commune`, 'zones');
      return [{ communeId, zones }];
    }
    const byCommune = new Map<string, string[]>();
    const unknown: string[] = [];
    for (const zone of zones) {
      const communeId = await services.registry.communeOfZone(zone);
      if (communeId === null) unknown.push(zone);
      else byCommune.set(communeId, [...(byCommune.get(communeId) ?? []), zone]);
    }
    if (unknown.length) throw new HttpError(400, `zones: no zone ${unknown.join(', ')} in the province`, 'zones');
    const names = new Map((await services.communes.list(scope)).map((c) => [c.id, c.name]));
    return [...byCommune].map(([communeId, its]) => ({
      communeId,
      communeName: names.get(communeId) ?? communeId,
      zones: its,
    }));
  };
  const asHttp = (err: unknown): never => {
    if (err instanceof LiveError) throw new HttpError(err.statusCode, err.message, err.field, err.extra);
    throw err;
  };

  app.get(
    '/live',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['live'],
        summary: 'Live sessions on air',
        querystring: Type.Object({ commune: CommuneField }, { additionalProperties: false }),
        response: { 200: Type.Array(LiveSession) },
      },
    },
    async (request) => live.active(await services.communes.listScope(request.scope, request.query.commune)),
  );

  app.get(
    '/live/:id',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['live'],
        summary: 'One live session, on air or ended (its recording once ended)',
        params: Type.Object({ id: Type.String({ maxLength: 80 }) }),
        response: { 200: LiveSession, 404: ErrorReply },
      },
    },
    async (request) => {
      try {
        return await live.get(request.scope, request.params.id);
      } catch (err) {
        return asHttp(err);
      }
    },
  );

  app.post(
    '/live',
    {
      config: { permission: 'broadcasts:send' },
      schema: {
        tags: ['live'],
        summary:
          'Go live to zones: one session per zone; an emergency (broadcasts:emergency) preempts a normal one. ' +
          'Then send the audio over the WebSocket /api/v1/live/{id}/audio. A province user who names no ' +
          'commune may choose zones of several: one session per commune (its `group`), fed by one socket.',
        body: Type.Object(
          {
            zones: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 200 }),
            priority: Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('emergency')])),
            title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            latencyMs: Type.Optional(
              Type.Integer({ ...LIVE_LATENCY_MS, description: 'play-out delay budget; 400 default, 200 low latency' }),
            ),
            commune: CommuneField,
            overrideRules: Type.Optional(OverrideRules),
            source: Type.Optional(
              Type.Union([Type.Literal('browser'), Type.Literal('line-in')], {
                description:
                  'browser (default): send the audio over the WebSocket; line-in: the office microphone on the ' +
                  'server machine (LOAXA_LIVE_CAPTURE_DEVICE) speaks at once',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: LiveSession, 400: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const priority = request.body.priority ?? 'normal';
      if (priority === 'emergency' && !allows(request.user!, 'broadcasts:emergency')) {
        throw new HttpError(403, `your role (${request.user!.role}) may not go live as an emergency`, 'priority');
      }
      const communes = await partsOf(request.scope, request.body.zones, request.body.commune);
      try {
        const session = await live.begin(
          {
            communes,
            priority,
            title: request.body.title,
            latencyMs: request.body.latencyMs,
            startedBy: request.user!.username,
            overrideRules: request.body.overrideRules,
            mayOverride: allows(request.user!, 'schedules:approve'),
            ...(request.body.source ? { source: request.body.source } : {}),
          },
          request.scope,
        );
        if (request.body.overrideRules) {
          for (const one of [session, ...session.group]) {
            await services.audit.record({
              actor: request.user!.username,
              action: 'rules.override',
              target: one.id,
              detail: { reason: request.body.overrideRules.reason, live: one.id },
              ip: request.ip,
              communeId: one.communeId,
            });
          }
        }
        return reply.status(201).send(session);
      } catch (err) {
        return asHttp(err);
      }
    },
  );

  app.post(
    '/live/:id/stop',
    {
      config: { permission: 'broadcasts:send' },
      schema: {
        tags: ['live'],
        summary: 'End a live session (compare-and-set on revision): the loudspeakers go quiet',
        params: Type.Object({ id: Type.String({ maxLength: 80 }) }),
        body: Type.Object(
          {
            revision: Type.Integer({ minimum: 1 }),
            group: Type.Optional(
              Type.Boolean({
                description: 'also end every session of its group the caller may see (one officer, several communes)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: LiveSession, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      try {
        return await live.stopBy(request.scope, request.params.id, request.body.revision, request.user!.username, {
          group: request.body.group === true,
        });
      } catch (err) {
        return asHttp(err);
      }
    },
  );

  // ---- the officer's audio
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LIVE_PACKET_BYTES });
  const refuse = (socket: Duplex, status: number, message: string) => {
    socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  /** Whether the officer may speak to the session now: the socket is refused otherwise. */
  const admit = async (req: http.IncomingMessage, socket: Duplex, sessionId: string): Promise<boolean> => {
    const origin = req.headers.origin;
    if (origin !== undefined && !isSameOrigin(origin, req.headers.host ?? '')) {
      refuse(socket, 403, 'Forbidden');
      return false;
    }
    const token = cookieOf(req.headers.cookie, SESSION_COOKIE);
    const user = token ? await services.users.userForSession(token) : null;
    if (!user) {
      refuse(socket, 401, 'Unauthorized');
      return false;
    }
    try {
      const session = await live.get(
        user.communeId === null ? { communeId: null } : { communeId: user.communeId },
        sessionId,
      );
      if (session.endedAt !== null) {
        refuse(socket, 409, 'Conflict');
        return false;
      }
      live.connect(sessionId, user.username);
      return true;
    } catch (err) {
      refuse(socket, err instanceof LiveError ? err.statusCode : 500, 'Refused');
      return false;
    }
  };
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = AUDIO_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!match) return;
    const sessionId = match[1]!;
    // The checks read the database: a socket that fails meanwhile must not throw (nobody else listens yet).
    const onEarlyError = () => socket.destroy();
    socket.on('error', onEarlyError);
    admit(req, socket, sessionId)
      .catch(() => {
        refuse(socket, 500, 'Refused');
        return false;
      })
      .then((admitted) => {
        socket.off('error', onEarlyError);
        if (admitted && !socket.destroyed) upgrade(req, socket, head, sessionId);
      })
      .catch(() => socket.destroy());
  };
  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer, sessionId: string) => {
    // One frame per 20 ms must not wait for an ACK of the one before.
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.binaryType = 'nodebuffer';
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) live.frame(sessionId, data);
      });
      ws.on('close', () => live.disconnect(sessionId));
      ws.on('error', () => live.disconnect(sessionId));
    });
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade);
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
};

/** The value of one cookie of a Cookie header. */
function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return null;
}
