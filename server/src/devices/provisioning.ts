/**
 * The ready-to-use agent configuration printed when a device is provisioned:
 * the technician copies it to /etc/loaxa/agent.json on the node. It plays
 * through the node's sound card (ALSA) with the amplifier and mixer defaults
 * scripts/install-agent.sh writes, so a node set up as the README says makes
 * sound. A silent player ("null": logs what it would play) is only given when
 * asked for, and such an agent says so in every ack and in its status.
 */
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
  /** An external broker's address for devices; otherwise the embedded broker on the server's host. */
  mqttUrl?: string;
  /** "null" only when someone asks for a silent node (a test bench, a demo). */
  player?: ProvisionedPlayer;
}): ProvisionedAgentConfig {
  const server = new URL(input.serverUrl);
  const mqttScheme = server.protocol === 'https:' ? 'mqtts' : 'mqtt';
  const silent = input.player === 'null';
  return {
    deviceId: input.deviceId,
    serverUrl: server.origin,
    mqttUrl: input.mqttUrl ?? `${mqttScheme}://${server.hostname}:${input.mqttPort}`,
    secret: input.secret,
    dataDir: '/var/lib/loaxa',
    player: silent ? { type: 'null', log: '/var/lib/loaxa/play.log' } : { ...NODE_DEFAULTS.player },
    audioFormat: NODE_DEFAULTS.audioFormat,
    amp: { ...NODE_DEFAULTS.amp },
    mixer: silent ? { type: 'none' } : { ...NODE_DEFAULTS.mixer },
  };
}
