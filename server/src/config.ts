/**
 * Server configuration: one validated object built from the environment,
 * with defaults and a clear error per bad variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

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
  /** Serve the built console from this folder (absent in API-only deployments). */
  webDir: Type.Optional(Type.String()),
  /** Public base URL devices use to download media; defaults to http://<host>:<port>. */
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** PEM certificate and key files: with both, HTTP becomes HTTPS (and WSS) and MQTT_PORT speaks MQTTS. */
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
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
  webDir: 'LOAXA_WEB_DIR',
  publicUrl: 'LOAXA_PUBLIC_URL',
  tlsCert: 'LOAXA_TLS_CERT',
  tlsKey: 'LOAXA_TLS_KEY',
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
    webDir: env.LOAXA_WEB_DIR || DEFAULT_WEB_DIR,
    publicUrl: env.LOAXA_PUBLIC_URL || undefined,
    tlsCert: env.LOAXA_TLS_CERT || undefined,
    tlsKey: env.LOAXA_TLS_KEY || undefined,
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
  if (problems.length > 0) throw new ConfigError(problems);
  return candidate as Config;
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
