/**
 * Remote controls for one loudspeaker (volume, amplifier, test tone) and the
 * stop button for a broadcast. Each action is audited.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ID_PATTERN } from '@loaxa/protocol';
import { ControlError, DeviceControls, type ControlAction } from '../../devices/controls';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';

const DeviceParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) });
const Outcome = Type.Object({
  commandId: Type.String(),
  result: Type.Union(
    ['finished', 'skipped', 'failed', 'sent'].map((r) => Type.Literal(r)),
    {
      description: '"sent": no answer within 3 s (the device gets it when it connects, within 5 minutes)',
    },
  ),
  detail: Type.Union([Type.String(), Type.Null()]),
});

export const deviceControlRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const controls = new DeviceControls({
    ...services,
    content: services.scheduling.content,
    replan: (devices) => services.scheduling.replan(devices),
  });
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ControlError) throw new HttpError(err.status, err.message, err.field);
      throw err;
    }
  };
  const send = (request: FastifyRequest, id: string, action: ControlAction) =>
    guarded(async () => {
      const { communeId, ...outcome } = await controls.command(id, action, request.scope);
      await services.audit.record({
        actor: request.user!.username,
        action: `device.${action.action}`,
        target: id,
        detail: { ...action, result: outcome.result },
        ip: request.ip,
        communeId,
      });
      return outcome;
    });
  const controlReplies = { 200: Outcome, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply };

  app.post(
    '/devices/:id/volume',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Set the loudspeaker volume (0–100); answers with the device’s ack when it comes within 3 s',
        params: DeviceParams,
        body: Type.Object({ level: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
        response: controlReplies,
      },
    },
    async (request) => send(request, request.params.id, { action: 'volume', level: request.body.level }),
  );

  app.post(
    '/devices/:id/amp',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Switch the amplifier relay on (stays on) or off (now)',
        params: DeviceParams,
        body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }),
        response: controlReplies,
      },
    },
    async (request) => send(request, request.params.id, { action: 'amp', on: request.body.on }),
  );

  app.post(
    '/devices/:id/test-tone',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Play a 3-second 1 kHz test tone on this loudspeaker now (followed like a broadcast)',
        params: DeviceParams,
        response: { 202: Type.Object({ occurrenceId: Type.String() }), 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) =>
      guarded(async () => {
        const { id } = request.params;
        const { communeId, occurrenceId } = await controls.testTone(id, request.user!.username, request.scope);
        await services.audit.record({
          actor: request.user!.username,
          action: 'device.test-tone',
          target: id,
          detail: { occurrenceId },
          ip: request.ip,
          communeId,
        });
        return reply.status(202).send({ occurrenceId });
      }),
  );

  app.post(
    '/occurrences/:id/stop',
    {
      config: { permission: 'broadcasts:send' },
      schema: {
        tags: ['broadcasts'],
        summary: 'Stop a broadcast for good: on every loudspeaker where it still waits or plays, and in every plan',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9_.:-]+$' }) }),
        response: { 202: Type.Object({ devices: Type.Array(Type.String()) }), 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) =>
      guarded(async () => {
        const { communeId, devices } = await controls.stop(request.params.id, request.user!.username, request.scope);
        await services.audit.record({
          actor: request.user!.username,
          action: 'broadcast.stop',
          target: request.params.id,
          detail: { devices: devices.length },
          ip: request.ip,
          communeId,
        });
        return reply.status(202).send({ devices });
      }),
  );
};
