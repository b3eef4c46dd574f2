/**
 * Live updates for the console as Server-Sent Events: device online state and
 * delivery stages, as they happen.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApprovalEvent, DeliveryEvent, DeviceEvent } from '../../events/hub';
import type { AppServices } from '../context';
import { sessionUser } from '../auth';

const HEARTBEAT_MS = 15_000;
/** How long a stream trusts its last session check: a disabled user's stream ends within this. */
const SESSION_RECHECK_MS = 1_000;

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/events',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: `device` {id, online, lastSeen}, `delivery` {occurrenceId, deviceId, stage, at, detail} and `approval` {scheduleId, status, title}',
      },
    },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      // A session ended meanwhile (sign-out elsewhere, account disabled, password reset) ends the
      // stream before anything more is sent. The local CLI's bearer token has no session to end.
      const bySession = !request.headers.authorization;
      let checkedAt = Date.now();
      let signedIn = true;
      const stillSignedIn = () => {
        if (!bySession || Date.now() - checkedAt < SESSION_RECHECK_MS) return signedIn;
        checkedAt = Date.now();
        signedIn = sessionUser(request, services.users) !== null;
        if (!signedIn) {
          close();
          res.end();
        }
        return signedIn;
      };
      const send = (event: string) => (data: DeviceEvent | DeliveryEvent | ApprovalEvent) => {
        if (stillSignedIn()) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const onDevice = send('device');
      const onDelivery = send('delivery');
      const onApproval = send('approval');
      services.hub.on('device', onDevice);
      services.hub.on('delivery', onDelivery);
      services.hub.on('approval', onApproval);
      const heartbeat = setInterval(() => stillSignedIn() && res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      function close() {
        clearInterval(heartbeat);
        services.hub.off('device', onDevice);
        services.hub.off('delivery', onDelivery);
        services.hub.off('approval', onApproval);
      }
      request.raw.on('close', close);
      res.on('error', close);
    },
  );
};
