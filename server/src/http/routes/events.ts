/**
 * Live updates for the console as Server-Sent Events: device online state and
 * delivery stages, as they happen. A commune user's stream carries only their
 * commune's events; a province user's every event.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApprovalEvent, BulletinEvent, DeliveryEvent, DeviceEvent } from '../../events/hub';
import type { Db } from '../../db/database';
import type { AppServices } from '../context';
import { sessionUser } from '../auth';

const HEARTBEAT_MS = 15_000;
/** How long a stream trusts its last session check: a disabled user's stream ends within this. */
const SESSION_RECHECK_MS = 1_000;
/** How long a looked-up commune is trusted: a loudspeaker moved to another commune is followed within this. */
const COMMUNE_TTL_MS = 10_000;
/** Lookups remembered at most; the oldest go first. */
const COMMUNE_CACHE_MAX = 5_000;

type Kind = 'device' | 'occurrence' | 'schedule';

/** One constant statement per kind of object an event is about. */
const COMMUNE_OF: Record<Kind, string> = {
  device: 'SELECT commune_id FROM devices WHERE id = ?',
  occurrence: 'SELECT commune_id FROM occurrences WHERE id = ?',
  schedule: 'SELECT commune_id FROM schedules WHERE id = ?',
};

/**
 * The commune of the object an event is about, shared by every open stream:
 * after a power cut thousands of devices report within seconds, and each event
 * is filtered for every console tab, so each object is looked up once a while.
 */
export class EventCommunes {
  private readonly cache = new Map<string, { communeId: string; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** Null when there is no such object (nobody's commune: no commune user is told of it). */
  of(kind: Kind, id: string): string | null {
    const key = `${kind} ${id}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.communeId;
    const row = this.db.prepare(COMMUNE_OF[kind]).get(id) as { commune_id: string } | undefined;
    this.cache.delete(key);
    if (!row) return null; // not remembered: it may exist in a moment
    this.cache.set(key, { communeId: row.commune_id, until: now + COMMUNE_TTL_MS });
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= COMMUNE_CACHE_MAX) break;
      this.cache.delete(oldest);
    }
    return row.commune_id;
  }

  device(e: DeviceEvent): string | null {
    return this.of('device', e.id);
  }

  delivery(e: DeliveryEvent): string | null {
    return this.of('occurrence', e.occurrenceId);
  }

  approval(e: ApprovalEvent): string | null {
    return this.of('schedule', e.scheduleId);
  }
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const communes = new EventCommunes(services.db);

  app.get(
    '/events',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: `device` {id, online, lastSeen}, `delivery` {occurrenceId, deviceId, stage, at, detail}, ' +
          '`approval` {scheduleId, status, title} and `bulletin` {bulletinId} (a bulletin or a commune’s handling of it changed)',
        description: 'A commune user receives the events of their commune only; a province user every event.',
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
      const { communeId } = request.scope;
      const send =
        <E extends DeviceEvent | DeliveryEvent | ApprovalEvent>(event: string, communeOf: (data: E) => string | null) =>
        (data: E) => {
          // The session is checked on every event, even one this stream drops: any traffic ends a dead session.
          if (!stillSignedIn()) return;
          // Another commune's event is not this stream's.
          if (communeId !== null && communeOf(data) !== communeId) return;
          res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
      const onDevice = send('device', (e: DeviceEvent) => communes.device(e));
      const onDelivery = send('delivery', (e: DeliveryEvent) => communes.delivery(e));
      const onApproval = send('approval', (e: ApprovalEvent) => communes.approval(e));
      services.hub.on('device', onDevice);
      services.hub.on('delivery', onDelivery);
      services.hub.on('approval', onApproval);
      const onBulletin = (e: BulletinEvent) => {
        if (!stillSignedIn()) return;
        if (communeId !== null && !e.communeIds.includes(communeId)) return;
        res.write(`event: bulletin\ndata: ${JSON.stringify({ bulletinId: e.bulletinId })}\n\n`);
      };
      services.hub.on('bulletin', onBulletin);
      const heartbeat = setInterval(() => stillSignedIn() && res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      function close() {
        clearInterval(heartbeat);
        services.hub.off('device', onDevice);
        services.hub.off('delivery', onDelivery);
        services.hub.off('approval', onApproval);
        services.hub.off('bulletin', onBulletin);
      }
      request.raw.on('close', close);
      res.on('error', close);
    },
  );
};
