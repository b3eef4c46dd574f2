/**
 * `loaxa-agent --config /etc/loaxa/agent.json`: the loudspeaker agent as a
 * systemd service. Logs are pino JSON on stdout (journald keeps them).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createAgent } from './agent';
import { systemClock } from './clock/clock';
import { ConfigError, loadConfig } from './config';
import { createPlayer } from './player/create-player';
import { startWatchdog, SystemdNotifier, watchdogIntervalMs } from './systemd/notify';

const USAGE = 'usage: loaxa-agent --config <path> [--log-level info]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string', default: process.env.LOAXA_LOG_LEVEL ?? 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.config) {
    console.error(USAGE);
    process.exit(2);
  }
  let config;
  try {
    config = await loadConfig(values.config);
  } catch (err) {
    console.error(`loaxa-agent: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    process.exit(2);
  }
  const logger = pino({ level: values['log-level'] });
  const player = createPlayer(config, systemClock, {
    onHardwareError: (err, part) => logger.warn({ err, part }, 'output hardware error; playing on'),
  });
  logger.info(
    { player: config.player, amp: config.amp ?? { type: 'none' }, mixer: config.mixer ?? { type: 'none' } },
    'output',
  );
  const agent = createAgent(config, { player, logger });
  const systemd = new SystemdNotifier({ logger });
  agent.on('online', () => {
    logger.info('online');
    void systemd.send({ STATUS: 'online: connected to the server' });
  });
  agent.on('offline', () => void systemd.send({ STATUS: 'offline: playing from the saved plan and cache' }));
  await agent.start();
  // Ready once the saved plan is resumed and the first connection attempt is over (either way).
  void systemd.send({ READY: 1, STATUS: agent.online ? 'online' : 'started; connecting' });
  const watchdogMs = watchdogIntervalMs(process.env);
  const stopWatchdog =
    systemd.enabled && watchdogMs !== null
      ? startWatchdog({ notifier: systemd, intervalMs: watchdogMs, healthy: () => agent.healthy(), logger })
      : () => {};

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stopWatchdog();
    // Sent while the agent stops; awaited so the message leaves before the process does.
    const stoppingSent = systemd.send({ STOPPING: 1 });
    // systemd sends SIGKILL after its own timeout; do not hang past ours.
    setTimeout(() => process.exit(1), 5_000).unref();
    agent
      .stop()
      .then(() => player.close())
      .then(() => stoppingSent)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'unclean stop');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('loaxa-agent failed:', err);
  process.exit(1);
});
