/**
 * Wires the capabilities into one running server. Used by `npm start`, the
 * CLI and the end-to-end tests (which start it on free ports).
 */
import { parseQuietHours, volumeCeiling } from './rules/broadcast-rules';
import { RulesGuard } from './rules/guard';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { openStore } from './db/open';
import { MediaStore } from './media/store';
import { Mp3Renditions } from './media/renditions';
import { EventHub } from './events/hub';
import { DeviceRegistry } from './devices/registry';
import { AckLedger } from './devices/acks';
import { wireDeviceInbound } from './devices/inbound';
import { startBroker } from './broker/start';
import { CommuneService } from './tenancy/communes';
import { BulletinService } from './bulletins/bulletins';
import { bulletinAiring } from './bulletins/airing';
import { UserService } from './auth/users';
import { startSessionHousekeeping } from './auth/session-housekeeping';
import { createLiveTtsRegistry } from './tts/registry';
import { NoticeRenderer } from './tts/render';
import { AbbreviationDictionary } from './tts/dictionary';
import { Planner } from './broadcasts/planner';
import { BroadcastService } from './broadcasts/service';
import { buildApp } from './http/app';
import { resolveFfmpeg } from './audio/ffmpeg';
import type { AppServices } from './http/context';
import { writeLocalToken } from './auth/local-token';
import { readServerAddress, writeServerAddress } from './server-address';
import { createMetrics } from './metrics/metrics';
import { FloodGuard } from './devices/flood-guard';
import { AuditLog } from './audit/audit-log';
import { AlertService } from './alerts/service';
import { LiveService } from './live/service';
import { OggOpusWriter } from './live/ogg-opus';
import { FeedReader } from './alerts/feed';
import { Scheduling } from './schedule/scheduling';
import { Settings } from './settings/settings';
import { Leadership } from './cluster/leadership';
import { HubRelay } from './cluster/hub-relay';
import os from 'node:os';
import crypto from 'node:crypto';
import { SettingsStore } from './settings/store';

export { loadConfig, type Config } from './config';

export interface RunningServer {
  app: FastifyInstance;
  services: AppServices;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** mqtt://host:port of the embedded broker (TCP), or the external broker's device URL. */
  mqttUrl: string;
  /** Resolves once broker credential/ACL changes made so far are in force (external Mosquitto; else at once). */
  brokerSettled(): Promise<boolean>;
  /** Set when this start created the admin with a generated password. */
  generatedAdminPassword: string | null;
  /** Set when this start created a province administrator (new install, or upgrade from one commune). */
  createdProvinceAdmin: { username: string; generated: string | null } | null;
  close(): Promise<void>;
}

/** How often the leader looks for live sessions left by an instance that died (PostgreSQL). */
const LIVE_SWEEP_MS = 10_000;

/** How long a shutdown waits for running requests (a broadcast being rendered and sent). */
const HTTP_DRAIN_MS = 10_000;

function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export async function startServer(
  config: Config = loadConfig(),
  /** now: the clock that plans and schedules follow (tests move it forward); Date.now by default. */
  options: { logger?: Logger; now?: () => number } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const startedAt = Date.now();
  const ffmpeg = resolveFfmpeg();
  logger.info({ ffmpeg: ffmpeg.path, source: ffmpeg.source }, 'using ffmpeg');

  // This process among the server instances sharing a database: host, pid and a random tail
  // (containers all run as pid 1). Short, as PostgreSQL keeps 63 bytes of a connection's name.
  const instance = `${os.hostname().slice(0, 24)}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  const store = await openStore(config, logger, `loaxa:${instance}`);
  const sqlDb = store.sql;
  const hub = new EventHub();
  const media = new MediaStore(config.dataDir, sqlDb);
  media.cleanTemp();
  const registry = new DeviceRegistry(sqlDb, hub);
  // Devices on our own broker were all cut by the restart. With a shared database and an external
  // broker other instances may be serving them: their status stays as the broker last reported it.
  const sharedFleet = !!config.databaseUrl && !!config.mqttUrl;
  if (!sharedFleet) await registry.markAllOffline();
  const users = new UserService(sqlDb);
  const communes = await CommuneService.open(sqlDb);
  const { generated } = await users.ensureAdmin(config.adminPassword, communes.defaultId());
  const createdProvinceAdmin = await users.ensureProvinceAdmin(config.provincePassword);

  const floodGuard = new FloodGuard();
  // The broker needs the metrics and the metrics read the broker: bind late.
  let connectedClients = () => 0;
  const metrics = createMetrics(sqlDb, hub, () => connectedClients());
  const tlsFiles =
    config.tlsCert && config.tlsKey
      ? { cert: fs.readFileSync(config.tlsCert), key: fs.readFileSync(config.tlsKey) }
      : undefined;
  // Embedded Aedes, or an external broker when MQTT_URL is set (see broker/start.ts).
  const broker = await startBroker({
    config,
    registry,
    logger,
    ...(tlsFiles ? { tls: tlsFiles } : {}),
    admitPublish: (deviceId) => {
      if (floodGuard.admit(deviceId, Date.now())) return true;
      metrics.mqttRejected.inc({ kind: 'flood' });
      return false;
    },
  });
  const bus = broker.bus;
  const planner = new Planner(sqlDb, registry, bus, logger, {
    horizonMs: config.horizonDays * 24 * 3600_000,
    media,
    onOverflow: (_deviceId, left) => metrics.planItemsLeftOut.inc(left),
    ...(options.now ? { now: options.now } : {}),
  });
  const renditions = new Mp3Renditions({ sqlDb, media, registry, planner, logger });
  const acks = new AckLedger(sqlDb, hub);
  connectedClients = () => broker.connectedClients();
  const inbound = wireDeviceInbound({
    sql: sqlDb,
    bus,
    registry,
    acks,
    logger,
    metrics,
    onAudioFormat: (deviceId, format, previous) => renditions.announced(deviceId, format, previous),
  });
  // A device that (re)connects gets a fresh plan: old items drop out, new ones arrive.
  bus.onDeviceConnect((deviceId) => {
    planner.publishPlan(deviceId).catch((err: unknown) => logger.error({ err, deviceId }, 'plan publish failed'));
  });
  // The environment's TTS configuration with the commune's saved settings over it; a bad
  // environment stops the start with one line per bad field.
  const settings = new Settings(await SettingsStore.open(sqlDb), process.env, {
    quietHours: parseQuietHours(config.quietHours) ?? null,
  });
  const startupTts = settings.startupTtsConfig();
  if (startupTts.ignored.length > 0) {
    logger.error({ problems: startupTts.ignored }, 'saved TTS settings do not fit the environment; using its engines');
  }
  // Each commune's engines: the environment with its saved settings over it, built at its first use.
  const tts = createLiveTtsRegistry(
    startupTts.config,
    {},
    {
      defaultId: communes.defaultId(),
      configOf: (communeId) => {
        const { config: ttsConfig, ignored } = settings.startupTtsConfig(communeId);
        if (ignored.length > 0) {
          logger.error(
            { communeId, problems: ignored },
            'saved TTS settings do not fit the environment; using its engines',
          );
        }
        return ttsConfig;
      },
    },
  );
  // A saved change applies to the commune's next synthesis; the loudness target is read at every render.
  settings.onChange((keys, communeId) => {
    if (keys.some((key) => key.startsWith('tts.'))) tts.reconfigure(settings.ttsConfig(communeId), communeId);
  });
  // Every commune's entries in memory: the renderer reads them synchronously.
  const dictionary = new AbbreviationDictionary(sqlDb);
  await dictionary.load();
  const renderer = new NoticeRenderer(sqlDb, media, tts.asAdapter(), {
    abbreviations: (communeId) => dictionary.communeEntries(communeId),
    opusComplexity: config.opusComplexity,
    chime: config.chime === 'on',
    loudnessTarget: (communeId) => settings.loudnessTarget(communeId),
    ttsFor: (communeId) => tts.forCommune(communeId).asAdapter(),
  });
  // Each commune's broadcast rules (quiet hours and limits), checked where plays are asked for.
  const guard = new RulesGuard({
    sqlDb,
    rules: (communeId) => settings.broadcastRules(communeId),
    timeZone: config.timeZone,
  });
  const broadcasts = new BroadcastService({
    sqlDb,
    bus,
    registry,
    renderer,
    media,
    renditions,
    planner,
    logger,
    metrics,
    guard,
  });
  const bulletins = new BulletinService({
    sqlDb,
    airing: bulletinAiring(broadcasts),
    render: (input) => renderer.render(input),
    media,
    changed: (bulletinId, communeIds) => hub.emit('bulletin', { bulletinId, communeIds }),
    ...(options.now ? { now: options.now } : {}),
  });
  // A loudspeaker back online still gets the emergency bulletins that are current. Its "online"
  // status comes after it has subscribed, so the command cannot arrive before its subscription.
  hub.onLocal('device', ({ id, online }) => {
    if (!online) return;
    bulletins
      .deviceOnline(id)
      .catch((err: unknown) => logger.error({ err, deviceId: id }, 'emergency bulletin catch-up failed'));
  });
  const scheduling = new Scheduling({
    sql: sqlDb,
    registry,
    media,
    renderer,
    planner,
    renditions,
    logger,
    timeZone: config.timeZone,
    guard,
    volumeCeiling: (communeId, startAt) => volumeCeiling(settings.broadcastRules(communeId), startAt, config.timeZone),
    horizonDays: config.horizonDays,
    retentionDays: config.retentionDays,
    ...(options.now ? { now: options.now } : {}),
  });
  const audit = new AuditLog(sqlDb);
  // Disaster alerts from CAP feeds (LOAXA_CAP_FEEDS) to the loudspeakers inside their areas.
  const alerts = new AlertService({
    sqlDb,
    feeds: config.capFeeds,
    reader: new FeedReader(sqlDb),
    renderer,
    airing: { air: (input) => broadcasts.airAlert(input) },
    rules: (communeId) => settings.alertRules(communeId),
    audit,
    logger,
    pollMs: config.capPollS * 1000,
    repeatsMs: config.alertRepeatsS.map((s) => s * 1000),
    ...(options.now ? { now: options.now } : {}),
  });
  // The officer speaking live to zones (live/service.ts), recorded as Ogg Opus.
  const live = new LiveService({
    sqlDb,
    bus,
    audit,
    media,
    airing: broadcasts,
    guard,
    placeholder: () => scheduling.content.silenceAsset(1000),
    recorder: (path) => OggOpusWriter.create(path, { comments: { TITLE: 'Loa Xã live' } }),
    logger,
    latencyMs: config.liveLatencyMs,
    maxDurationMs: config.liveMaxMin * 60_000,
    silenceEndMs: config.liveSilenceMin * 60_000,
    captureDevice: config.liveCaptureDevice,
    instance,
  });
  await live.start();

  // Exactly one instance runs the scheduler, the horizon roll-forward, the housekeeping and the
  // CAP poller: on PostgreSQL the holder of an advisory lock, handed over within seconds when it
  // dies; on SQLite this one, from the start (cluster/leadership.ts).
  let sessionHousekeeping: { stop(): void } | null = null;
  let liveSweep: NodeJS.Timeout | null = null;
  const leadership = new Leadership({
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    logger,
    name: instance,
    onAcquire: async () => {
      await scheduling.start();
      sessionHousekeeping = await startSessionHousekeeping(users, logger);
      alerts.start();
      if (config.databaseUrl) {
        // Sessions of an instance that died (the others' stay theirs); the zones are free again.
        liveSweep = setInterval(() => {
          live
            .endLeftOver()
            .then((ended) => ended > 0 && logger.warn({ ended }, 'live sessions of a stopped instance ended'))
            .catch((err: unknown) => logger.error({ err }, 'live session sweep failed'));
        }, LIVE_SWEEP_MS).unref();
      }
    },
    onLose: async () => {
      if (liveSweep) clearInterval(liveSweep);
      liveSweep = null;
      sessionHousekeeping?.stop();
      sessionHousekeeping = null;
      await Promise.all([scheduling.stop(), alerts.stop()]);
    },
  });
  await leadership.start();
  // Events of the other instances reach the consoles connected to this one (LISTEN/NOTIFY).
  const relay = config.databaseUrl
    ? await HubRelay.start({ url: config.databaseUrl, sqlDb, hub, logger, name: instance })
    : null;

  const services: AppServices = {
    config,
    cluster: { instance, isLeader: () => leadership.isLeader },
    sql: sqlDb,
    bus,
    registry,
    hub,
    media,
    users,
    communes,
    bulletins,
    broadcasts,
    planner,
    telemetry: inbound.telemetry,
    logger,
    startedAt,
    mqttPort: broker.port,
    metrics,
    audit,
    alerts,
    live,
    renderer,
    tts,
    dictionary,
    settings,
    scheduling,
    localToken: writeLocalToken(config.dataDir),
  };
  const app = await buildApp(services, tlsFiles);
  broker.attachWebSocket(app.server, '/mqtt');
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${tlsFiles ? 'https' : 'http'}://${reachableHost(config.host)}:${port}`;
  const mqttUrl = broker.deviceUrl(reachableHost(config.host), !!tlsFiles);
  // `loaxa` finds this server from the data directory (server-address.ts), whatever PORT it ran with.
  const previous = readServerAddress(config.dataDir);
  if ('found' in previous && previous.found.pid !== process.pid) {
    logger.warn(
      { pid: previous.found.pid, url: previous.found.url, dataDir: config.dataDir },
      'another server seems to run on this data directory; the command line will now talk to this one',
    );
  }
  const addressFile = writeServerAddress(config.dataDir, { url, mqttUrl });

  let closed = false;
  return {
    app,
    services,
    url,
    mqttUrl,
    generatedAdminPassword: generated,
    createdProvinceAdmin,
    brokerSettled: () => broker.credentialsSettled(),
    async close() {
      if (closed) return;
      closed = true;
      // First, so the command line stops choosing a server that is going away.
      addressFile.remove();
      // A roll-forward or clean-up that is running finishes before the database closes; another
      // instance takes the leadership over as this one lets its lock go.
      await leadership.stop();
      await live.stop();
      // Graceful shutdown, in this order: running requests finish and publish
      // what they must (new ones get 503); then devices are disconnected (every
      // ack the broker acknowledged is already in the database); nothing is
      // published on the way down, so devices keep their retained plans.
      const unfinished = await app.requestDrain.drain(HTTP_DRAIN_MS);
      if (unfinished > 0) logger.warn({ unfinished }, 'requests still running at shutdown were cut');
      await renditions.idle();
      await bus.close();
      // The last messages the broker took are stored (or refused) before the database closes.
      await inbound.settled();
      await relay?.stop();
      await app.close();
      await store.close();
    },
  };
}
