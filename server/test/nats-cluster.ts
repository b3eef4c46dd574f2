/**
 * A private NATS cluster (Debian's nats-server) for tests: N nodes on free
 * loopback ports, each with JetStream and an MQTT listener, routed to each
 * other, in a temporary directory; every node is our child process, stopped
 * by its pid. See ../../../shared/DESIGN.md ("Past one machine").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { onPath, requireTool } from '../../scripts/test/require-tool';
import { freePort, waitFor } from './helpers';

export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
  (p) => fs.existsSync(p),
);

/**
 * Whether nats-server is here for `skips` (the tests that need it): without it they skip with the
 * reason, or fail under LOAXA_REQUIRE_ALL=1 (scripts/test/require-tool.ts). Call at module load.
 */
export function requireNats(skips: string): boolean {
  return requireTool({
    tool: 'nats-server',
    found: () => NATS_SERVER_BIN ?? onPath('nats-server'),
    install: 'apt-get install nats-server',
    skips,
  });
}

export interface NatsNode {
  name: string;
  /** `mqtt://127.0.0.1:PORT`: what a loudspeaker connects to. */
  mqttUrl: string;
  mqttPort: number;
  /** `nats://127.0.0.1:PORT`: what the server's JetStream client connects to. */
  natsUrl: string;
  /** The node writes its pid here (`pid_file`): what the server signals to reload it. */
  pidFile: string;
  pid(): number | undefined;
  running(): boolean;
  log(): string;
}

export interface TestNatsCluster {
  nodes: NatsNode[];
  /** SIGKILL (default) or SIGTERM one node and wait for it to exit. */
  stop(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again with the same configuration and store. */
  restart(index: number): Promise<void>;
  close(): Promise<void>;
}

interface Ports {
  client: number;
  route: number;
  mqtt: number;
}

export interface NatsClusterOptions {
  /** A file every node includes at top level (e.g. the server's authorization include); it must exist. */
  include?: string;
  /** MQTT credentials of the readiness probe, once the nodes ask for them. */
  probe?: { username: string; password: string };
  /**
   * How MQTT sessions' JetStream consumers are kept (nats-server `mqtt { consumer_replicas,
   * consumer_memory_storage }`); unset: 3 replicas on disk, the survivable default below.
   */
  consumers?: NatsConsumerOptions;
}

export interface NatsConsumerOptions {
  replicas?: 1 | 3;
  memory?: boolean;
}

/** The `mqtt {}` lines that say how session consumers are kept (none for the defaults). */
export function natsConsumerLines(consumers: NatsConsumerOptions = {}): string[] {
  return [
    ...(consumers.replicas !== undefined ? [`  consumer_replicas: ${consumers.replicas}`] : []),
    ...(consumers.memory ? ['  consumer_memory_storage: true'] : []),
  ];
}

/** How a report names a consumer setting. */
export function describeNatsConsumers(consumers: NatsConsumerOptions = {}): string {
  return `consumers ${consumers.replicas ?? 3} replica${(consumers.replicas ?? 3) === 1 ? '' : 's'} ${consumers.memory ? 'in memory' : 'on disk'}`;
}

export async function startNatsCluster(size = 3, options: NatsClusterOptions = {}): Promise<TestNatsCluster> {
  if (!NATS_SERVER_BIN) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-nats-'));
  const ports: Ports[] = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), route: await freePort(), mqtt: await freePort() });
  const confOf = (i: number) => {
    const name = `n${i + 1}`;
    const routes = ports.filter((_, j) => j !== i).map((p) => `"nats-route://127.0.0.1:${p.route}"`);
    return [
      `server_name: ${name}`,
      `pid_file: "${path.join(dir, `${name}.pid`)}"`,
      // nats-server 2.9 joins an include path onto the config file's folder, even an absolute one.
      ...(options.include ? [`include "${path.relative(dir, options.include)}"`] : []),
      'host: 127.0.0.1',
      `port: ${ports[i]!.client}`,
      `jetstream { store_dir: "${path.join(dir, name)}", max_memory_store: 64MB, max_file_store: 1GB }`,
      `cluster { name: loaxa, host: 127.0.0.1, port: ${ports[i]!.route}, routes: [${routes.join(', ')}] }`,
      'mqtt {',
      '  host: 127.0.0.1',
      `  port: ${ports[i]!.mqtt}`,
      // What makes the death of one node survivable (nats-server 2.9.10, measured here):
      // - stream_replicas 3: left unset, nats-server counts the `routes` URLs (2 here: a node
      //   does not list itself), so $MQTT_sess, $MQTT_msgs and $MQTT_rmsgs were R2, and an R2
      //   stream loses its quorum with either peer: no session could be loaded (CONNACK never
      //   came) and no QoS 1 message stored (the publish hung).
      // - consumer_replicas unset: each session's consumer inherits the stream's 3 replicas.
      //   With 1 its one copy sits on one node; killing that node kills the subscription (a
      //   restored session reuses its consumer, it does not create a new one). ×3 costs time
      //   and memory (DESIGN.md: 1,500 persistent sessions 54 s vs 12 s at 1).
      // - ack_wait 10s (default 30 s): a QoS 1 message the consumer sent to the dying node's
      //   route is lost in flight and only redelivered after ack_wait; a healthy device acks in
      //   milliseconds, so 10 s bounds that case without redelivering to slow links.
      // A killed node's raft groups (JetStream meta, and each stream and consumer it led)
      // elect a new leader after 4–9 s (raft election timeout, fixed in 2.9.10), and a request
      // sent before that times out after 4 s (the MQTT JetStream API timeout, fixed too).
      // Measured after kill -9 of the device's node (5 runs of engines.cluster.test.ts plus 16 scripted
      // runs, one host): the device back with its session after 0.2 s (no leader on that node)
      // up to 9.0 s ($MQTT_sess led there); a QoS 1 publish through another node PUBACKed at
      // once or after ≈ 8.4 s (its node drops the publisher after the 4 s timeout and mqtt.js
      // resends on reconnect); that message delivered 0.2–8.5 s after the kill; the retained
      // plan served to a new QoS 1 subscriber after 0.5–15.5 s (a new consumer needs the meta
      // leader: SUBACK 0x80 until one is elected). Worst case ≈ 9 + 4 s: the tests wait, bounded.
      '  stream_replicas: 3',
      ...natsConsumerLines(options.consumers),
      '  ack_wait: "10s"',
      '}',
      '',
    ].join('\n');
  };
  const children: (ChildProcess | undefined)[] = new Array<ChildProcess | undefined>(size);
  const outputs: string[] = new Array<string>(size).fill('');
  const spawnNode = (i: number) => {
    const file = path.join(dir, `n${i + 1}.conf`);
    fs.writeFileSync(file, confOf(i));
    const child = spawn(NATS_SERVER_BIN!, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (outputs[i] += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (outputs[i] += d.toString()));
    children[i] = child;
  };
  const running = (i: number) => {
    const c = children[i];
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };
  /** A node serves MQTT once the cluster has a JetStream leader and its MQTT streams: an MQTT CONNACK says so. */
  const mqttReady = async (i: number) => {
    if (!running(i)) throw new Error(`nats-server n${i + 1} exited: ${outputs[i]}`);
    // allowRetries false: a node that closes the connection without a CONNACK (its JetStream
    // request timed out) must reject the promise; otherwise connectAsync never settles.
    const client = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${ports[i]!.mqtt}`,
      {
        clientId: `probe-${i}-${Date.now()}`,
        // Above the server's 4 s JetStream API timeout: the first CONNECT creates the MQTT streams.
        connectTimeout: 5_000,
        reconnectPeriod: 0,
        ...(options.probe ?? {}),
      },
      false,
    );
    await client.endAsync();
    return true;
  };
  // A start that fails, or a test run that ends (a hook timeout) before close(), must not leave
  // nodes behind: they are killed by pid, here or when this process exits.
  const killAll = () => {
    for (let i = 0; i < size; i++) if (running(i)) children[i]!.kill('SIGKILL');
  };
  const onExit = () => {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  for (let i = 0; i < size; i++) spawnNode(i);
  try {
    for (let i = 0; i < size; i++) await waitFor(`NATS node n${i + 1} to serve MQTT`, () => mqttReady(i), 60_000, 250);
  } catch (err) {
    // What the nodes said is the only clue to a start that never served MQTT.
    for (let i = 0; i < size; i++) console.error(`[nats-cluster] n${i + 1} output:\n${outputs[i]!.slice(-4000)}`);
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const stop = async (i: number, signal: NodeJS.Signals = 'SIGKILL') => {
    const child = children[i];
    if (!child || !running(i)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    // A node holding thousands of sessions can take minutes over a graceful SIGTERM (seen
    // with 2,000 in bench --cluster): it is killed after 10 s.
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    nodes: ports.map((p, i) => ({
      name: `n${i + 1}`,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      mqttPort: p.mqtt,
      natsUrl: `nats://127.0.0.1:${p.client}`,
      pidFile: path.join(dir, `n${i + 1}.pid`),
      pid: () => children[i]?.pid,
      running: () => running(i),
      log: () => outputs[i]!,
    })),
    stop,
    async restart(i) {
      if (running(i)) return;
      spawnNode(i);
      await waitFor(`NATS node n${i + 1} to serve MQTT again`, () => mqttReady(i), 60_000, 250);
    },
    async close() {
      process.off('exit', onExit);
      await Promise.all(children.map((_, i) => stop(i, 'SIGTERM')));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
