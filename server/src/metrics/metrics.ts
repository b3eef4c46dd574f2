/**
 * Prometheus metrics: one registry per server, fed by the event hub and the
 * broker, served at /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql';
import type { EventHub } from '../events/hub';

/** Play-now occurrences whose start is remembered for the latency histogram. */
const RECENT_OCCURRENCES = 100;

export interface ServerMetrics {
  registry: Registry;
  mqttMessages: Counter<'kind'>;
  mqttRejected: Counter<'kind'>;
  renderSeconds: Histogram<'engine' | 'cached'>;
  broadcastStartSeconds: Histogram<'priority'>;
  /** Plan items a device had beyond what one plan carries (Planner's overflow). */
  planItemsLeftOut: Counter;
}

export function createMetrics(sqlDb: SqlDb, hub: EventHub, connectedClients: () => number): ServerMetrics {
  const { db } = sqlDb;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'loaxa_' });

  new Gauge({
    name: 'loaxa_devices',
    help: 'Devices by state (online, offline, revoked)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      // CASE, not SUM(a AND b): PostgreSQL's comparisons are booleans, which SUM does not take.
      const row = await db
        .selectFrom('devices')
        .select([
          sql<number>`COALESCE(SUM(CASE WHEN revoked_at IS NULL AND online = 1 THEN 1 ELSE 0 END), 0)`.as('online'),
          sql<number>`COALESCE(SUM(CASE WHEN revoked_at IS NULL AND online = 0 THEN 1 ELSE 0 END), 0)`.as('offline'),
          sql<number>`COALESCE(SUM(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0)`.as('revoked'),
        ])
        .executeTakeFirstOrThrow();
      // PostgreSQL's SUM of integers is NUMERIC, given as text.
      this.set({ state: 'online' }, Number(row.online));
      this.set({ state: 'offline' }, Number(row.offline));
      this.set({ state: 'revoked' }, Number(row.revoked));
    },
  });
  new Gauge({
    name: 'loaxa_mqtt_connections',
    help: 'Open MQTT connections on the embedded broker',
    registers: [registry],
    collect() {
      this.set(connectedClients());
    },
  });
  const acks = new Counter({
    name: 'loaxa_acks_total',
    help: 'Delivery stage changes recorded, by stage',
    labelNames: ['stage'],
    registers: [registry],
  });
  hub.onLocal('delivery', (e) => acks.inc({ stage: e.stage }));

  const broadcastStartSeconds = new Histogram({
    name: 'loaxa_broadcast_start_latency_seconds',
    help: 'Play-now broadcasts: from the command being sent to each device\'s "started" ack (device clock)',
    labelNames: ['priority'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  // A play-now's start and priority, read once per occurrence, not once per ack (an emergency brings
  // one "started" from every loudspeaker within a second); the last few are kept.
  const starts = new Map<string, Promise<{ start_at: number; priority: string } | undefined>>();
  const startOf = (occurrenceId: string) => {
    let start = starts.get(occurrenceId);
    if (!start) {
      start = db
        .selectFrom('occurrences')
        .select(['start_at', 'priority'])
        .where('id', '=', occurrenceId)
        .where('command_id', 'is not', null)
        .executeTakeFirst();
      starts.set(occurrenceId, start);
      if (starts.size > RECENT_OCCURRENCES) starts.delete(starts.keys().next().value!);
    }
    return start;
  };
  hub.onLocal('delivery', (e) => {
    if (e.stage !== 'started' || !e.at) return;
    const at = Date.parse(e.at);
    startOf(e.occurrenceId).then(
      (o) => {
        if (o) broadcastStartSeconds.observe({ priority: o.priority }, Math.max(0, at - o.start_at) / 1000);
      },
      // A metric must never disturb the acks; the lookup is tried again at the next one.
      () => starts.delete(e.occurrenceId),
    );
  });

  return {
    broadcastStartSeconds,
    registry,
    planItemsLeftOut: new Counter({
      name: 'loaxa_plan_items_left_out_total',
      help: 'Plan items left out of a plan because the device had more ahead than one plan carries',
      registers: [registry],
    }),
    mqttMessages: new Counter({
      name: 'loaxa_mqtt_messages_total',
      help: 'MQTT messages received from devices, by topic kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    mqttRejected: new Counter({
      name: 'loaxa_mqtt_rejected_total',
      help: 'Device messages rejected (too large or failing the schema), by topic kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    renderSeconds: new Histogram({
      name: 'loaxa_render_seconds',
      help: 'Time to render a notice to audio',
      labelNames: ['engine', 'cached'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
  };
}
