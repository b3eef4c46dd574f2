/**
 * Agent configuration: one validated object, read from a JSON file. Every bad
 * field is reported by name, so a technician editing /etc/loaxa/agent.json on a
 * pole-top node sees exactly what to fix.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { AUDIO_FORMATS, ID_PATTERN } from '@loaxa/protocol';

/** An installed agent's spread of its broadcast acks (config `ackSpreadMs`). */
export const DEFAULT_ACK_SPREAD_MS = 1_000;

const NullPlayerConfig = Type.Object(
  {
    type: Type.Literal('null'),
    log: Type.String({ minLength: 1, problem: 'must be the path of the play log file' }),
    /** Also a line the moment each item starts: what is left of a play a power cut interrupted. */
    startLog: Type.Optional(Type.String({ minLength: 1, problem: 'must be the path of the start log file' })),
  },
  { additionalProperties: false },
);
const SimPlayerConfig = Type.Object({ type: Type.Literal('sim') }, { additionalProperties: false });
const OptionalPath = Type.Optional(Type.String({ minLength: 1, problem: 'must be the path of a program' }));
const AlsaPlayerConfig = Type.Object(
  {
    type: Type.Literal('alsa'),
    device: Type.String({ minLength: 1, default: 'default', problem: 'must be an ALSA PCM name such as "default"' }),
    command: Type.Union([Type.Literal('ffmpeg'), Type.Literal('ffplay'), Type.Literal('aplay')], {
      default: 'ffmpeg',
      problem: 'must be "ffmpeg", "ffplay" or "aplay"',
    }),
    path: OptionalPath,
    ffmpegPath: OptionalPath,
  },
  { additionalProperties: false },
);
const PLAYER_VARIANTS: Record<string, TSchema> = {
  null: NullPlayerConfig,
  sim: SimPlayerConfig,
  alsa: AlsaPlayerConfig,
};

const NoneConfig = Type.Object({ type: Type.Literal('none') }, { additionalProperties: false });
const GpiosetAmpConfig = Type.Object(
  {
    type: Type.Literal('gpioset'),
    chip: Type.String({ minLength: 1, default: 'gpiochip0', problem: 'must be a GPIO chip such as "gpiochip0"' }),
    line: Type.Integer({ minimum: 0, maximum: 1023, problem: 'must be the GPIO line offset, e.g. 17' }),
    activeLow: Type.Optional(Type.Boolean({ problem: 'must be true or false' })),
    preRollMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000, problem: 'must be an integer 0–60000' }),
    holdMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5_000, problem: 'must be an integer 0–3600000' }),
    path: OptionalPath,
  },
  { additionalProperties: false },
);
const AMP_VARIANTS: Record<string, TSchema> = { none: NoneConfig, gpioset: GpiosetAmpConfig };
const AmixerConfig = Type.Object(
  {
    type: Type.Literal('amixer'),
    card: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], {
      default: 0,
      problem: 'must be a card index or name, e.g. 0 or "Headphones"',
    }),
    control: Type.String({ minLength: 1, default: 'PCM', problem: 'must be a mixer control name such as "PCM"' }),
    path: OptionalPath,
  },
  { additionalProperties: false },
);
const MIXER_VARIANTS: Record<string, TSchema> = { none: NoneConfig, amixer: AmixerConfig };

const MQTT_URL_PROBLEM = 'must be an mqtt://, mqtts://, ws:// or wss:// URL';
/** Other broker nodes an agent may list besides mqttUrl. */
const MAX_BROKER_NODES = 8;

export const AgentConfigSchema = Type.Object(
  {
    deviceId: Type.String({ pattern: ID_PATTERN, problem: 'must be 1–64 letters, digits, ".", "_" or "-"' }),
    serverUrl: Type.String({ problem: 'must be an http:// or https:// base URL, e.g. http://127.0.0.1:8080' }),
    mqttUrl: Type.String({ problem: MQTT_URL_PROBLEM }),
    /**
     * The other nodes of a broker cluster that shares sessions (mqttUrl is the first): when a
     * connection fails or is lost the agent tries the next node, with the same persistent session.
     */
    mqttUrls: Type.Optional(
      Type.Array(Type.String({ problem: MQTT_URL_PROBLEM }), {
        minItems: 1,
        maxItems: MAX_BROKER_NODES,
        problem: `must be a list of 1–${MAX_BROKER_NODES} mqtt://, mqtts://, ws:// or wss:// URLs (the other broker nodes)`,
      }),
    ),
    secret: Type.String({ minLength: 1, problem: 'must be a non-empty string' }),
    dataDir: Type.String({ minLength: 1, default: '/var/lib/loaxa', problem: 'must be a directory path' }),
    player: Type.Union([NullPlayerConfig, SimPlayerConfig, AlsaPlayerConfig]),
    /**
     * The audio format the node asks the server for: "ogg" (Opus, the default) or "mp3" for a
     * player that cannot decode Opus. Plans and commands carry an MP3 copy where the server made one.
     */
    audioFormat: Type.Union(
      AUDIO_FORMATS.map((f) => Type.Literal(f)),
      { default: 'ogg', problem: `must be ${AUDIO_FORMATS.map((f) => `"${f}"`).join(' or ')} (default "ogg")` },
    ),
    /** Amplifier relay; absent means none. */
    amp: Type.Optional(Type.Union([NoneConfig, GpiosetAmpConfig])),
    /** Hardware volume; absent means none (the level is only reported). */
    mixer: Type.Optional(Type.Union([NoneConfig, AmixerConfig])),
    /** Prints the modem's signal strength in dBm, e.g. ["/usr/local/bin/signal-dbm"]. */
    signalCommand: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        problem: 'must be a non-empty array of strings (argv)',
      }),
    ),
    agentVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 40, problem: 'must be 1–40 characters' })),
    telemetryIntervalMs: Type.Integer({ minimum: 1_000, default: 30_000, problem: 'must be an integer ≥ 1000' }),
    /**
     * Acks of a broadcast leave within a random delay of up to this many ms, so that thousands
     * of loudspeakers hearing it in the same instant do not answer in that instant too, while
     * the broker is still delivering it to the others (see AckDispatcher). 0 sends them at once.
     */
    ackSpreadMs: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: DEFAULT_ACK_SPREAD_MS,
      problem: 'must be an integer 0–10000 (ms; 0 sends acks at once)',
    }),
    /** How often the clock is compared with the server's (GET /api/v1/time); 0 turns the check off. */
    clockCheckIntervalMs: Type.Integer({
      minimum: 0,
      default: 60_000,
      problem: 'must be an integer ≥ 0 (ms; 0 turns the check off)',
    }),
    /** A clock further than this from the server's is logged as a warning. */
    clockWarnMs: Type.Integer({ minimum: 1, default: 1_000, problem: 'must be an integer ≥ 1 (ms)' }),
    /** TLS trust for mqtts:// and https://: a commune server with a self-signed certificate. */
    tls: Type.Optional(
      Type.Object(
        {
          caFile: Type.String({ minLength: 1, problem: 'must be the path of a PEM certificate file' }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Disk the audio cache may use; unset means 512 MiB. Assets the plan needs are kept even beyond it. */
    cacheBudgetBytes: Type.Optional(
      Type.Integer({ minimum: 0, problem: 'must be a whole number of bytes, e.g. 536870912 for 512 MiB' }),
    ),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigSchema>;
export type PlayerConfig = AgentConfig['player'];
export type AmpConfig = NonNullable<AgentConfig['amp']>;
export type MixerConfig = NonNullable<AgentConfig['mixer']>;
/** What a caller must supply; the rest has defaults. */
type Defaulted =
  'dataDir' | 'audioFormat' | 'telemetryIntervalMs' | 'ackSpreadMs' | 'clockCheckIntervalMs' | 'clockWarnMs';
export type AgentConfigInput = Omit<AgentConfig, Defaulted> & Partial<Pick<AgentConfig, Defaulted>>;

export class ConfigError extends Error {
  constructor(
    readonly errors: readonly string[],
    source?: string,
  ) {
    super(`invalid agent configuration${source ? ` in ${source}` : ''}:\n  ${errors.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const URL_PROTOCOLS: Record<'serverUrl' | 'mqttUrl', readonly string[]> = {
  serverUrl: ['http:', 'https:'],
  mqttUrl: ['mqtt:', 'mqtts:', 'ws:', 'wss:'],
};

function fieldName(path: string): string {
  return path === '' ? '(root)' : path.replace(/^\//, '').replace(/\//g, '.');
}

/** One message per field: the schema's own wording where we wrote one, TypeBox's otherwise. */
function schemaErrors(schema: TSchema, value: unknown, prefix = ''): string[] {
  const byField = new Map<string, string>();
  for (const error of Value.Errors(schema, value)) {
    const field = prefix + fieldName(error.path);
    if (byField.has(field)) continue;
    const problem = (error.schema as { problem?: string }).problem;
    if (error.type === ValueErrorType.ObjectRequiredProperty) byField.set(field, 'is required');
    else if (error.type === ValueErrorType.ObjectAdditionalProperties) byField.set(field, 'is not a known setting');
    else byField.set(field, problem ?? error.message);
  }
  return [...byField].map(([field, problem]) => `${field}: ${problem}`);
}

/** Checks a `{type: ...}` setting by its type, filling that variant's defaults into `holder[field]`. */
function variantErrors(
  holder: Record<string, unknown>,
  field: string,
  variants: Record<string, TSchema>,
  example: string,
): string[] {
  const setting = holder[field];
  const type = (setting as { type?: unknown } | null)?.type;
  const variant = typeof type === 'string' && Object.hasOwn(variants, type) ? variants[type] : undefined;
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting))
    return [`${field}: must be an object such as ${example}`];
  if (!variant)
    return [
      `${field}.type: must be one of ${Object.keys(variants)
        .map((t) => `"${t}"`)
        .join(', ')}`,
    ];
  holder[field] = Value.Default(variant, setting);
  return schemaErrors(variant, holder[field], `${field}.`);
}

export type ConfigResult = { ok: true; config: AgentConfig } | { ok: false; errors: string[] };

export function validateConfig(input: unknown): ConfigResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: ['(root): must be a JSON object'] };
  }
  const value = Value.Default(AgentConfigSchema, structuredClone(input)) as Record<string, unknown>;
  // The player union would only say "expected union value"; check it by its type instead.
  const errors = schemaErrors(AgentConfigSchema, value).filter((e) => !/^(player|amp|mixer)[.:]/.test(e));
  if ('player' in value) errors.push(...variantErrors(value, 'player', PLAYER_VARIANTS, '{"type":"sim"}'));
  else errors.push('player: is required, e.g. {"type":"sim"}');
  if (value.amp !== undefined) errors.push(...variantErrors(value, 'amp', AMP_VARIANTS, '{"type":"none"}'));
  if (value.mixer !== undefined) errors.push(...variantErrors(value, 'mixer', MIXER_VARIANTS, '{"type":"none"}'));
  const urls: [field: string, raw: unknown, protocols: readonly string[], problem: string][] = [
    ['serverUrl', value.serverUrl, URL_PROTOCOLS.serverUrl, AgentConfigSchema.properties.serverUrl.problem as string],
    ['mqttUrl', value.mqttUrl, URL_PROTOCOLS.mqttUrl, MQTT_URL_PROBLEM],
  ];
  if (Array.isArray(value.mqttUrls) && !errors.some((e) => e.startsWith('mqttUrls:')))
    value.mqttUrls.forEach((raw, i) => urls.push([`mqttUrls.${i}`, raw, URL_PROTOCOLS.mqttUrl, MQTT_URL_PROBLEM]));
  for (const [field, raw, protocols, problem] of urls) {
    if (typeof raw !== 'string' || errors.some((e) => e.startsWith(`${field}:`))) continue;
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || !protocols.includes(url.protocol) || url.hostname === '') errors.push(`${field}: ${problem}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: value as AgentConfig };
}

/** Validates and fills defaults; throws ConfigError naming each bad field. */
export function parseConfig(input: unknown, source?: string): AgentConfig {
  const result = validateConfig(input);
  if (!result.ok) throw new ConfigError(result.errors, source);
  return result.config;
}

export async function loadConfig(path: string): Promise<AgentConfig> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`(root): not valid JSON (${(err as Error).message})`], path);
  }
  const config = parseConfig(raw, path);
  if (config.tls) {
    try {
      readCaFile(config.tls.caFile);
    } catch (err) {
      throw new ConfigError([(err as Error).message], path);
    }
  }
  return config;
}

/** The PEM the agent adds to its trusted roots; the error names the field and the problem. */
export function readCaFile(path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new Error(`tls.caFile: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`tls.caFile: ${path} is not a PEM certificate (no "BEGIN CERTIFICATE" line)`);
  }
  return pem;
}
