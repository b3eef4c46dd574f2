/**
 * Server configuration: one validated object built from the environment,
 * with defaults and a clear error per bad variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DEFAULT_OPUS_COMPLEXITY } from './audio/defaults';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Port,
  mqttPort: Port,
  dataDir: Type.String({ minLength: 1 }),
  demo: Type.Boolean(),
  adminPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
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
  /** PEM certificate and key files: with both, HTTP becomes HTTPS (and WSS) and MQTT_PORT speaks MQTTS. */
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
  /** An external broker: the server then starts no Aedes and connects to it as a client. */
  mqttUrl: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?)://[^/]' })),
  mqttUsername: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  mqttPassword: Type.Optional(Type.String({ minLength: 1 })),
  mqttClientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
  /** The broker URL written into provisioned agents' configuration; defaults to MQTT_URL. */
  mqttDeviceUrl: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?)://[^/]' })),
  /** Mosquitto files the server keeps in step with the device registry (external broker only). */
  mosquittoPasswordFile: Type.Optional(Type.String({ minLength: 1 })),
  mosquittoAclFile: Type.Optional(Type.String({ minLength: 1 })),
  mosquittoPidFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Largest audio upload accepted, MB. */
  uploadMaxMb: Type.Integer({ minimum: 1, maximum: 2048 }),
  /** libopus complexity 0–10 for rendered and uploaded audio: lower is faster (see audio/encode.ts). */
  opusComplexity: Type.Integer({ minimum: 0, maximum: 10 }),
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
  logLevel: 'LOG_LEVEL',
  timeZone: 'LOAXA_TIMEZONE',
  horizonDays: 'LOAXA_HORIZON_DAYS',
  retentionDays: 'LOAXA_RETENTION_DAYS',
  webDir: 'LOAXA_WEB_DIR',
  publicUrl: 'LOAXA_PUBLIC_URL',
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
  uploadMaxMb: 'LOAXA_UPLOAD_MAX_MB',
  opusComplexity: 'LOAXA_OPUS_COMPLEXITY',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number | string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
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
    logLevel: env.LOG_LEVEL || 'info',
    timeZone: env.LOAXA_TIMEZONE || 'Asia/Ho_Chi_Minh',
    horizonDays: intFrom(env, 'LOAXA_HORIZON_DAYS', 7),
    retentionDays: intFrom(env, 'LOAXA_RETENTION_DAYS', 400),
    webDir: env.LOAXA_WEB_DIR || DEFAULT_WEB_DIR,
    publicUrl: env.LOAXA_PUBLIC_URL || undefined,
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
    uploadMaxMb: intFrom(env, 'LOAXA_UPLOAD_MAX_MB', 50),
    opusComplexity: intFrom(env, 'LOAXA_OPUS_COMPLEXITY', DEFAULT_OPUS_COMPLEXITY),
    ...overrides,
  };
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];

  const problems = [...check.Errors(candidate)].map((e) => {
    const field = e.path.replace(/^\//, '') as keyof Config;
    const value = (candidate as Record<string, unknown>)[field];
    return `${ENV_NAME[field] ?? field}=${JSON.stringify(value)}: ${e.message}`;
  });
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

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
