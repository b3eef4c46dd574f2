/**
 * The ready-to-use agent configuration printed when a device is provisioned:
 * the technician copies it to /etc/loaxa/agent.json on the node. It plays
 * through the node's sound card (ALSA) with the amplifier and mixer defaults
 * scripts/install-agent.sh writes, so a node set up as the README says makes
 * sound. A silent player ("null": logs what it would play) is only given when
 * asked for, and such an agent says so in every ack and in its status.
 *
 * A broker of several nodes (NATS mode: MQTT_URL or MQTT_DEVICE_URL lists them)
 * is given whole: `mqttUrl` is the node the agent tries first and `mqttUrls` the
 * others, in the order it moves through them when its node dies. Each device
 * gets its own order (brokerOrderFor), so a fleet starts spread over the nodes
 * and the devices of a node that dies spread over the survivors.
 */
import { createHash } from 'node:crypto';

export type ProvisionedPlayer = 'alsa' | 'null';
export const PROVISIONED_PLAYERS: readonly ProvisionedPlayer[] = ['alsa', 'null'];

/** What scripts/install-agent.sh writes for a Raspberry Pi (server/test checks the two agree). */
export const NODE_DEFAULTS = {
  player: { type: 'alsa', device: 'default', command: 'ffmpeg' },
  audioFormat: 'ogg',
  amp: { type: 'none' },
  mixer: { type: 'amixer', card: 0, control: 'PCM' },
} as const;

export interface ProvisionedAgentConfig {
  deviceId: string;
  serverUrl: string;
  mqttUrl: string;
  /** The broker's other nodes, only when it has several. */
  mqttUrls?: string[];
  secret: string;
  dataDir: string;
  player: { type: 'alsa'; device: string; command: 'ffmpeg' | 'ffplay' | 'aplay' } | { type: 'null'; log: string };
  audioFormat: 'ogg' | 'mp3';
  amp: { type: 'none' };
  mixer: { type: 'amixer'; card: number; control: string } | { type: 'none' };
}

export function agentConfigFor(input: {
  deviceId: string;
  secret: string;
  serverUrl: string;
  mqttPort: number;
  /**
   * An external broker's addresses for devices (several: the nodes of one broker);
   * none: the embedded broker on the server's host.
   */
  mqttUrls?: readonly string[];
  /** "null" only when someone asks for a silent node (a test bench, a demo). */
  player?: ProvisionedPlayer;
}): ProvisionedAgentConfig {
  const server = new URL(input.serverUrl);
  const mqttScheme = server.protocol === 'https:' ? 'mqtts' : 'mqtt';
  const silent = input.player === 'null';
  const [first, ...others] =
    input.mqttUrls && input.mqttUrls.length > 0
      ? brokerOrderFor(input.deviceId, input.mqttUrls)
      : [`${mqttScheme}://${server.hostname}:${input.mqttPort}`];
  return {
    deviceId: input.deviceId,
    serverUrl: server.origin,
    mqttUrl: first!,
    ...(others.length > 0 ? { mqttUrls: others } : {}),
    secret: input.secret,
    dataDir: '/var/lib/loaxa',
    player: silent ? { type: 'null', log: '/var/lib/loaxa/play.log' } : { ...NODE_DEFAULTS.player },
    audioFormat: NODE_DEFAULTS.audioFormat,
    amp: { ...NODE_DEFAULTS.amp },
    mixer: silent ? { type: 'none' } : { ...NODE_DEFAULTS.mixer },
  };
}

/**
 * The order in which a device tries a broker's nodes: rendezvous hashing (each
 * node ranked by a hash of the device id and the node's URL). The first node is
 * spread evenly over the fleet, and so is the next one among the rest: when a node
 * dies, its devices move to different survivors rather than all to one. The same
 * device and URLs always give the same order; one node more or less only moves
 * the devices that ranked it first.
 */
export function brokerOrderFor(deviceId: string, urls: readonly string[]): string[] {
  const rank = (url: string) => createHash('sha256').update(`${deviceId}\n${url}`).digest().readBigUInt64BE(0);
  return [...new Set(urls)]
    .map((url) => ({ url, rank: rank(url) }))
    .sort((a, b) => (a.rank === b.rank ? a.url.localeCompare(b.url) : a.rank > b.rank ? -1 : 1))
    .map((n) => n.url);
}
