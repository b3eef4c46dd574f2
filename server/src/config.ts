/**
 * Server configuration: one validated object built from the environment,
 * with defaults and a clear error per bad variable.
 */
import { ConfigError } from './config-error';
import { parseQuietHours } from './rules/broadcast-rules';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DEFAULT_OPUS_COMPLEXITY } from './audio/defaults';
import { DEFAULT_PLAN_HORIZON_DAYS } from '@loaxa/protocol';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Port,
  mqttPort: Port,
  dataDir: Type.String({ minLength: 1 }),
  demo: Type.Boolean(),
  adminPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  /** Password of the province administrator created at first start (`tinh`); generated when absent. */
  provincePassword: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /** Commune time zone for display and schedules; storage is always UTC. */
  timeZone: Type.String({ minLength: 1 }),
  /** Days of occurrences materialised and planned ahead. */
  horizonDays: Type.Integer({ minimum: 1, maximum: 60 }),
  /** Days of broadcast history (occurrences, deliveries, acks) kept. */
  retentionDays: Type.Integer({ minimum: 7, maximum: 3650 }),
  /** Serve the built console from this folder (absent in API-only deployments). */
  webDir: Type.Optional(Type.String()),
  /** Public base URL devices use to download media; defaults to http://<host>:<port>. */
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** CAP 1.2 feeds polled for disaster alerts: a CAP file, or an Atom/RSS index linking CAP files. */
  capFeeds: Type.Array(Type.String({ pattern: '^https?://' })),
  /** Seconds between two reads of the CAP feeds. */
  capPollS: Type.Integer({ minimum: 1, maximum: 86_400 }),
  /** Seconds between an alert's airings: the first is at once; then the 2nd value, then the last again. */
  alertRepeatsS: Type.Array(Type.Integer({ minimum: 0, maximum: 86_400 }), { minItems: 2, maxItems: 10 }),
  /** Live sessions: capture to loudspeaker, ms (the console's low-latency profile asks 200). */
  liveLatencyMs: Type.Integer({ minimum: 100, maximum: 5000 }),
  /** The longest live session, minutes (a commune's longest-session rule may be shorter). */
  liveMaxMin: Type.Integer({ minimum: 1, maximum: 240 }),
  /** A live session silent this long (minutes) ends by itself. */
  liveSilenceMin: Type.Integer({ minimum: 1, maximum: 60 }),
  /** The office microphone's ALSA capture device (arecord -D), e.g. plughw:1,0; unset: no line-in source. */
  liveCaptureDevice: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_:,.=-]+$' })),
  /** Quiet hours of every commune that has not set its own: HH:MM-HH:MM (local time) or off. */
  quietHours: Type.String(),
  /**
   * Frame spoken notices with the attention chime (LOAXA_CHIME=on, the default) or start
   * with the words (off: a station that plays its own jingle). Alert tones always sound.
   */
  chime: Type.Union([Type.Literal('on'), Type.Literal('off')]),
  /** Requests per minute one address may make to the villagers' public pages, feeds and audio. */
  publicRateLimit: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /**
   * The console map's tile server as a {z}/{x}/{y} template (an http(s) URL, or a
   * path on this server); unset keeps the public OpenStreetMap server.
   */
  mapTilesUrl: Type.Optional(
    Type.String({ pattern: '^(?=.*\\{z\\})(?=.*\\{x\\})(?=.*\\{y\\})(https?://[^/]|/)', maxLength: 500 }),
  ),
  /** PEM certificate and key files: with both, HTTP becomes HTTPS (and WSS) and MQTT_PORT speaks MQTTS. */
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
  /** An external broker: the server then starts no Aedes and connects to it as a client. */
  mqttUrl: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?)://[^/]' })),
  mqttUsername: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  mqttPassword: Type.Optional(Type.String({ minLength: 1 })),
  mqttClientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
  /**
   * The broker URL written into provisioned agents' configuration; defaults to MQTT_URL. Several,
   * comma-separated, are the nodes of one broker (a cluster sharing sessions, or one broker's
   * other names): an agent gets them all, in an order of its own (devices/provisioning.ts).
   * Each URL is checked by deviceUrlProblems.
   */
  mqttDeviceUrl: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?)://[^/]' })),
  /** Mosquitto files the server keeps in step with the device registry (external broker only). */
  mosquittoPasswordFile: Type.Optional(Type.String({ minLength: 1 })),
  mosquittoAclFile: Type.Optional(Type.String({ minLength: 1 })),
  mosquittoPidFile: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * A NATS cluster as the broker (see broker/nats.ts): each node's client URL. MQTT_URL then lists
   * each node's MQTT listener (comma-separated); inbound device messages come through JetStream.
   */
  natsUrls: Type.Optional(Type.Array(Type.String({ pattern: '^(nats|tls)://[^/,\\s]+$' }), { minItems: 1 })),
  /** The authorization include file the server keeps for the NATS nodes. */
  natsAuthFile: Type.Optional(Type.String({ minLength: 1 })),
  /** The NATS nodes' pid files, signalled (SIGHUP) after each change of NATS_AUTH_FILE. */
  natsPidFiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  /**
   * PostgreSQL as the store (postgres://user:password@host:port/database), shared by several
   * server instances; unset keeps the embedded SQLite file in LOAXA_DATA.
   */
  databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://[^/]' })),
  /** Largest audio upload accepted, MB. */
  uploadMaxMb: Type.Integer({ minimum: 1, maximum: 2048 }),
  /** libopus complexity 0–10 for rendered and uploaded audio: lower is faster (see audio/encode.ts). */
  opusComplexity: Type.Integer({ minimum: 0, maximum: 10 }),
  /**
   * Who may read /metrics (see metrics/access.ts): `token` (a Bearer token,
   * the default when one is set), `loopback` (this machine only, the default
   * otherwise) or `open` (anyone who reaches the port).
   */
  metricsAccess: Type.Union([Type.Literal('token'), Type.Literal('loopback'), Type.Literal('open')]),
  /** The Bearer token a Prometheus scraper sends; an RFC 6750 token, long enough not to be guessed. */
  metricsToken: Type.Optional(Type.String({ minLength: 16, maxLength: 200, pattern: '^[A-Za-z0-9._~+/=-]+$' })),
});
export type Config = Static<typeof ConfigSchema>;

const check = TypeCompiler.Compile(ConfigSchema);

/** Maps config fields back to the environment variable a person sets. */
const ENV_NAME: Record<keyof Config, string> = {
  host: 'HOST',
  port: 'PORT',
  mqttPort: 'MQTT_PORT',
  dataDir: 'LOAXA_DATA',
  demo: 'LOAXA_DEMO',
  adminPassword: 'LOAXA_ADMIN_PASSWORD',
  provincePassword: 'LOAXA_PROVINCE_PASSWORD',
  logLevel: 'LOG_LEVEL',
  timeZone: 'LOAXA_TIMEZONE',
  horizonDays: 'LOAXA_HORIZON_DAYS',
  retentionDays: 'LOAXA_RETENTION_DAYS',
  webDir: 'LOAXA_WEB_DIR',
  publicUrl: 'LOAXA_PUBLIC_URL',
  publicRateLimit: 'LOAXA_PUBLIC_RATE_LIMIT',
  quietHours: 'LOAXA_QUIET_HOURS',
  liveLatencyMs: 'LOAXA_LIVE_LATENCY_MS',
  liveMaxMin: 'LOAXA_LIVE_MAX_MIN',
  liveSilenceMin: 'LOAXA_LIVE_SILENCE_MIN',
  liveCaptureDevice: 'LOAXA_LIVE_CAPTURE_DEVICE',
  chime: 'LOAXA_CHIME',
  capFeeds: 'LOAXA_CAP_FEEDS',
  capPollS: 'LOAXA_CAP_POLL_S',
  alertRepeatsS: 'LOAXA_ALERT_REPEATS_S',
  mapTilesUrl: 'LOAXA_MAP_TILES_URL',
  tlsCert: 'LOAXA_TLS_CERT',
  tlsKey: 'LOAXA_TLS_KEY',
  mqttUrl: 'MQTT_URL',
  mqttUsername: 'MQTT_USERNAME',
  mqttPassword: 'MQTT_PASSWORD',
  mqttClientId: 'MQTT_CLIENT_ID',
  mqttDeviceUrl: 'MQTT_DEVICE_URL',
  mosquittoPasswordFile: 'MOSQUITTO_PASSWORD_FILE',
  mosquittoAclFile: 'MOSQUITTO_ACL_FILE',
  mosquittoPidFile: 'MOSQUITTO_PID_FILE',
  natsUrls: 'NATS_URLS',
  natsAuthFile: 'NATS_AUTH_FILE',
  natsPidFiles: 'NATS_PID_FILES',
  databaseUrl: 'DATABASE_URL',
  uploadMaxMb: 'LOAXA_UPLOAD_MAX_MB',
  opusComplexity: 'LOAXA_OPUS_COMPLEXITY',
  metricsAccess: 'LOAXA_METRICS_ACCESS',
  metricsToken: 'LOAXA_METRICS_TOKEN',
};

/** Never echoed in an error: the message goes to the log and the terminal. */
const SECRET_FIELDS: ReadonlySet<keyof Config> = new Set([
  'adminPassword',
  'provincePassword',
  'mqttPassword',
  'metricsToken',
  'databaseUrl',
]);

/** What a valid value looks like, where the schema's own message (a pattern) would not tell a person. */
const FIELD_HINT: Partial<Record<keyof Config, string>> = {
  mapTilesUrl: 'an http(s) URL or a /path holding {z}, {x} and {y}, e.g. https://tiles.example.vn/{z}/{x}/{y}.png',
  metricsAccess: 'one of token, loopback, open',
  chime: 'on or off',
  databaseUrl: 'postgres://user:password@host:5432/database',
  metricsToken: 'at least 16 characters of A–Z a–z 0–9 . _ ~ + / = -',
};

export { ConfigError };

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number | string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
}

/** A comma-separated list; undefined when empty. */
function listFrom(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const items = (env[name] ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

function boolFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean | string {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  return raw;
}

const DEFAULT_WEB_DIR = path.resolve(import.meta.dirname, '../../web/dist');

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const candidate: Record<string, unknown> = {
    host: env.HOST || '0.0.0.0',
    port: intFrom(env, 'PORT', 8080),
    mqttPort: intFrom(env, 'MQTT_PORT', 1883),
    dataDir: path.resolve(env.LOAXA_DATA || './data'),
    demo: boolFrom(env, 'LOAXA_DEMO', true),
    adminPassword: env.LOAXA_ADMIN_PASSWORD || undefined,
    provincePassword: env.LOAXA_PROVINCE_PASSWORD || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    timeZone: env.LOAXA_TIMEZONE || 'Asia/Ho_Chi_Minh',
    horizonDays: intFrom(env, 'LOAXA_HORIZON_DAYS', DEFAULT_PLAN_HORIZON_DAYS),
    retentionDays: intFrom(env, 'LOAXA_RETENTION_DAYS', 400),
    webDir: env.LOAXA_WEB_DIR || DEFAULT_WEB_DIR,
    publicUrl: env.LOAXA_PUBLIC_URL || undefined,
    publicRateLimit: intFrom(env, 'LOAXA_PUBLIC_RATE_LIMIT', 300),
    quietHours: env.LOAXA_QUIET_HOURS?.trim() || '21:30-05:30',
    liveLatencyMs: intFrom(env, 'LOAXA_LIVE_LATENCY_MS', 400),
    liveMaxMin: intFrom(env, 'LOAXA_LIVE_MAX_MIN', 60),
    liveSilenceMin: intFrom(env, 'LOAXA_LIVE_SILENCE_MIN', 3),
    liveCaptureDevice: env.LOAXA_LIVE_CAPTURE_DEVICE?.trim() || undefined,
    chime: (env.LOAXA_CHIME?.trim() || 'on') as Config['chime'],
    capFeeds: (env.LOAXA_CAP_FEEDS ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    capPollS: intFrom(env, 'LOAXA_CAP_POLL_S', 60),
    alertRepeatsS: (env.LOAXA_ALERT_REPEATS_S?.trim() || '0,300,1200').split(',').map((v) => Number(v.trim())),
    mapTilesUrl: env.LOAXA_MAP_TILES_URL?.trim() || undefined,
    tlsCert: env.LOAXA_TLS_CERT || undefined,
    tlsKey: env.LOAXA_TLS_KEY || undefined,
    mqttUrl: env.MQTT_URL || undefined,
    mqttUsername: env.MQTT_USERNAME || undefined,
    mqttPassword: env.MQTT_PASSWORD || undefined,
    mqttClientId: env.MQTT_CLIENT_ID || 'loaxa-server',
    mqttDeviceUrl: env.MQTT_DEVICE_URL || undefined,
    mosquittoPasswordFile: env.MOSQUITTO_PASSWORD_FILE || undefined,
    mosquittoAclFile: env.MOSQUITTO_ACL_FILE || undefined,
    mosquittoPidFile: env.MOSQUITTO_PID_FILE || undefined,
    natsUrls: listFrom(env, 'NATS_URLS'),
    natsAuthFile: env.NATS_AUTH_FILE || undefined,
    natsPidFiles: listFrom(env, 'NATS_PID_FILES'),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    uploadMaxMb: intFrom(env, 'LOAXA_UPLOAD_MAX_MB', 50),
    opusComplexity: intFrom(env, 'LOAXA_OPUS_COMPLEXITY', DEFAULT_OPUS_COMPLEXITY),
    metricsToken: env.LOAXA_METRICS_TOKEN || undefined,
    // A token set means it is wanted: loopback-only is the default without one.
    metricsAccess: env.LOAXA_METRICS_ACCESS?.trim() || (env.LOAXA_METRICS_TOKEN ? 'token' : 'loopback'),
    ...overrides,
  };
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];

  const problems = [...check.Errors(candidate)].map((e) => {
    const field = e.path.replace(/^\//, '').split('/')[0] as keyof Config;
    const value = (candidate as Record<string, unknown>)[field];
    const shown = SECRET_FIELDS.has(field) ? ' (value not shown)' : `=${JSON.stringify(value)}`;
    const hint = FIELD_HINT[field] ? ` (${FIELD_HINT[field]})` : '';
    return `${ENV_NAME[field] ?? field}${shown}: ${e.message}${hint}`;
  });
  if (typeof candidate.quietHours === 'string' && parseQuietHours(candidate.quietHours) === undefined) {
    problems.push(
      `LOAXA_QUIET_HOURS=${JSON.stringify(candidate.quietHours)}: give HH:MM-HH:MM (e.g. 21:30-05:30) or off`,
    );
  }
  if (typeof candidate.timeZone === 'string' && !isValidTimeZone(candidate.timeZone)) {
    problems.push(`LOAXA_TIMEZONE=${JSON.stringify(candidate.timeZone)}: unknown IANA time zone`);
  }
  if (!candidate.tlsCert !== !candidate.tlsKey) {
    problems.push(
      `${candidate.tlsCert ? 'LOAXA_TLS_KEY' : 'LOAXA_TLS_CERT'}: is required when the other TLS file is given`,
    );
  }
  for (const key of ['tlsCert', 'tlsKey'] as const) {
    const file = candidate[key];
    if (typeof file === 'string' && !fs.existsSync(file))
      problems.push(`${ENV_NAME[key]}=${JSON.stringify(file)}: no such file`);
  }
  problems.push(...externalBrokerProblems(candidate));
  problems.push(...natsProblems(candidate));
  problems.push(...deviceUrlProblems(candidate));
  problems.push(...metricsProblems(candidate));
  if (problems.length > 0) throw new ConfigError(problems);
  return candidate as Config;
}

/** The external-broker fields only make sense together; each problem names the variable to set or drop. */
function externalBrokerProblems(c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const needsUrl = [
    'mqttUsername',
    'mqttPassword',
    'mqttDeviceUrl',
    'mosquittoPasswordFile',
    'mosquittoAclFile',
  ] as const;
  if (!c.mqttUrl) {
    for (const key of [...needsUrl, 'mosquittoPidFile'] as const)
      if (c[key]) problems.push(`${ENV_NAME[key]}: only used with an external broker; set MQTT_URL too`);
    return problems;
  }
  if (!c.mqttUsername !== !c.mqttPassword)
    problems.push(`${c.mqttUsername ? 'MQTT_PASSWORD' : 'MQTT_USERNAME'}: is required when the other is given`);
  if (!c.mosquittoPasswordFile !== !c.mosquittoAclFile)
    problems.push(
      `${c.mosquittoPasswordFile ? 'MOSQUITTO_ACL_FILE' : 'MOSQUITTO_PASSWORD_FILE'}: is required when the other Mosquitto file is given`,
    );
  if (c.mosquittoPasswordFile && !c.mqttUsername)
    problems.push('MQTT_USERNAME: the server needs its own broker identity to write it into the Mosquitto files');
  if (c.mosquittoPidFile && !c.mosquittoPasswordFile)
    problems.push('MOSQUITTO_PID_FILE: only used with MOSQUITTO_PASSWORD_FILE and MOSQUITTO_ACL_FILE');
  for (const key of ['mosquittoPasswordFile', 'mosquittoAclFile'] as const) {
    const file = c[key];
    if (typeof file === 'string' && !fs.existsSync(path.dirname(path.resolve(file))))
      problems.push(`${ENV_NAME[key]}=${JSON.stringify(file)}: its folder does not exist`);
  }
  return problems;
}

/** MQTT_URL as a list: several URLs are the nodes of a cluster (NATS mode). */
export function mqttUrls(config: Pick<Config, 'mqttUrl'>): string[] {
  return (config.mqttUrl ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

/**
 * The broker URLs devices are given (MQTT_DEVICE_URL, else MQTT_URL), each once, in order;
 * several are the nodes of one broker. Empty with the embedded broker.
 */
export function deviceMqttUrls(config: Pick<Config, 'mqttUrl' | 'mqttDeviceUrl'>): string[] {
  const listed = (config.mqttDeviceUrl ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  return [...new Set(listed.length > 0 ? listed : mqttUrls(config))];
}

/** MQTT_DEVICE_URL: every URL in the list, not only the first the schema's pattern sees. */
function deviceUrlProblems(c: Record<string, unknown>): string[] {
  if (typeof c.mqttDeviceUrl !== 'string') return [];
  const urls = deviceMqttUrls({ mqttDeviceUrl: c.mqttDeviceUrl });
  if (urls.length === 0) return ['MQTT_DEVICE_URL: give one or more mqtt(s):// or ws(s):// URLs, comma-separated'];
  return urls
    .filter((u) => !/^(mqtts?|wss?):\/\/[^/]/.test(u) || !URL.canParse(u) || new URL(u).hostname === '')
    .map((u) => `MQTT_DEVICE_URL: ${JSON.stringify(u)} is not an mqtt(s):// or ws(s):// URL`);
}

/** NATS mode: a cluster's node URLs, and the files the server keeps for it. */
function natsProblems(c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const urls = mqttUrls({ mqttUrl: typeof c.mqttUrl === 'string' ? c.mqttUrl : undefined });
  for (const u of urls)
    if (!/^(mqtts?|wss?):\/\/[^/]/.test(u))
      problems.push(`MQTT_URL: ${JSON.stringify(u)} is not an mqtt(s):// or ws(s):// URL`);
  if (!c.natsUrls) {
    if (urls.length > 1)
      problems.push('MQTT_URL: several broker URLs are the nodes of a NATS cluster; set NATS_URLS too');
    for (const key of ['natsAuthFile', 'natsPidFiles'] as const)
      if (c[key]) problems.push(`${ENV_NAME[key]}: only used with a NATS cluster; set NATS_URLS too`);
    return problems;
  }
  if (!c.mqttUrl) problems.push("NATS_URLS: set MQTT_URL to the nodes' MQTT listeners too (comma-separated)");
  if (c.mosquittoPasswordFile || c.mosquittoAclFile || c.mosquittoPidFile)
    problems.push('MOSQUITTO_*: a NATS cluster (NATS_URLS) is not Mosquitto; drop one of them');
  if (c.natsAuthFile && !c.mqttUsername)
    problems.push('MQTT_USERNAME: the server needs its own broker identity to write it into NATS_AUTH_FILE');
  if (c.natsPidFiles && !c.natsAuthFile) problems.push('NATS_PID_FILES: only used with NATS_AUTH_FILE');
  if (typeof c.natsAuthFile === 'string' && !fs.existsSync(path.dirname(path.resolve(c.natsAuthFile))))
    problems.push(`NATS_AUTH_FILE=${JSON.stringify(c.natsAuthFile)}: its folder does not exist`);
  return problems;
}

/** A token and the access mode must agree, so a token set is never silently ignored. */
function metricsProblems(c: Record<string, unknown>): string[] {
  if (c.metricsAccess === 'token' && !c.metricsToken)
    return ['LOAXA_METRICS_TOKEN: is required when LOAXA_METRICS_ACCESS=token'];
  if (c.metricsToken && c.metricsAccess !== 'token')
    return [
      `LOAXA_METRICS_TOKEN: only used with LOAXA_METRICS_ACCESS=token (it is ${JSON.stringify(c.metricsAccess)}); drop one of them`,
    ];
  return [];
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
