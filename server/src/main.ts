/**
 * `npm start`: the server with its embedded broker and, in demo mode, a few
 * simulated loudspeakers.
 */
import { startSimFleet } from '@loaxa/firmware-sim';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startServer } from './index';
import { seedDemo } from './demo';

/** Longer than the HTTP drain (10 s) plus closing MQTT and the database. */
const SHUTDOWN_LIMIT_MS = 20_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Loa Xã: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, process.stdout.isTTY);
  const server = await startServer(config, { logger });

  let fleet: Awaited<ReturnType<typeof startSimFleet>> | null = null;
  if (config.demo) {
    const devices = seedDemo(server.services.registry, config.dataDir, logger);
    if (devices.length > 0) {
      fleet = await startSimFleet({ serverUrl: server.url, mqttUrl: server.mqttUrl, devices, logger });
      logger.info({ devices: devices.length }, 'demo loudspeakers started (LOAXA_DEMO=0 turns them off)');
    }
  }

  const lines = [
    '',
    '  Loa Xã đang chạy / is running',
    `  Bảng điều khiển / console:  ${server.url.replace('127.0.0.1', 'localhost')}`,
    `  MQTT:                       ${server.mqttUrl}  (WebSocket: ${server.url.replace('http', 'ws')}/mqtt)`,
    `  Dữ liệu / data:             ${config.dataDir}`,
  ];
  if (server.generatedAdminPassword) {
    logger.warn(
      { username: 'admin', adminPassword: server.generatedAdminPassword },
      'first admin account created with a generated password; it is shown only once',
    );
    lines.push(
      `  Tài khoản quản trị / admin:  admin / ${server.generatedAdminPassword}`,
      '  (mật khẩu chỉ in một lần — hãy ghi lại / shown only once — write it down)',
    );
  }
  console.log(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    logger.info({ signal }, 'shutting down');
    // Never hang: a shutdown that cannot finish is reported and forced (systemd would SIGKILL anyway).
    setTimeout(() => {
      logger.error({ afterMs: Date.now() - began }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    try {
      await fleet?.stop();
      await server.close();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
    logger.info({ ms: Date.now() - began }, 'shut down cleanly');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('Loa Xã failed to start:', err);
  process.exit(1);
});
