/**
 * A loudspeaker on a 3-node NATS cluster (issue 18, "Broker"): the real server
 * in NATS mode provisions it with every node's MQTT URL, the agent's link
 * connects to the first of them, and when that node is killed (-9, by pid) the
 * link moves to the next node with its persistent session: a QoS 1 command
 * published while it had no connection still reaches it, and its retained plan
 * is still served. Timings are printed; every wait is bounded (nats-cluster.ts
 * explains what a node's death costs: raft elections of 4–9 s, 4 s timeouts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { encode, topics, type CommandPayload, type PlanPayload } from '@loaxa/protocol';
import { writeInitialNatsAuthorization } from '../../../server/src/broker/nats';
import { brokerOrderFor } from '../../../server/src/devices/provisioning';
import { startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { requireNats, startNatsCluster, type TestNatsCluster } from '../../../server/test/nats-cluster';
import { systemClock } from '../../src/clock/clock';
import { validateConfig } from '../../src/config';
import { MqttLink } from '../../src/link/mqtt-link';

const hasNats = requireNats('the agent’s broker failover test');

const SERVER_USER = 'loaxa-server';
const SERVER_PASSWORD = crypto.randomBytes(16).toString('hex');

type LogLine = { level: number; msg: string; [key: string]: unknown };

describe.skipIf(!hasNats)('an agent on a 3-node NATS cluster', () => {
  let dir: string;
  let cluster: TestNatsCluster;
  let server: TestServer;
  let link: MqttLink | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-failover-'));
    const authFile = path.join(dir, 'loaxa-auth.conf');
    // What an operator writes before the nodes' first start (`loaxa nats-auth-init`): the server's own user.
    writeInitialNatsAuthorization(authFile, SERVER_USER, SERVER_PASSWORD);
    cluster = await startNatsCluster(3, {
      include: authFile,
      probe: { username: SERVER_USER, password: SERVER_PASSWORD },
    });
    const [n1, n2, n3] = cluster.nodes as [TestNatsCluster['nodes'][0], ...TestNatsCluster['nodes']];
    server = await startTestServer({
      // The server's own client starts on n2, so killing n1 (the loudspeaker's node) leaves it be.
      MQTT_URL: [n2!.mqttUrl, n3!.mqttUrl, n1.mqttUrl].join(','),
      NATS_URLS: cluster.nodes.map((n) => n.natsUrl).join(','),
      MQTT_USERNAME: SERVER_USER,
      MQTT_PASSWORD: SERVER_PASSWORD,
      NATS_AUTH_FILE: authFile,
      NATS_PID_FILES: cluster.nodes.map((n) => n.pidFile).join(','),
    });
    await server.services.registry.createZone('Thôn Một', 'default', 'thon-1');
  }, 180_000);

  afterAll(async () => {
    await link?.stop({ abrupt: true });
    await server?.close();
    await cluster?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves to another node when its node is killed, keeping its session and retained plan', async () => {
    const urls = cluster.nodes.map((n) => n.mqttUrl);
    const n1 = urls[0]!;
    // A device whose own order (provisioning's) starts on node 1.
    const deviceId = Array.from({ length: 50 }, (_, i) => `loa-cum-${i}`).find(
      (id) => brokerOrderFor(id, urls)[0] === n1,
    )!;

    // Provisioned by the server in NATS mode: every node, this device's first node in mqttUrl.
    const added = await server.api<{ agentConfig: Record<string, unknown> & { mqttUrl: string; mqttUrls?: string[] } }>(
      'POST',
      '/api/v1/devices',
      { id: deviceId, zones: ['thon-1'], player: 'null' },
    );
    expect(added.status).toBe(201);
    const { agentConfig } = added.body;
    expect(agentConfig.mqttUrl).toBe(n1);
    expect([agentConfig.mqttUrl, ...(agentConfig.mqttUrls ?? [])].sort()).toEqual([...urls].sort());
    const parsed = validateConfig({ ...agentConfig, dataDir: dir, player: { type: 'null', log: 'play.log' } });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    expect(await server.brokerSettled()).toBe(true); // its credentials are loaded on every node

    const logs: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
    const plans: { at: number; plan: PlanPayload }[] = [];
    const commands: { at: number; command: CommandPayload }[] = [];
    const connections: number[] = [];
    let away: { at: number; published: Promise<void> } | undefined;
    const command: CommandPayload = {
      v: 1,
      commandId: `cmd-${Date.now()}`,
      issuedAt: Date.now(),
      expiresAt: Date.now() + 10 * 60_000,
      action: 'volume',
      level: 70,
    };
    link = new MqttLink(
      {
        deviceId,
        mqttUrl: config.mqttUrl,
        ...(config.mqttUrls ? { mqttUrls: config.mqttUrls } : {}),
        secret: config.secret,
        clock: systemClock,
        logger,
        // "online" only once a plan arrived: the server answers each "online" with a new plan, so
        // the first plan after the move is the retained one, not one published because of it.
        planWaitMs: 120_000,
      },
      {
        plan: (plan) => {
          plans.push({ at: Date.now(), plan });
          return plan.zones;
        },
        command: (c) => commands.push({ at: Date.now(), command: c }),
        connected: () => connections.push(Date.now()),
        // The moment the link has no connection: the command goes out before it can reconnect.
        disconnected: () => {
          away ??= {
            at: Date.now(),
            published: server.services.bus.publish(topics.deviceCmd(deviceId), encode(command)),
          };
        },
        online: () => {},
      },
    );
    let killedAt = 0;
    // A failure says what the link went through.
    onTestFailed(() => {
      console.log(
        logs
          .filter((l) => l.level >= 40 || /connected|moving|scheduled/.test(l.msg))
          .map((l) => JSON.stringify(l))
          .join('\n'),
      );
      console.log(plans.map((p) => `plan v${p.plan.planVersion} at ${p.at}`).join('\n'), { killedAt });
    });
    await link.start();
    await waitFor('the agent connected to node 1', () => link!.brokerUrl === n1, 30_000);
    expect((await waitFor('the retained plan', () => plans[0], 30_000)).plan.zones).toEqual(['thon-1']);
    await waitFor('the agent online', () => link!.isOnline, 30_000);
    // The plan the server sends back for "online" (v2): the last one before the kill.
    await waitFor('the plan for "online"', () => plans.length >= 2, 30_000);
    const before = plans.at(-1)!;
    expect(before.plan.planVersion).toBe(plans[0]!.plan.planVersion + 1);

    killedAt = Date.now();
    await cluster.stop(0); // SIGKILL node 1's process, by its pid
    expect(cluster.nodes[0]!.running()).toBe(false);
    const gone = await waitFor('the agent to notice', () => away, 30_000);
    const moved = await waitFor('the agent on another node', () => link!.brokerUrl, 30_000);
    const movedAt = connections[1]!;
    expect(moved).not.toBe(n1);
    expect(urls).toContain(moved);
    // Round robin: the first attempt after the loss went to the device's next node.
    expect(logs.find((l) => l.msg === 'mqtt moving to the next broker node')).toMatchObject({
      from: n1,
      to: config.mqttUrls![0],
    });
    expect(logs.filter((l) => l.msg === 'mqtt connected').map((l) => l.broker)).toEqual([n1, moved]);

    // The persistent session kept the command published while the agent had no connection.
    const got = await waitFor(
      'the command published while away',
      () => commands.find((c) => c.command.commandId === command.commandId),
      30_000,
    );
    expect(got.command).toEqual(command);
    await waitFor('the PUBACK of the command', () => gone.published.then(() => true), 30_000);

    // The retained plan is still served: the link subscribes again on its new node.
    // The first plan on the new connection comes before the link says "online" there, so before
    // the server could send a new one: it is the retained plan, the last one from before the kill.
    const after = await waitFor('the retained plan on the new node', () => plans.find((p) => p.at >= movedAt), 30_000);
    expect(after.plan).toEqual(before.plan);
    await waitFor('the agent online again', () => link!.isOnline, 30_000);
    console.log(
      `broker failover: agent lost ${n1} ${gone.at - killedAt} ms after kill -9, on ${moved} after ` +
        `${movedAt - killedAt} ms, command published while away delivered after ${got.at - killedAt} ms, ` +
        `retained plan again after ${after.at - killedAt} ms`,
    );
  }, 150_000);
});
