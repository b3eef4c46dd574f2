/**
 * `loaxa serve` (and the systemd unit): the server with its embedded broker.
 * It never seeds or starts simulated loudspeakers; `npm start` runs
 * scripts/demo.ts, which adds the demo commune through `companion`.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { describePostgresUrl } from './db/open';
import { startServer, type RunningServer } from './index';

/** Something started beside the server once it runs (the demo's loudspeakers), stopped before it. */
export type Companion = (
  server: RunningServer,
  config: Config,
  logger: Logger,
) => Promise<{ stop(): Promise<void> } | null>;

/** Longer than the HTTP drain (10 s) plus closing MQTT and the database. */
const SHUTDOWN_LIMIT_MS = 20_000;

async function main(companion?: Companion): Promise<void> {
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

  const extra = companion ? await companion(server, config, logger) : null;

  const lines = [
    '',
    '  Loa Xã đang chạy / is running',
    `  Bảng điều khiển / console:  ${server.url.replace('127.0.0.1', 'localhost')}`,
    // The server's own /mqtt WebSocket only with the embedded broker.
    `  MQTT:                       ${server.mqttUrl}` +
      (config.mqttUrl ? '' : `  (WebSocket: ${server.url.replace('http', 'ws')}/mqtt)`),
    `  Dữ liệu / data:             ${config.dataDir}`,
    ...(config.databaseUrl
      ? [`  CSDL / database:            PostgreSQL ${describePostgresUrl(config.databaseUrl)}`]
      : []),
  ];
  if (server.generatedAdminPassword) {
    // The password itself goes only into the banner below, never into the log (logs are kept and shipped).
    logger.warn(
      { username: 'admin' },
      'first admin account created with a generated password: printed once in the start-up banner, ' +
        'to be changed at the first sign-in',
    );
    lines.push(
      `  Tài khoản quản trị / admin:  admin / ${server.generatedAdminPassword}`,
      '  (mật khẩu chỉ in một lần, phải đổi khi đăng nhập lần đầu / shown only once, must be changed at first sign-in)',
    );
  }
  const province = server.createdProvinceAdmin;
  if (province?.generated) {
    logger.warn(
      { username: province.username },
      'province administrator created with a generated password: printed once in the start-up banner, ' +
        'to be changed at the first sign-in',
    );
    lines.push(
      `  Tài khoản quản trị tỉnh / province admin:  ${province.username} / ${province.generated}`,
      '  (tạo xã, gửi bản tin nguồn cho các xã / creates communes, sends bulletins to the communes)',
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
      await extra?.stop();
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

/** Starts the server (and `companion`); exits the process if it cannot. */
export function runServer(companion?: Companion): Promise<void> {
  return main(companion).catch((err: unknown) => {
    console.error('Loa Xã failed to start:', err);
    process.exit(1);
  });
}

// Run as a program of its own (`tsx server/src/main.ts`); `loaxa serve` and the demo call runServer().
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void runServer();
