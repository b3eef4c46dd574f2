import {
  createAgent,
  MemoryCache,
  SimPlayer,
  skewedClock,
  type Agent,
  type BackoffPolicy,
  type Logger,
} from '@loaxa/device-agent';
import { pino } from 'pino';

export interface SimDevice {
  deviceId: string;
  secret: string;
  /** Added to the host clock: a node whose clock runs ahead (+) or behind (−). */
  clockSkewMs?: number;
}

export interface SimFleetOptions {
  serverUrl: string;
  mqttUrl: string;
  devices: readonly SimDevice[];
  logger?: Logger;
  /** Devices connecting at once; a broker takes thousands of simultaneous CONNECTs badly. */
  batchSize?: number;
  telemetryIntervalMs?: number;
  /** Reconnect backoff per device (tests shorten it). */
  backoff?: BackoffPolicy;
  agentVersion?: string;
}

export interface SimFleet {
  agents: Agent[];
  /** Resolves when every device has announced "online"; rejects naming the missing ones after timeoutMs. */
  waitOnline(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the real agent core for each simulated loudspeaker in this process:
 * real MQTT sessions, real HTTP downloads and sha256 checks, silent players that
 * take as long as the audio, and in-memory caches that keep no audio bytes.
 */
export async function startSimFleet(options: SimFleetOptions): Promise<SimFleet> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const agents = options.devices.map((device) => {
    const clock = skewedClock(device.clockSkewMs ?? 0);
    return createAgent(
      {
        deviceId: device.deviceId,
        secret: device.secret,
        serverUrl: options.serverUrl,
        mqttUrl: options.mqttUrl,
        player: { type: 'sim' },
        agentVersion: options.agentVersion ?? 'sim',
        ...(options.telemetryIntervalMs !== undefined ? { telemetryIntervalMs: options.telemetryIntervalMs } : {}),
      },
      {
        player: new SimPlayer(clock),
        clock,
        cache: new MemoryCache({ keepBytes: false }),
        logger: logger.child({ sim: true }),
        ...(options.backoff ? { link: { backoff: options.backoff } } : {}),
      },
    );
  });
  const batchSize = Math.max(1, options.batchSize ?? 50);
  for (let i = 0; i < agents.length; i += batchSize) {
    await Promise.all(agents.slice(i, i + batchSize).map((agent) => agent.start()));
  }
  logger.info({ devices: agents.length }, 'simulated fleet connecting');

  return {
    agents,
    waitOnline: (timeoutMs) => waitOnline(agents, timeoutMs),
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
    },
  };
}

function waitOnline(agents: readonly Agent[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = new Set(agents.filter((agent) => !agent.online));
    if (pending.size === 0) return resolve();
    const listeners = new Map<Agent, () => void>();
    const cleanup = () => {
      clearTimeout(timer);
      for (const [agent, listener] of listeners) agent.off('online', listener);
    };
    for (const agent of pending) {
      const listener = () => {
        pending.delete(agent);
        if (pending.size === 0) {
          cleanup();
          resolve();
        }
      };
      listeners.set(agent, listener);
      agent.on('online', listener);
    }
    const timer = setTimeout(() => {
      cleanup();
      const missing = [...pending].map((agent) => agent.deviceId);
      const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ', …' : '');
      reject(
        new Error(`${missing.length} of ${agents.length} simulated devices not online after ${timeoutMs} ms: ${shown}`),
      );
    }, timeoutMs);
  });
}
