/**
 * Live updates for the console as Server-Sent Events: device online state and
 * delivery stages, as they happen. A commune user's stream carries only their
 * commune's events; a province user's every event.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApprovalEvent, BulletinEvent, DeliveryEvent, DeviceEvent } from '../../events/hub';
import type { SqlDb } from '../../db/sql';
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

/** The table of each kind of object an event is about. */
const TABLE_OF: Record<Kind, string> = {
  device: 'devices',
  occurrence: 'occurrences',
  schedule: 'schedules',
};

/**
 * The commune of the object an event is about, shared by every open stream:
 * after a power cut thousands of devices report within seconds, and each event
 * is filtered for every console tab, so each object is looked up once a while.
 */
export class EventCommunes {
  private readonly cache = new Map<string, { communeId: string; until: number }>();
  /** Lookups under way: the streams that miss the cache together wait for one query. */
  private readonly pending = new Map<string, Promise<string | null>>();

  constructor(
    private readonly sqlDb: SqlDb,
    private readonly now: () => number = Date.now,
  ) {}

  /** Null when there is no such object (nobody's commune: no commune user is told of it). */
  async of(kind: Kind, id: string): Promise<string | null> {
    const key = `${kind} ${id}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.communeId;
    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = this.lookUp(kind, id, key).finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    return lookup;
  }

  private async lookUp(kind: Kind, id: string, key: string): Promise<string | null> {
    const row: { commune_id: string } | undefined = await this.sqlDb.db
      .selectFrom(TABLE_OF[kind])
      .select('commune_id')
      .where('id', '=', id)
      .executeTakeFirst();
    this.cache.delete(key);
    if (!row) return null; // not remembered: it may exist in a moment
    this.cache.set(key, { communeId: row.commune_id, until: this.now() + COMMUNE_TTL_MS });
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= COMMUNE_CACHE_MAX) break;
      this.cache.delete(oldest);
    }
    return row.commune_id;
  }

  device(e: DeviceEvent): Promise<string | null> {
    return this.of('device', e.id);
  }

  delivery(e: DeliveryEvent): Promise<string | null> {
    return this.of('occurrence', e.occurrenceId);
  }

  approval(e: ApprovalEvent): Promise<string | null> {
    return this.of('schedule', e.scheduleId);
  }
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const communes = new EventCommunes(services.sql);

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
      // Set while a due re-check waits for the database: what comes meanwhile waits for its answer,
      // so nothing is sent to a session found dead.
      let held: string[] | null = null;
      const answered = (ok: boolean) => {
        const waiting = held ?? [];
        held = null;
        if (!signedIn || res.destroyed) return;
        if (!ok) {
          signedIn = false;
          close();
          res.end();
          return;
        }
        for (const chunk of waiting) res.write(chunk);
      };
      const stillSignedIn = () => {
        if (!signedIn || !bySession || held !== null || Date.now() - checkedAt < SESSION_RECHECK_MS) return signedIn;
        checkedAt = Date.now();
        held = [];
        sessionUser(request, services.users).then(
          (user) => answered(user !== null),
          (err: unknown) => {
            // The database did not answer: keep the stream; the next check is one interval away.
            request.log.warn({ err }, 'event stream: session re-check failed');
            answered(true);
          },
        );
        return signedIn;
      };
      const write = (chunk: string) => {
        if (held) held.push(chunk);
        else res.write(chunk);
      };
      const { communeId } = request.scope;
      let closed = false;
      // An event's commune may have to be read from the database: the lookups run side by side,
      // and each event is written (or dropped) only after those before it, in the order they came.
      let inOrder: Promise<void> = Promise.resolve();
      const writeInOrder = (chunk: string, keep: Promise<boolean> | boolean) => {
        inOrder = inOrder
          .then(async () => {
            if ((await keep) && !closed) write(chunk);
          })
          .catch((err: unknown) => request.log.warn({ err }, 'event stream: an event could not be written'));
      };
      const ofThisCommune = (lookup: Promise<string | null>): Promise<boolean> =>
        lookup.then(
          (of) => of === communeId,
          (err: unknown) => {
            // The commune could not be read: the event is not this stream's to be sure of.
            request.log.warn({ err }, 'event stream: the commune of an event could not be read');
            return false;
          },
        );
      const send =
        <E extends DeviceEvent | DeliveryEvent | ApprovalEvent>(
          event: string,
          communeOf: (data: E) => Promise<string | null>,
        ) =>
        (data: E) => {
          // The session is checked on every event, even one this stream drops: any traffic ends a dead session.
          if (!stillSignedIn()) return;
          // Another commune's event is not this stream's.
          const keep = communeId === null || ofThisCommune(communeOf(data));
          writeInOrder(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, keep);
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
        writeInOrder(`event: bulletin\ndata: ${JSON.stringify({ bulletinId: e.bulletinId })}\n\n`, true);
      };
      services.hub.on('bulletin', onBulletin);
      const heartbeat = setInterval(() => stillSignedIn() && write(': keep-alive\n\n'), HEARTBEAT_MS);
      function close() {
        closed = true;
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
