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
}): ProvisionedAgentConfig {
  const server = new URL(input.serverUrl);
  const mqttScheme = server.protocol === 'https:' ? 'mqtts' : 'mqtt';
  return {
    deviceId: input.deviceId,
    serverUrl: server.origin,
    mqttUrl: `${mqttScheme}://${server.hostname}:${input.mqttPort}`,
    secret: input.secret,
    dataDir: '/var/lib/loaxa',
    player: { type: 'null', log: '/var/lib/loaxa/play.log' },
  };
}
