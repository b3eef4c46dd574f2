/**
 * Prometheus metrics: one registry per server, fed by the event hub and the
 * broker, served at /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/database';
import type { EventHub } from '../events/hub';

export interface ServerMetrics {
  registry: Registry;
  mqttMessages: Counter<'kind'>;
  mqttRejected: Counter<'kind'>;
  renderSeconds: Histogram<'engine' | 'cached'>;
  broadcastStartSeconds: Histogram<'priority'>;
  /** Plan items a device had beyond what one plan carries (Planner's overflow). */
  planItemsLeftOut: Counter;
}

export function createMetrics(db: Db, hub: EventHub, connectedClients: () => number): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'loaxa_' });

  new Gauge({
    name: 'loaxa_devices',
    help: 'Devices by state (online, offline, revoked)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const row = db
        .prepare(
          `SELECT COALESCE(SUM(revoked_at IS NULL AND online = 1), 0) AS online,
                  COALESCE(SUM(revoked_at IS NULL AND online = 0), 0) AS offline,
                  COALESCE(SUM(revoked_at IS NOT NULL), 0) AS revoked FROM devices`,
        )
        .get() as { online: number; offline: number; revoked: number };
      this.set({ state: 'online' }, row.online);
      this.set({ state: 'offline' }, row.offline);
      this.set({ state: 'revoked' }, row.revoked);
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
  hub.on('delivery', (e) => acks.inc({ stage: e.stage }));

  const broadcastStartSeconds = new Histogram({
    name: 'loaxa_broadcast_start_latency_seconds',
    help: 'Play-now broadcasts: from the command being sent to each device\'s "started" ack (device clock)',
    labelNames: ['priority'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const occurrenceStart = db.prepare(
    'SELECT start_at, priority FROM occurrences WHERE id = ? AND command_id IS NOT NULL',
  );
  hub.on('delivery', (e) => {
    if (e.stage !== 'started' || !e.at) return;
    const o = occurrenceStart.get(e.occurrenceId) as { start_at: number; priority: string } | undefined;
    if (o) broadcastStartSeconds.observe({ priority: o.priority }, Math.max(0, Date.parse(e.at) - o.start_at) / 1000);
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
