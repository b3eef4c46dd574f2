/**
 * Agent configuration: one validated object, read from a JSON file. Every bad
 * field is reported by name, so a technician editing /etc/loaxa/agent.json on a
 * pole-top node sees exactly what to fix.
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { ID_PATTERN } from '@loaxa/protocol';

const NullPlayerConfig = Type.Object(
  {
    type: Type.Literal('null'),
    log: Type.String({ minLength: 1, problem: 'must be the path of the play log file' }),
  },
  { additionalProperties: false },
);
const SimPlayerConfig = Type.Object({ type: Type.Literal('sim') }, { additionalProperties: false });
const PLAYER_VARIANTS: Record<string, TSchema> = { null: NullPlayerConfig, sim: SimPlayerConfig };

export const AgentConfigSchema = Type.Object(
  {
    deviceId: Type.String({ pattern: ID_PATTERN, problem: 'must be 1–64 letters, digits, ".", "_" or "-"' }),
    serverUrl: Type.String({ problem: 'must be an http:// or https:// base URL, e.g. http://127.0.0.1:8080' }),
    mqttUrl: Type.String({ problem: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' }),
    secret: Type.String({ minLength: 1, problem: 'must be a non-empty string' }),
    dataDir: Type.String({ minLength: 1, default: '/var/lib/loaxa', problem: 'must be a directory path' }),
    player: Type.Union([NullPlayerConfig, SimPlayerConfig]),
    agentVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 40, problem: 'must be 1–40 characters' })),
    telemetryIntervalMs: Type.Integer({ minimum: 1_000, default: 30_000, problem: 'must be an integer ≥ 1000' }),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigSchema>;
export type PlayerConfig = AgentConfig['player'];
/** What a caller must supply; the rest has defaults. */
export type AgentConfigInput = Omit<AgentConfig, 'dataDir' | 'telemetryIntervalMs'> &
  Partial<Pick<AgentConfig, 'dataDir' | 'telemetryIntervalMs'>>;

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

function playerErrors(player: unknown): string[] {
  const type = (player as { type?: unknown } | null)?.type;
  const variant = typeof type === 'string' ? PLAYER_VARIANTS[type] : undefined;
  if (typeof player !== 'object' || player === null) return ['player: must be an object such as {"type":"sim"}'];
  if (!variant)
    return [
      `player.type: must be one of ${Object.keys(PLAYER_VARIANTS)
        .map((t) => `"${t}"`)
        .join(', ')}`,
    ];
  return schemaErrors(variant, player, 'player.');
}

export type ConfigResult = { ok: true; config: AgentConfig } | { ok: false; errors: string[] };

export function validateConfig(input: unknown): ConfigResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: ['(root): must be a JSON object'] };
  }
  const value = Value.Default(AgentConfigSchema, structuredClone(input)) as Record<string, unknown>;
  // The player union would only say "expected union value"; check it by its type instead.
  const errors = schemaErrors(AgentConfigSchema, value).filter((e) => !e.startsWith('player'));
  if ('player' in value) errors.push(...playerErrors(value.player));
  else errors.push('player: is required, e.g. {"type":"sim"}');
  for (const field of ['serverUrl', 'mqttUrl'] as const) {
    const raw = value[field];
    if (typeof raw !== 'string' || errors.some((e) => e.startsWith(`${field}:`))) continue;
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || !URL_PROTOCOLS[field].includes(url.protocol) || url.hostname === '') {
      errors.push(`${field}: ${(AgentConfigSchema.properties[field] as unknown as { problem: string }).problem}`);
    }
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
  return parseConfig(raw, path);
}
