/**
 * The ready-to-use agent configuration printed when a device is provisioned:
 * the technician copies it to /etc/loaxa/agent.json on the node.
 */
export interface ProvisionedAgentConfig {
  deviceId: string;
  serverUrl: string;
  mqttUrl: string;
  secret: string;
  dataDir: string;
  player: { type: 'null'; log: string };
}

export function agentConfigFor(input: {
  deviceId: string;
  secret: string;
  serverUrl: string;
  mqttPort: number;
  /** An external broker's address for devices; otherwise the embedded broker on the server's host. */
  mqttUrl?: string;
}): ProvisionedAgentConfig {
  const server = new URL(input.serverUrl);
  const mqttScheme = server.protocol === 'https:' ? 'mqtts' : 'mqtt';
  return {
    deviceId: input.deviceId,
    serverUrl: server.origin,
    mqttUrl: input.mqttUrl ?? `${mqttScheme}://${server.hostname}:${input.mqttPort}`,
    secret: input.secret,
    dataDir: '/var/lib/loaxa',
    player: { type: 'null', log: '/var/lib/loaxa/play.log' },
  };
}
