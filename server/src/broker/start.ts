/**
 * Picks the broker: embedded Aedes by default, or an external broker when
 * MQTT_URL is set (with Mosquitto's password/ACL files kept by the server when
 * MOSQUITTO_PASSWORD_FILE and MOSQUITTO_ACL_FILE are set), or a NATS cluster
 * when NATS_URLS is set too (nats.ts: MQTT_URL lists its nodes' listeners).
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { deviceMqttUrls, mqttUrls, type Config } from '../config';
import type { DeviceRegistry } from '../devices/registry';
import type { MessageBus } from './bus';
import { startEmbeddedBroker } from './embedded';
import { connectExternalBroker } from './external';
import { MosquittoFiles } from './mosquitto';
import { connectNatsBroker } from './nats-broker';

export interface RunningBroker {
  bus: MessageBus;
  /** TCP port devices use (embedded: bound; external: from MQTT_URL). */
  port: number;
  /**
   * The broker address devices use, e.g. mqtt://127.0.0.1:1883: a cluster's first device URL
   * (provisioned agents get them all, see devices/provisioning.ts).
   */
  deviceUrl(host: string, tls: boolean): string;
  attachWebSocket(server: http.Server, path?: string): void;
  connectedClients(): number;
  /** Mosquitto or NATS with managed files: resolves once credential/ACL changes made so far are loaded by the broker. */
  credentialsSettled(): Promise<boolean>;
  external: boolean;
}

export async function startBroker(options: {
  config: Config;
  registry: DeviceRegistry;
  logger: Logger;
  tls?: { cert: Buffer; key: Buffer };
  admitPublish?: (deviceId: string) => boolean;
}): Promise<RunningBroker> {
  const { config, registry, logger } = options;
  if (!config.mqttUrl) {
    const embedded = await startEmbeddedBroker({
      port: config.mqttPort,
      host: config.host,
      devices: registry,
      logger,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.admitPublish ? { admitPublish: options.admitPublish } : {}),
    });
    return {
      ...embedded,
      deviceUrl: (host, tls) => `${tls ? 'mqtts' : 'mqtt'}://${host}:${embedded.port}`,
      credentialsSettled: async () => true,
      external: false,
    };
  }

  if (config.natsUrls) {
    const urls = mqttUrls(config);
    const nats = await connectNatsBroker({
      mqttUrls: urls,
      natsUrls: config.natsUrls,
      clientId: config.mqttClientId,
      ...(config.mqttUsername ? { username: config.mqttUsername, password: config.mqttPassword! } : {}),
      ...(config.natsAuthFile ? { authFile: config.natsAuthFile } : {}),
      ...(config.natsPidFiles ? { pidFiles: config.natsPidFiles } : {}),
      registry,
      logger,
    });
    // Where one address is asked for (the server-address file): the first of the device URLs.
    // Provisioned agents get every node (devices/provisioning.ts).
    const deviceUrl = deviceMqttUrls(config)[0]!;
    return {
      bus: nats.bus,
      port: portOf(urls[0]!),
      deviceUrl: () => deviceUrl,
      attachWebSocket: () => {},
      connectedClients: () => nats.connectedClients(),
      credentialsSettled: () => nats.credentialsSettled(),
      external: true,
    };
  }

  // The server's own line must be in the password file before it can log in.
  let files: MosquittoFiles | undefined;
  if (config.mosquittoPasswordFile && config.mosquittoAclFile) {
    files = new MosquittoFiles({
      passwordFile: config.mosquittoPasswordFile,
      aclFile: config.mosquittoAclFile,
      ...(config.mosquittoPidFile ? { pidFile: config.mosquittoPidFile } : {}),
      serverUser: config.mqttUsername!,
      serverPassword: config.mqttPassword!,
      registry,
      logger,
    });
    await files.start();
    registry.observe({
      deviceCreated: (id, secret) => files!.deviceCreated(id, secret),
      deviceRevoked: (id) => files!.deviceRevoked(id),
      zonesChanged: () => files!.zonesChanged(),
    });
  } else {
    logger.warn(
      'external broker without MOSQUITTO_PASSWORD_FILE/MOSQUITTO_ACL_FILE: device credentials and access rules must be enforced by the broker itself',
    );
  }
  const external = await connectExternalBroker({
    url: config.mqttUrl,
    clientId: config.mqttClientId,
    ...(config.mqttUsername ? { username: config.mqttUsername, password: config.mqttPassword! } : {}),
    logger,
  });
  if (files) {
    const f = files;
    f.attachConfirmer((generation) => external.confirmAcl(generation));
    // Revocation already rewrote the files; Mosquitto drops the connection when it reloads them.
    external.onDisconnectRequest(() => void f.settled());
  }
  const port = portOf(config.mqttUrl);
  const deviceUrl = deviceMqttUrls(config)[0]!;
  const close = external.bus.close.bind(external.bus);
  return {
    bus: {
      ...external.bus,
      async close() {
        files?.close();
        await close();
      },
    },
    port,
    deviceUrl: () => deviceUrl,
    attachWebSocket: () => {},
    connectedClients: () => external.connectedClients(),
    credentialsSettled: () => files?.settled() ?? Promise.resolve(true),
    external: true,
  };
}

function portOf(mqttUrl: string): number {
  const url = new URL(mqttUrl);
  return Number(url.port) || (url.protocol === 'mqtts:' ? 8883 : url.protocol === 'mqtt:' ? 1883 : 443);
}
