/**
 * Each commune's settings, changed from the console while the server runs:
 * the loudness target of rendered audio, the order in which TTS engines are
 * tried, and the cloud engines' keys. The environment (LOAXA_TTS_*, see
 * tts/registry.ts) stays the default of every commune; a commune's saved
 * setting overrides it for that commune alone, and clearing it brings the
 * environment's value back.
 *
 * Secrets (API keys) are write-only: the view says whether one is set and
 * since when, never what it is.
 */
import { CLOCK_TIME_PATTERN, DEFAULT_QUIET_HOURS, NO_RULES, type BroadcastRules } from '../rules/broadcast-rules';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AlertRuleSchema, AlertRulesSchema, type AlertRule } from '../alerts/rules';
import { DEFAULT_LOUDNESS_TARGET } from '../audio/loudness';
import { ENGINE_IDS, loadTtsConfig, TtsConfigError, type EngineConfig, type TtsConfig } from '../tts/registry';
import type { SettingsStore, SettingWrite, StoredSetting } from './store';

// ---------------------------------------------------------------- what can be set

export const LOUDNESS_LIMITS = {
  integratedLufs: { minimum: -30, maximum: -10 },
  truePeakDb: { minimum: -9, maximum: 0 },
} as const;

/** What each cloud engine takes from the commune (the rest of its configuration stays in the environment). */
export const ENGINE_CREDENTIALS = {
  fpt: { apiKey: 'secret' },
  viettel: { apiKey: 'secret' },
  vbee: { apiKey: 'secret', appId: 'text' },
  zalo: { apiKey: 'secret' },
  google: { apiKey: 'secret' },
  azure: { apiKey: 'secret', region: 'text' },
} as const;
export type CloudEngineId = keyof typeof ENGINE_CREDENTIALS;
export const CLOUD_ENGINE_IDS = Object.keys(ENGINE_CREDENTIALS) as CloudEngineId[];

/** The environment variable each credential field otherwise comes from: LOAXA_TTS_<ID>_<SUFFIX>. */
const ENV_SUFFIX: Record<string, string> = { apiKey: 'API_KEY', appId: 'APP_ID', region: 'REGION' };
const envName = (id: string, field: string) => `LOAXA_TTS_${id.toUpperCase()}_${ENV_SUFFIX[field]}`;

const KEY = {
  loudness: 'loudness',
  engines: 'tts.engines',
  publicContact: 'public.contact',
  rules: 'rules',
  alertRules: 'alerts.rules',
} as const;
const credentialKey = (id: string, field: string) => `tts.${id}.${field}`;

// ---------------------------------------------------------------- schemas

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const ClockTime = Type.String({ pattern: CLOCK_TIME_PATTERN, description: 'HH:MM, the commune’s local time' });
const Secret = nullable(Type.String({ minLength: 1, maxLength: 4096 }));
const only = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Optional(Type.Object(properties, { additionalProperties: false }));

/** PUT /settings: only what is given changes; `null` clears a setting (the environment's value applies again). */
export const SettingsPatchSchema = Type.Object(
  {
    loudness: Type.Optional(
      nullable(
        Type.Object(
          {
            integratedLufs: Type.Optional(Type.Number(LOUDNESS_LIMITS.integratedLufs)),
            truePeakDb: Type.Optional(Type.Number(LOUDNESS_LIMITS.truePeakDb)),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    engines: Type.Optional(
      nullable(
        Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
          minItems: 1,
          maxItems: ENGINE_IDS.length,
          description: `Engine ids in fallback order: ${ENGINE_IDS.join(', ')}`,
        }),
      ),
    ),
    rules: Type.Optional(
      nullable(
        Type.Object(
          {
            quietHours: Type.Optional(nullable(Type.Object({ start: ClockTime, end: ClockTime }))),
            maxSessionMinutes: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 600 }))),
            maxSessionsPerDay: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 100 }))),
            volumeByTime: Type.Optional(
              Type.Array(
                Type.Object(
                  { from: ClockTime, to: ClockTime, volume: Type.Integer({ minimum: 0, maximum: 100 }) },
                  { additionalProperties: false },
                ),
                { maxItems: 8 },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    alertRules: Type.Optional(
      nullable(
        Type.Array(AlertRuleSchema, {
          maxItems: 30,
          description:
            'disaster alert rules, tried in order (the first that fits decides); null: the default rule alone',
        }),
      ),
    ),
    publicPage: Type.Optional(
      Type.Object(
        {
          contact: Type.Optional(
            nullable(
              Type.String({
                minLength: 1,
                maxLength: 300,
                description: 'who villagers contact, shown on the public page (phone, address)',
              }),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    credentials: Type.Optional(
      Type.Object(
        {
          fpt: only({ apiKey: Type.Optional(Secret) }),
          viettel: only({ apiKey: Type.Optional(Secret) }),
          vbee: only({
            apiKey: Type.Optional(Secret),
            appId: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 200 }))),
          }),
          zalo: only({ apiKey: Type.Optional(Secret) }),
          google: only({ apiKey: Type.Optional(Secret) }),
          azure: only({
            apiKey: Type.Optional(Secret),
            region: Type.Optional(nullable(Type.String({ pattern: '^[a-z0-9]+$', maxLength: 50 }))),
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SettingsPatch = Static<typeof SettingsPatchSchema>;

const Source = Type.Union([Type.Literal('default'), Type.Literal('environment'), Type.Literal('saved')]);
const Changed = {
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
};
/** A secret as the console sees it: whether it is set, where from, since when. */
const SecretView = Type.Object({
  set: Type.Boolean(),
  source: Type.Union([Type.Literal('environment'), Type.Literal('saved'), Type.Null()]),
  ...Changed,
});
const TextView = Type.Object({
  value: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.Literal('environment'), Type.Literal('saved'), Type.Null()]),
  ...Changed,
});

export const SettingsViewSchema = Type.Object({
  loudness: Type.Object({
    integratedLufs: Type.Number(),
    truePeakDb: Type.Number(),
    source: Source,
    ...Changed,
  }),
  engines: Type.Object({
    /** The engines tried, in order. */
    order: Type.Array(Type.String()),
    source: Source,
    ...Changed,
    /** Every engine the server knows, and whether it has what it needs to be put in the order. */
    available: Type.Array(
      Type.Object({
        id: Type.String(),
        ready: Type.Boolean(),
        problem: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  }),
  publicPage: Type.Object({ contact: Type.Union([Type.String(), Type.Null()]), ...Changed }),
  rules: Type.Object({
    quietHours: Type.Union([Type.Object({ start: Type.String(), end: Type.String() }), Type.Null()]),
    maxSessionMinutes: Type.Union([Type.Integer(), Type.Null()]),
    maxSessionsPerDay: Type.Union([Type.Integer(), Type.Null()]),
    volumeByTime: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), volume: Type.Integer() })),
    source: Source,
    ...Changed,
  }),
  alertRules: Type.Object({ rules: AlertRulesSchema, source: Source, ...Changed }),
  credentials: Type.Object({
    fpt: Type.Object({ apiKey: SecretView }),
    viettel: Type.Object({ apiKey: SecretView }),
    vbee: Type.Object({ apiKey: SecretView, appId: TextView }),
    zalo: Type.Object({ apiKey: SecretView }),
    google: Type.Object({ apiKey: SecretView }),
    azure: Type.Object({ apiKey: SecretView, region: TextView }),
  }),
});
export type SettingsView = Static<typeof SettingsViewSchema>;

// ---------------------------------------------------------------- the service

/** A value the request got wrong; `field` is its path in the PUT body, e.g. "credentials.fpt.apiKey". */
export class SettingsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
  }
}

export interface LoudnessSetting {
  integratedLufs: number;
  truePeakDb: number;
}

export interface SettingsChange {
  /** Keys written or cleared. */
  keys: string[];
  /** What changed, for the audit log: secrets only as "set" or "cleared". */
  detail: Record<string, unknown>;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Methods that take a trailing optional `communeId` default to the commune the
 * install started with (CommuneService.defaultId()), so callers that do not
 * know of communes yet still read the settings they always did.
 */
export class Settings {
  private readonly listeners: ((keys: string[], communeId: string) => void)[] = [];
  private defaultId: string | undefined;

  constructor(
    private readonly store: SettingsStore,
    /** Where the defaults come from (process.env in the server). */
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Every commune's rules until it saves its own (config.quietHours: LOAXA_QUIET_HOURS). */
    private readonly defaults: { quietHours: BroadcastRules['quietHours'] } = { quietHours: DEFAULT_QUIET_HOURS },
  ) {}

  /** The commune meant when a caller names none. */
  defaultCommuneId(): string {
    return (this.defaultId ??= this.store.defaultCommuneId());
  }

  /**
   * Called after every saved change, with the keys written and the commune they
   * belong to; the server re-applies what depends on them for that commune.
   */
  onChange(listener: (keys: string[], communeId: string) => void): void {
    this.listeners.push(listener);
  }

  /** A reader of the commune's saved values. */
  private saved(communeId: string): (key: string) => unknown {
    return (key) => this.store.get(communeId, key)?.value;
  }

  loudness(communeId = this.defaultCommuneId()): LoudnessSetting {
    const saved = this.store.get(communeId, KEY.loudness)?.value as Partial<LoudnessSetting> | undefined;
    return {
      integratedLufs: saved?.integratedLufs ?? DEFAULT_LOUDNESS_TARGET.i,
      truePeakDb: saved?.truePeakDb ?? DEFAULT_LOUDNESS_TARGET.tp,
    };
  }

  /** The commune's loudness target in the renderer's terms. */
  loudnessTarget(communeId = this.defaultCommuneId()): { i: number; tp: number } {
    const { integratedLufs, truePeakDb } = this.loudness(communeId);
    return { i: integratedLufs, tp: truePeakDb };
  }

  /**
   * The commune's TTS configuration in force: the environment with the commune's
   * saved settings laid over it. Throws TtsConfigError.
   */
  ttsConfig(communeId = this.defaultCommuneId()): TtsConfig {
    return loadTtsConfig(this.ttsEnvironment(this.saved(communeId)));
  }

  /**
   * For the start (or a commune's first synthesis): the commune's saved TTS settings, or
   * the environment's alone when the saved ones no longer fit it (a variable they relied
   * on was removed); `ignored` says why.
   */
  startupTtsConfig(communeId = this.defaultCommuneId()): { config: TtsConfig; ignored: string[] } {
    if (this.store.keys(communeId, 'tts.').length === 0) return { config: loadTtsConfig(this.env), ignored: [] };
    try {
      return { config: this.ttsConfig(communeId), ignored: [] };
    } catch (err) {
      if (!(err instanceof TtsConfigError)) throw err;
      return { config: loadTtsConfig(this.env), ignored: err.problems };
    }
  }

  /** One engine's configuration as the commune would use it (to test it), or why it cannot be used. */
  engineConfig(communeId: string, id: string): { config: EngineConfig } | { problem: string } {
    try {
      const env = { ...this.ttsEnvironment(this.saved(communeId)), LOAXA_TTS_ENGINES: id };
      return { config: loadTtsConfig(env).engines[0] as EngineConfig };
    } catch (err) {
      if (!(err instanceof TtsConfigError)) throw err;
      return { problem: err.problems.map((p) => p.replace(/^tts\.engines\[0\]\./, '')).join('; ') };
    }
  }

  /** Who villagers contact, shown on the commune's public page; null when not set. */
  publicContact(communeId = this.defaultCommuneId()): string | null {
    return (this.store.get(communeId, KEY.publicContact)?.value as string | undefined) ?? null;
  }

  /**
   * The commune's broadcast rules in force: what it saved, else the install's quiet hours
   * (LOAXA_QUIET_HOURS, default 21:30-05:30) and no other limit.
   */
  broadcastRules(communeId = this.defaultCommuneId()): BroadcastRules {
    const saved = this.store.get(communeId, KEY.rules)?.value as Partial<BroadcastRules> | undefined;
    return { ...NO_RULES, quietHours: this.defaults.quietHours, ...saved };
  }

  /** The commune's disaster alert rules, in order (alerts/rules.ts); none: the default rule alone. */
  alertRules(communeId = this.defaultCommuneId()): AlertRule[] {
    return (this.store.get(communeId, KEY.alertRules)?.value as AlertRule[] | undefined) ?? [];
  }

  /** The commune's settings as the console shows them. */
  view(communeId: string): SettingsView {
    const loudness = this.store.get(communeId, KEY.loudness);
    const engines = this.store.get(communeId, KEY.engines);
    const order = this.ttsOrder(this.saved(communeId));
    return {
      loudness: { ...this.loudness(communeId), source: loudness ? 'saved' : 'default', ...changed(loudness) },
      engines: {
        order,
        source: engines ? 'saved' : this.env.LOAXA_TTS_ENGINES ? 'environment' : 'default',
        ...changed(engines),
        available: ENGINE_IDS.map((id) => {
          const result = this.engineConfig(communeId, id);
          return { id, ready: 'config' in result, problem: 'problem' in result ? result.problem : null };
        }),
      },
      publicPage: { contact: this.publicContact(communeId), ...changed(this.store.get(communeId, KEY.publicContact)) },
      rules: {
        ...this.broadcastRules(communeId),
        source: this.store.get(communeId, KEY.rules) ? 'saved' : 'default',
        ...changed(this.store.get(communeId, KEY.rules)),
      },
      alertRules: {
        rules: this.alertRules(communeId),
        source: this.store.get(communeId, KEY.alertRules) ? 'saved' : 'default',
        ...changed(this.store.get(communeId, KEY.alertRules)),
      },
      credentials: Object.fromEntries(
        CLOUD_ENGINE_IDS.map((id) => [
          id,
          Object.fromEntries(
            Object.entries(ENGINE_CREDENTIALS[id]).map(([field, kind]) => {
              const saved = this.store.get(communeId, credentialKey(id, field));
              const fromEnv = this.env[envName(id, field)] || undefined;
              const source = saved ? 'saved' : fromEnv !== undefined ? 'environment' : null;
              if (kind === 'secret') return [field, { set: source !== null, source, ...changed(saved) }];
              return [
                field,
                { value: (saved?.value as string | undefined) ?? fromEnv ?? null, source, ...changed(saved) },
              ];
            }),
          ),
        ]),
      ) as SettingsView['credentials'],
    };
  }

  /**
   * Saves `patch` (partial) as the commune's, after checking that the TTS configuration
   * it leads to works; nothing is saved when a value is wrong (SettingsError names it).
   * The checks run on the settings in memory; the change is in force once this resolves.
   */
  async update(communeId: string, patch: SettingsPatch, actor: string): Promise<SettingsChange> {
    const writes: SettingWrite[] = [];
    const detail: Record<string, unknown> = {};

    if (patch.loudness !== undefined) {
      const value = patch.loudness === null ? null : { ...this.loudness(communeId), ...patch.loudness };
      writes.push({ key: KEY.loudness, value });
      detail.loudness = value;
    }
    if (patch.engines !== undefined) {
      if (patch.engines !== null) checkEngineIds(patch.engines);
      writes.push({ key: KEY.engines, value: patch.engines });
      detail.engines = patch.engines;
    }
    if (patch.rules !== undefined) {
      const value = patch.rules === null ? null : { ...this.broadcastRules(communeId), ...patch.rules };
      for (const [i, v] of (value?.volumeByTime ?? []).entries()) {
        if (v.from === v.to) throw new SettingsError(`rules.volumeByTime[${i}]`, 'from and to must differ');
      }
      if (value?.quietHours && value.quietHours.start === value.quietHours.end) {
        throw new SettingsError('rules.quietHours', 'start and end must differ');
      }
      writes.push({ key: KEY.rules, value });
      detail.rules = value;
    }
    if (patch.alertRules !== undefined) {
      for (const [i, rule] of (patch.alertRules ?? []).entries()) {
        if (rule.events?.some((w) => w.trim() === '')) {
          throw new SettingsError(`alertRules[${i}].events`, 'a word must not be blank');
        }
      }
      const value = patch.alertRules === null || patch.alertRules.length === 0 ? null : patch.alertRules;
      writes.push({ key: KEY.alertRules, value });
      detail.alertRules = value;
    }
    if (patch.publicPage?.contact !== undefined) {
      const value = patch.publicPage.contact === null ? null : patch.publicPage.contact.trim();
      if (value === '') throw new SettingsError('publicPage.contact', 'must not be blank');
      writes.push({ key: KEY.publicContact, value });
      detail['publicPage.contact'] = value;
    }
    for (const [id, fields] of Object.entries(patch.credentials ?? {})) {
      for (const [field, raw] of Object.entries(fields ?? {}) as [string, string | null | undefined][]) {
        if (raw === undefined) continue;
        const path = `credentials.${id}.${field}`;
        const value = raw === null ? null : raw.trim();
        if (value === '') throw new SettingsError(path, 'must not be blank');
        writes.push({ key: credentialKey(id, field), value });
        const secret = ENGINE_CREDENTIALS[id as CloudEngineId][field as 'apiKey'] === 'secret';
        detail[path] = secret ? (value === null ? 'cleared' : 'set') : value;
      }
    }
    if (writes.length === 0) return { keys: [], detail };

    if (writes.some((w) => w.key.startsWith('tts.'))) {
      const pending = new Map(writes.map((w) => [w.key, w.value]));
      const saved = this.saved(communeId);
      this.checkTts((key) => (pending.has(key) ? (pending.get(key) ?? undefined) : saved(key)));
    }
    await this.store.write(communeId, writes, actor);
    const keys = writes.map((w) => w.key);
    for (const listener of this.listeners) listener(keys, communeId);
    return { keys, detail };
  }

  // ------------------------------------------------------------ TTS over the environment

  private ttsOrder(saved: (key: string) => unknown): string[] {
    const order = saved(KEY.engines) as string[] | undefined;
    return (
      order ??
      (this.env.LOAXA_TTS_ENGINES ?? 'espeak')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean)
    );
  }

  /** The environment with the saved settings written in as the variables they override. */
  private ttsEnvironment(saved: (key: string) => unknown): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.env, LOAXA_TTS_ENGINES: this.ttsOrder(saved).join(',') };
    for (const id of CLOUD_ENGINE_IDS) {
      for (const field of Object.keys(ENGINE_CREDENTIALS[id])) {
        const value = saved(credentialKey(id, field));
        if (typeof value === 'string') env[envName(id, field)] = value;
      }
    }
    return env;
  }

  /** Throws SettingsError naming the setting to fix when the engines in the order cannot all be built. */
  private checkTts(saved: (key: string) => unknown): void {
    const order = this.ttsOrder(saved);
    try {
      loadTtsConfig(this.ttsEnvironment(saved));
    } catch (err) {
      if (!(err instanceof TtsConfigError)) throw err;
      const problem = err.problems[0] ?? 'is not valid';
      const m = /^tts\.engines\[(\d+)\]\.(\w+): (.*?)(?: \((?:set \w+|LOAXA_TTS_ENGINES)\))?$/.exec(problem);
      const index = m ? Number(m[1]) : -1;
      const id = order[index];
      if (m && id && id in ENGINE_CREDENTIALS && m[2]! in ENGINE_CREDENTIALS[id as CloudEngineId]) {
        const field = m[2]!;
        const secret = field === 'apiKey';
        const says = secret && !m[3]!.startsWith('is required') ? 'is not valid' : m[3]!;
        throw new SettingsError(
          `credentials.${id}.${field}`,
          `${says} while ${id} is in the engine order (or set ${envName(id, field)} on the server)`,
        );
      }
      if (m && id) {
        throw new SettingsError(
          `engines.${index}`,
          `${id} cannot be used: ${problem.replace(/^tts\.engines\[\d+\]\./, '')}`,
        );
      }
      throw new SettingsError('engines', problem);
    }
  }
}

function checkEngineIds(order: readonly string[]): void {
  const seen = new Set<string>();
  order.forEach((id, i) => {
    if (!(ENGINE_IDS as readonly string[]).includes(id)) {
      throw new SettingsError(`engines.${i}`, `"${id}" is not a TTS engine (one of ${ENGINE_IDS.join(', ')})`);
    }
    if (seen.has(id)) throw new SettingsError(`engines.${i}`, `"${id}" is listed twice`);
    seen.add(id);
  });
}

function changed(saved: StoredSetting | undefined): { updatedAt: string | null; updatedBy: string | null } {
  return { updatedAt: iso(saved?.updatedAt), updatedBy: saved?.updatedBy ?? null };
}
