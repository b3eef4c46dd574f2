/**
 * Issue 18's scale-out scenarios on the production shape (harness.ts): 3 NATS
 * nodes, PostgreSQL, two `loaxa serve` processes behind a balancer, and
 * simulated loudspeakers spread over the nodes, each configured with every
 * node (the list the server provisions, rotated per device).
 *
 * The scenarios run in order on one cluster; each leaves it whole again
 * (a killed instance or node is started again) for the next.
 */
import { DateTime } from 'luxon';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimFleet, type SimFleet } from '@loaxa/firmware-sim';
import { topics, type AckPayload } from '@loaxa/protocol';
import { rows, sql, waitFor } from '../helpers';
import { requireNats } from '../nats-cluster';
import { requirePostgres } from '../postgres';
import { startCluster, type Cluster, type Instance } from './harness';

const hasNats = requireNats('the scale-out tests');
const hasPostgres = requirePostgres('the scale-out tests');

const DEVICES = 24;

interface Provisioned {
  deviceId: string;
  secret: string;
  mqttUrl: string;
  mqttUrls?: string[];
}

describe.skipIf(!hasNats || !hasPostgres)('scale-out: 3 NATS nodes, PostgreSQL, 2 server instances', () => {
  let c: Cluster;
  let fleet: SimFleet;
  const devices: Provisioned[] = [];
  let zoneId: string;
  /** Every ack the loudspeakers sent, as they sent it: what "played once" is checked against. */
  const sent: { deviceId: string; ack: AckPayload }[] = [];
  const plansSeen = new Map<string, { version: number; items: number; at: string }>();

  beforeAll(async () => {
    c = await startCluster();
    const zone = await c.api<{ id: string }>('POST', '/api/v1/zones', { name: 'Thôn A' });
    expect(zone.status).toBe(201);
    zoneId = zone.body.id;
    for (let i = 0; i < DEVICES; i++) {
      const res = await c.api<{ agentConfig: Provisioned }>('POST', '/api/v1/devices', {
        id: `loa-cum-${String(i).padStart(2, '0')}`,
        zones: [zone.body.id],
        player: 'null',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      devices.push(res.body.agentConfig);
    }
    fleet = await startSimFleet({
      serverUrl: c.balancer.url,
      mqttUrl: devices[0]!.mqttUrl,
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        secret: d.secret,
        brokers: [d.mqttUrl, ...(d.mqttUrls ?? [])],
      })),
      // Short, as on a test bench: a device whose node died tries the next one within a second.
      backoff: { baseMs: 200, maxMs: 2_000 },
    });
    fleet.events.on('ack', (deviceId, ack) => sent.push({ deviceId, ack }));
    fleet.events.on('plan', (deviceId, plan) =>
      plansSeen.set(deviceId, { version: plan.planVersion, items: plan.items.length, at: new Date().toISOString() }),
    );
    // The nodes load each new device's credentials (a reload confirmed on every node) before it
    // can log in; the agents retry until then.
    await fleet.waitOnline(90_000);
    await allOnline('every device online in the registry');
  }, 300_000);

  afterAll(async () => {
    // What went wrong on the servers' side, when something did.
    for (const i of c?.instances ?? []) {
      const problems = i.proc
        .output()
        .split('\n')
        .filter((l) => /"level":(40|50|60)/.test(l));
      if (problems.length > 0) console.log(`[cluster] instance ${i.name}:\n${problems.slice(-40).join('\n')}`);
    }
    await fleet?.stop();
    await c?.close();
  });

  /** Devices online in the registry (the shared database). */
  const online = async () =>
    Number(
      (
        await rows<{ n: number }>(c.sql, sql`SELECT COUNT(*) AS n FROM devices WHERE online = 1 AND revoked_at IS NULL`)
      )[0]?.n ?? 0,
    );
  /** Waits until every device is online; says which are not, and what they last said, when it times out. */
  const allOnline = (what: string) =>
    waitFor(what, async () => (await online()) === DEVICES, 60_000, 250).catch(async (err: unknown) => {
      const off = await rows<{ id: string }>(c.sql, sql`SELECT id FROM devices WHERE online = 0 ORDER BY id`);
      const ids = off.map((d) => d.id);
      const statuses = await rows(
        c.sql,
        sql`SELECT device_id, online, at FROM device_status WHERE device_id IN (${sql.join(ids.length ? ids : [''])})
            ORDER BY seq DESC LIMIT 30`,
      );
      const agents = fleet.agents.filter((a) => ids.includes(a.deviceId)).map((a) => a.snapshot());
      throw new Error(
        `${(err as Error).message}: offline ${JSON.stringify(ids)}; statuses ${JSON.stringify(statuses)}; ` +
          `agents ${JSON.stringify(agents.map((a) => [a.deviceId, a.connected, a.online]))}`,
      );
    });

  /** Stage counts of one occurrence's acks as stored: [device, stage, how many rows]. */
  const storedAcks = (ref: string) =>
    rows<{ device_id: string; stage: string; n: number }>(
      c.sql,
      sql`SELECT device_id, stage, COUNT(*) AS n FROM acks WHERE ref_id = ${ref} GROUP BY device_id, stage`,
    );
  /** Devices whose every stage of `ref` (received, ready, started, finished) is stored. */
  const complete = async (ref: string) => {
    const stages = new Map<string, number>();
    for (const a of await storedAcks(ref)) stages.set(a.device_id, (stages.get(a.device_id) ?? 0) + 1);
    return [...stages.values()].filter((n) => n === 4).length;
  };
  const startedOnDevices = (ref: string) =>
    sent.filter((s) => s.ack.occurrenceId === ref && s.ack.stage === 'started').map((s) => s.deviceId);

  /** Every device played `ref` exactly once, and each of its acks is stored exactly once. */
  async function playedOnceEverywhere(ref: string, timeoutMs: number): Promise<void> {
    await waitFor(
      // An ack an instance took and died with goes to the other after JetStream's ack wait (10 s).
      `${ref} acknowledged whole by every device`,
      async () => (await complete(ref)) === DEVICES,
      timeoutMs,
      250,
    ).catch(async (err: unknown) => {
      const stages = new Map<string, number>();
      for (const a of await storedAcks(ref)) stages.set(a.stage, (stages.get(a.stage) ?? 0) + 1);
      const onDevices = new Map<string, number>();
      for (const s of sent.filter((x) => x.ack.occurrenceId === ref))
        onDevices.set(s.ack.stage, (onDevices.get(s.ack.stage) ?? 0) + 1);
      const heard = new Set(sent.filter((x) => x.ack.occurrenceId === ref).map((x) => x.deviceId));
      const missing = devices.map((d) => d.deviceId).filter((id) => !heard.has(id));
      const state = await rows(
        c.sql,
        sql`SELECT id, online, plan_version, last_seen FROM devices WHERE id IN (${sql.join(missing.length ? missing : [''])})`,
      );
      const plans = missing.map((id) => [id, plansSeen.get(id)]);
      throw new Error(
        `${(err as Error).message}; stored ${JSON.stringify([...stages])}, sent by devices ${JSON.stringify([...onDevices])}; ` +
          `never heard it: ${JSON.stringify(state)}; their last plans ${JSON.stringify(plans)}`,
      );
    });
    const stored = await storedAcks(ref);
    expect(stored.filter((a) => Number(a.n) !== 1)).toEqual([]);
    expect(stored.filter((a) => a.stage === 'started')).toHaveLength(DEVICES);
    const started = startedOnDevices(ref);
    expect(new Set(started).size).toBe(DEVICES);
    expect(started).toHaveLength(DEVICES);
  }

  async function broadcast(
    through: { api: Cluster['api'] } | Instance,
    body: Record<string, unknown>,
  ): Promise<string> {
    const api = 'proc' in through ? await through.proc.adminApi() : through.api;
    const res = await api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', { zones: 'all', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.occurrenceId;
  }

  const metric = async (i: Instance, name: string): Promise<number> => {
    const text = await (await fetch(`${i.proc.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  it('plays a broadcast scheduled through instance A on every device; each ack is stored once, whichever instance took it', async () => {
    const [a, b] = c.instances;
    const acksBefore = [await metric(a, 'loaxa_acks_total'), await metric(b, 'loaxa_acks_total')];
    const ref = await broadcast(a, {
      text: 'Thông báo thử hệ thống nhiều máy chủ.',
      at: new Date(Date.now() + 6_000).toISOString(),
    });
    await playedOnceEverywhere(ref, 60_000);
    // The inbound work queue is shared: both instances stored some of the acks.
    const taken = [
      (await metric(a, 'loaxa_acks_total')) - acksBefore[0]!,
      (await metric(b, 'loaxa_acks_total')) - acksBefore[1]!,
    ];
    console.log(`[cluster] acks stored by instance a / b: ${taken.join(' / ')}`);
    expect(taken.every((n) => n > 0)).toBe(true);
  });

  it('hands the scheduler to the other instance within 10 s when its instance is killed mid-broadcast; nothing lost, nothing twice', async () => {
    const leader = await c.leader();
    const other = c.instances.find((i) => i !== leader)!;
    const ref = await broadcast(c, {
      text: 'Thông báo dài để thử khi một máy chủ bị tắt đột ngột giữa lúc đang phát trên các loa.',
      at: new Date(Date.now() + 5_000).toISOString(),
    });
    await waitFor('the broadcast playing', () => startedOnDevices(ref).length > 0, 30_000, 50);
    await leader.stop('SIGKILL');
    try {
      const killedAt = Date.now();
      await waitFor('the other instance leads', async () => (await other.health())?.leader === true, 15_000, 100);
      const takeoverMs = Date.now() - killedAt;
      console.log(`[cluster] scheduler taken over ${takeoverMs} ms after kill -9 of the leader`);
      expect(takeoverMs).toBeLessThan(10_000);
      await playedOnceEverywhere(ref, 60_000);
      // Schedules go on through whichever instance is left.
      const start = DateTime.now().setZone('Asia/Ho_Chi_Minh').plus({ seconds: 20 }).startOf('second');
      const post = async <T>(p: string, body?: unknown): Promise<T> => {
        const res = await c.api<T>('POST', `/api/v1${p}`, body);
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
        return res.body;
      };
      const notice = await post<{ id: string }>('/content', {
        kind: 'notice',
        title: 'Sau khi chuyển máy chủ',
        text: 'Lịch phát sau khi chuyển máy chủ.',
      });
      const programme = await post<{ id: string }>('/programmes', {
        title: 'Một lần',
        items: [{ contentId: notice.id }],
      });
      const schedule = await post<{ id: string }>('/schedules', {
        title: 'Một lần',
        programmeId: programme.id,
        rule: {
          kind: 'daily',
          startDate: start.toISODate(),
          endDate: start.toISODate(),
          times: [start.toFormat('HH:mm:ss')],
        },
        zones: [zoneId],
      });
      await post(`/schedules/${schedule.id}/submit`);
      const occurrence = await waitFor(
        'the schedule materialised',
        async () =>
          (await rows<{ id: string }>(c.sql, sql`SELECT id FROM occurrences WHERE schedule_id = ${schedule.id}`))[0]
            ?.id,
        20_000,
      );
      await playedOnceEverywhere(occurrence, 60_000);
    } finally {
      await leader.start();
    }
  });

  it('moves the devices of a stopped NATS node to the others; retained plans stay; acks made meanwhile arrive once', async () => {
    const ref = await broadcast(c, {
      text: 'Thông báo khi một nút mạng ngừng.',
      at: new Date(Date.now() + 8_000).toISOString(),
    });
    // Every device holds the item before the node goes.
    await waitFor(
      'every device ready',
      async () => (await storedAcks(ref)).filter((a) => a.stage === 'ready').length === DEVICES,
      30_000,
    );
    const victim = 0;
    await c.nats.stop(victim, 'SIGKILL');
    try {
      // Played while a third of the fleet was between nodes; those acks wait in the outboxes.
      await playedOnceEverywhere(ref, 90_000);
      await allOnline('every device online again');
      // Each device's retained plan, as a new subscriber gets it from a surviving node (the
      // server's own user), is the newest the database numbered.
      const survivor = c.nats.nodes[1]!;
      const probe = await mqtt.connectAsync(survivor.mqttUrl, {
        clientId: `plan-probe-${Date.now()}`,
        username: 'loaxa-server',
        password: c.instances[0].proc.env.MQTT_PASSWORD,
        reconnectPeriod: 0,
      });
      try {
        const plans = new Map<string, number>();
        probe.on('message', (topic, payload) =>
          plans.set(topic, (JSON.parse(payload.toString()) as { planVersion: number }).planVersion),
        );
        // QoS 0: a new QoS 1 subscription is a new JetStream consumer with 3 replicas, which the
        // cluster cannot place while one of its 3 nodes is down (SUBACK 0x80; README, Scaling).
        // Loudspeakers that reconnect keep the consumers their sessions already have.
        await probe.subscribeAsync(
          devices.map((d) => topics.devicePlan(d.deviceId)),
          { qos: 0 },
        );
        await waitFor('every retained plan', () => plans.size === DEVICES, 30_000);
        const numbered = () =>
          rows<{ id: string; plan_version: number }>(c.sql, sql`SELECT id, plan_version FROM devices ORDER BY id`);
        // A plan numbered in the database just before the snapshot may still be on its way to the
        // nodes (one of them is down): each retained plan must reach its database version, bounded.
        await waitFor(
          'every retained plan at its database version',
          async () => (await numbered()).every((d) => plans.get(topics.devicePlan(d.id)) === Number(d.plan_version)),
          30_000,
        ).catch(() => {});
        for (const d of await numbered()) expect(plans.get(topics.devicePlan(d.id)), d.id).toBe(Number(d.plan_version));
      } finally {
        await probe.endAsync(true);
      }
    } finally {
      await c.nats.restart(victim);
    }
  });

  it('plays an emergency once on every online device when a server instance and a NATS node are killed as it goes out', async () => {
    await allOnline('every device online');
    const [a] = c.instances;
    const ref = await broadcast(a, { text: 'Khẩn cấp: thử báo động.', priority: 'emergency' });
    await Promise.all([a.stop('SIGKILL'), c.nats.stop(1, 'SIGKILL')]);
    try {
      await playedOnceEverywhere(ref, 90_000);
    } finally {
      await a.start();
      await c.nats.restart(1);
    }
  });
});
