/**
 * Payload schemas for every MQTT message. Server, agent and simulator validate
 * with these; a payload that fails is rejected and logged, never trusted.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ID_PATTERN, PROTOCOL_VERSION } from './topics';

const Version = Type.Literal(PROTOCOL_VERSION, { description: 'protocol version' });
/** Milliseconds since the Unix epoch, UTC. */
const EpochMs = Type.Integer({ minimum: 0 });
const Id = Type.String({ pattern: ID_PATTERN });
/** Occurrence and command ids are opaque strings chosen by the server. */
const RefId = Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9_.:-]+$' });

/**
 * How far ahead plans reach by default (LOAXA_HORIZON_DAYS sets it): occurrences are
 * materialised and sent to devices over the same horizon, rolled forward as time passes.
 */
export const DEFAULT_PLAN_HORIZON_DAYS = 7;
/** The most items one plan carries; the server says so (log, metric) when a device has more. */
export const MAX_PLAN_ITEMS = 2000;

export const PRIORITIES = ['normal', 'priority', 'emergency'] as const;
export const Priority = Type.Union(PRIORITIES.map((p) => Type.Literal(p)));
export type Priority = Static<typeof Priority>;

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const AUDIO_FORMATS = ['ogg', 'mp3'] as const;
export const AudioFormat = Type.Union(AUDIO_FORMATS.map((f) => Type.Literal(f)));
export type AudioFormat = Static<typeof AudioFormat>;

/** Largest file carried inside a command (`data`): about 20 s of Opus at 24 kbps. */
export const MAX_INLINE_BYTES = 64 * 1024;

/** A stored audio file: downloaded ahead of time, verified by its hash, played from the cache. */
export const FileAsset = Type.Object(
  {
    sha256: Sha256,
    /** Absolute URL, or a path such as `/media/<sha>.ogg` resolved against the agent's serverUrl. */
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    bytes: Type.Integer({ minimum: 0 }),
    durationMs: Type.Integer({ minimum: 0 }),
    format: AudioFormat,
    /** The same audio as MP3, for devices that ask for MP3 (their status says `audioFormat: "mp3"`). */
    mp3: Type.Optional(
      Type.Object(
        {
          sha256: Sha256,
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          bytes: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * The file itself, base64, in play-now commands when it is small (≤ MAX_INLINE_BYTES): an
     * emergency then needs no HTTP round trip. Checked against `sha256` like a download; a device
     * that cannot use it downloads `url` as usual.
     */
    data: Type.Optional(Type.String({ maxLength: Math.ceil(MAX_INLINE_BYTES / 3) * 4 })),
    /**
     * Only in a framed play-now (encodeFramed): the file's `bytes` raw bytes follow the command's
     * JSON in the same message, instead of base64 in `data`. Read them with attachedBytes().
     */
    attached: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export type FileAsset = Static<typeof FileAsset>;

/** Longest stream relay: a whole morning's national radio programme. */
export const MAX_STREAM_MS = 6 * 3600_000;

/**
 * A live stream relayed at play time (e.g. the national radio's Icecast URL):
 * nothing is downloaded ahead; the loudspeaker plays the URL for `durationMs`.
 */
export const StreamAsset = Type.Object(
  {
    kind: Type.Literal('stream'),
    /** http(s) only; Icecast and Shoutcast serve over HTTP. */
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s]+$' }),
    durationMs: Type.Integer({ minimum: 1000, maximum: MAX_STREAM_MS }),
  },
  { additionalProperties: false },
);
export type StreamAsset = Static<typeof StreamAsset>;

/** Longest live session a loudspeaker accepts (the server's limit is lower: LOAXA_LIVE_MAX_MIN). */
export const MAX_LIVE_MS = 4 * 3600_000;
/** Play-out delay budgets a live session may ask for, ms. */
export const LIVE_LATENCY_MS = { minimum: 100, maximum: 5000 } as const;

/**
 * The officer speaking live (protocol/src/live.ts has the frames): the loudspeaker
 * listens on `topic` for Opus frames carrying `key`, plays each at its play-out time on
 * the server's clock, and ends at an end frame, after 2 s without a frame, at `durationMs`,
 * or when stopped. Nothing is downloaded.
 */
export const LiveAsset = Type.Object(
  {
    kind: Type.Literal('live'),
    sessionId: RefId,
    /** In every frame of the session (u32): frames of another session are ignored. */
    key: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    /** The zone's (or the device's) live topic the frames come on. */
    topic: Type.String({ pattern: '^loaxa/v1/(zone|dev)/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/live$' }),
    /** The longest it may last; the session usually ends before. */
    durationMs: Type.Integer({ minimum: 1000, maximum: MAX_LIVE_MS }),
    /** Capture to play-out on the server's clock, ms (the session's latency budget). */
    latencyMs: Type.Integer(LIVE_LATENCY_MS),
  },
  { additionalProperties: false },
);
export type LiveAsset = Static<typeof LiveAsset>;

export const Asset = Type.Union([FileAsset, StreamAsset, LiveAsset]);
export type Asset = Static<typeof Asset>;

export function isStream(asset: Asset): asset is StreamAsset {
  return 'kind' in asset && asset.kind === 'stream';
}

export function isLive(asset: Asset): asset is LiveAsset {
  return 'kind' in asset && asset.kind === 'live';
}

/** A file to download and play (not a stream relay, not a live session). */
export function isFile(asset: Asset): asset is FileAsset {
  return !('kind' in asset);
}

/** The assets that are files, in order. */
export function fileAssets(assets: readonly Asset[]): FileAsset[] {
  return assets.filter(isFile);
}

const Volume = Type.Integer({ minimum: 0, maximum: 100 });

export const StatusPayload = Type.Object(
  {
    v: Version,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    agentVersion: Type.Optional(Type.String({ maxLength: 40 })),
    /** The format the device plays best; "mp3" asks the server for MP3 renditions. Default "ogg". */
    audioFormat: Type.Optional(AudioFormat),
    /**
     * True when the agent runs a null or simulated player: it plays nothing audible and every
     * ack it sends says so. Sent only when true (older servers refuse unknown fields).
     */
    simulated: Type.Optional(Type.Boolean()),
    /**
     * True when the agent reads framed play-now commands (encodeFramed): the server then sends
     * inline audio as raw bytes to it, not base64. Older agents leave it out and get JSON.
     */
    framedCommands: Type.Optional(Type.Boolean()),
    at: Type.Optional(EpochMs),
  },
  { additionalProperties: false },
);
export type StatusPayload = Static<typeof StatusPayload>;

export const TelemetryPayload = Type.Object(
  {
    v: Version,
    at: EpochMs,
    volume: Volume,
    playing: Type.Union([RefId, Type.Null()]),
    cacheBytes: Type.Integer({ minimum: 0 }),
    freeDiskBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    clockOffsetMs: Type.Optional(Type.Number()),
    uptimeS: Type.Integer({ minimum: 0 }),
    signalDbm: Type.Optional(Type.Number()),
    cpuTempC: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type TelemetryPayload = Static<typeof TelemetryPayload>;

export const PlanItem = Type.Object(
  {
    occurrenceId: RefId,
    /** Planned start, UTC epoch ms, by the device's own clock. */
    startAt: EpochMs,
    priority: Priority,
    volume: Type.Optional(Volume),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    /** Played in order, back to back. */
    assets: Type.Array(Asset, { minItems: 1, maxItems: 200 }),
  },
  { additionalProperties: false },
);
export type PlanItem = Static<typeof PlanItem>;

export const PlanPayload = Type.Object(
  {
    v: Version,
    /**
     * Increases with every change within one epoch; an agent ignores a plan
     * older than the one it holds from the same epoch.
     */
    planVersion: Type.Integer({ minimum: 0 }),
    /**
     * The server database's generation: new when a database is created or
     * restored from a backup. A plan from another epoch replaces the one held
     * whatever its version (a restored server's counters start lower).
     */
    epoch: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' })),
    generatedAt: EpochMs,
    horizonEnd: EpochMs,
    /** The zones this device belongs to; the agent subscribes to their command topics. */
    zones: Type.Array(Id, { maxItems: 64 }),
    items: Type.Array(PlanItem, { maxItems: MAX_PLAN_ITEMS }),
  },
  { additionalProperties: false },
);
export type PlanPayload = Static<typeof PlanPayload>;

const CommandBase = {
  v: Version,
  commandId: RefId,
  issuedAt: EpochMs,
  /** A command received after this instant is acked "skipped" and not executed. */
  expiresAt: EpochMs,
};

export const PlayNowCommand = Type.Object(
  {
    ...CommandBase,
    action: Type.Literal('play-now'),
    occurrenceId: RefId,
    priority: Priority,
    volume: Type.Optional(Volume),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    assets: Type.Array(Asset, { minItems: 1, maxItems: 200 }),
    /**
     * A later language version of a notice: it plays after this occurrence (the version before
     * it) when the device has that one playing, waiting or on its way, whatever the priorities.
     */
    after: Type.Optional(RefId),
  },
  { additionalProperties: false },
);
export const StopCommand = Type.Object(
  { ...CommandBase, action: Type.Literal('stop'), occurrenceId: Type.Optional(RefId) },
  { additionalProperties: false },
);
export const VolumeCommand = Type.Object(
  { ...CommandBase, action: Type.Literal('volume'), level: Volume },
  { additionalProperties: false },
);
export const AmpCommand = Type.Object(
  { ...CommandBase, action: Type.Literal('amp'), on: Type.Boolean() },
  { additionalProperties: false },
);
export const SyncTimeCommand = Type.Object(
  { ...CommandBase, action: Type.Literal('sync-time'), serverTime: EpochMs },
  { additionalProperties: false },
);
export const RebootCommand = Type.Object(
  { ...CommandBase, action: Type.Literal('reboot') },
  { additionalProperties: false },
);

export const CommandPayload = Type.Union([
  PlayNowCommand,
  StopCommand,
  VolumeCommand,
  AmpCommand,
  SyncTimeCommand,
  RebootCommand,
]);
export type CommandPayload = Static<typeof CommandPayload>;
export type PlayNowCommand = Static<typeof PlayNowCommand>;
export type CommandAction = CommandPayload['action'];

/** Stages in the order they normally happen; failed/skipped/preempted end a delivery. */
export const ACK_STAGES = ['received', 'ready', 'started', 'finished', 'failed', 'skipped', 'preempted'] as const;
export type AckStage = (typeof ACK_STAGES)[number];
export const AckStageSchema = Type.Union(ACK_STAGES.map((s) => Type.Literal(s)));

export const AckPayload = Type.Object(
  {
    v: Version,
    occurrenceId: Type.Optional(RefId),
    commandId: Type.Optional(RefId),
    stage: AckStageSchema,
    /** When the stage happened, by the device clock, UTC epoch ms. */
    at: EpochMs,
    detail: Type.Optional(Type.String({ maxLength: 500 })),
    /**
     * Stages of the same occurrence or command reached before this one and not
     * yet sent, oldest first: a play-now with its audio inline is received, ready
     * and started in one instant, and goes out as one message instead of three.
     */
    earlier: Type.Optional(
      Type.Array(
        Type.Object(
          { stage: AckStageSchema, at: EpochMs, detail: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: ACK_STAGES.length - 1 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AckPayload = Static<typeof AckPayload>;

/** Upper bounds on inbound payload sizes, checked before parsing. */
export const MAX_PAYLOAD_BYTES = {
  status: 1024,
  telemetry: 4096,
  ack: 2048,
  plan: 1024 * 1024,
  cmd: 256 * 1024,
  ping: 128,
} as const;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Decoder<T> {
  decode(raw: Buffer | string | Uint8Array, maxBytes?: number): DecodeResult<T>;
  check(value: unknown): value is T;
}

function describeError(check: TypeCheck<TSchema>, value: unknown): string {
  const first = check.Errors(value).First();
  if (!first) return 'invalid payload';
  const field = first.path === '' ? '(root)' : first.path.replace(/^\//, '').replace(/\//g, '.');
  return `${field}: ${first.message}`;
}

/** The payload as text, without copying a Buffer first. */
function utf8Text(raw: Buffer | string | Uint8Array): string {
  if (typeof raw === 'string') return raw;
  return (Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).toString('utf8');
}

export function decoderFor<S extends TSchema>(schema: S): Decoder<Static<S>> {
  const check = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<S> => check.Check(value),
    decode(raw, maxBytes) {
      const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
      if (maxBytes !== undefined && size > maxBytes) {
        return { ok: false, error: `payload of ${size} bytes exceeds the limit of ${maxBytes}` };
      }
      let value: unknown;
      try {
        value = JSON.parse(utf8Text(raw));
      } catch {
        return { ok: false, error: 'payload is not valid JSON' };
      }
      if (!check.Check(value)) return { ok: false, error: describeError(check, value) };
      return { ok: true, value };
    },
  };
}

const ackBase = decoderFor(AckPayload);
/** Ack decoder: the schema, plus exactly one of occurrenceId / commandId. */
export const ackDecoder: Decoder<AckPayload> = {
  check: (value): value is AckPayload =>
    ackBase.check(value) && (value.occurrenceId === undefined) !== (value.commandId === undefined),
  decode(raw, maxBytes = MAX_PAYLOAD_BYTES.ack) {
    const result = ackBase.decode(raw, maxBytes);
    if (!result.ok) return result;
    if ((result.value.occurrenceId === undefined) === (result.value.commandId === undefined)) {
      return { ok: false, error: 'occurrenceId: exactly one of occurrenceId and commandId is required' };
    }
    return result;
  },
};

/** The live clock exchange: the device's clock when it asked (echoed back) and the server's when it answered. */
export const PingPayload = Type.Object(
  { v: Version, t0: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);
export type PingPayload = Static<typeof PingPayload>;
export const PongPayload = Type.Object(
  { v: Version, t0: Type.Number({ minimum: 0 }), serverTime: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);
export type PongPayload = Static<typeof PongPayload>;
export const pingDecoder = decoderFor(PingPayload);
export const pongDecoder = decoderFor(PongPayload);

export const statusDecoder = decoderFor(StatusPayload);
export const telemetryDecoder = decoderFor(TelemetryPayload);
export const planDecoder = decoderFor(PlanPayload);

/** Command decoder: picks the variant by `action`, so errors name the real field (not "expected union"). */
const commandVariants = new Map(
  [PlayNowCommand, StopCommand, VolumeCommand, AmpCommand, SyncTimeCommand, RebootCommand].map((schema) => [
    schema.properties.action.const as string,
    decoderFor(schema as TSchema),
  ]),
);
const commandUnion = decoderFor(CommandPayload);
export const commandDecoder: Decoder<CommandPayload> = {
  check: commandUnion.check,
  decode(raw, maxBytes = MAX_PAYLOAD_BYTES.cmd) {
    if (typeof raw !== 'string') {
      const end = raw.indexOf(FRAME_END);
      if (end >= 0) return decodeFramed(raw, end, maxBytes);
    }
    const result = commandUnion.decode(raw, maxBytes);
    if (result.ok) {
      const attached = attachedIndex(result.value);
      if (attached < 0) return result;
      return { ok: false, error: `assets.${attached}.attached: only in a framed command (its bytes follow the JSON)` };
    }
    let action: unknown;
    try {
      action = (JSON.parse(utf8Text(raw)) as { action?: unknown }).action;
    } catch {
      return result;
    }
    const variant = typeof action === 'string' ? commandVariants.get(action) : undefined;
    if (!variant) return { ok: false, error: `action: must be one of ${[...commandVariants.keys()].join(', ')}` };
    const detailed = variant.decode(raw, maxBytes);
    return detailed.ok ? result : (detailed as DecodeResult<CommandPayload>);
  },
};

/**
 * JSON with every non-ASCII character written as a \u escape. A command may
 * carry tens of KB of inline audio; with one Vietnamese letter in its title the
 * whole text decodes on the slow UTF-8 path and stays a two-byte string through
 * JSON.parse and the base64 decode, twice the work on the device. Any JSON
 * parser reads the escapes back.
 */
export function encodeAscii(payload: CommandPayload): string {
  return JSON.stringify(payload).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Framed play-now commands. Base64 inside JSON costs a loudspeaker a 33 KB text, a 32 KB
 * string and a decode for 24 KB of audio, per emergency; in a framed command the audio
 * follows the JSON as it is. Layout: the command's JSON (encodeAscii: ASCII, so never a NUL
 * byte, which JSON text cannot hold unescaped), one NUL byte, then the bytes of every asset
 * marked `attached`, in asset order, each its `bytes` long. The server sends it only to agents
 * whose "online" status says `framedCommands: true`.
 */
const FRAME_END = 0;

/** The raw bytes of a framed command's attached file, as commandDecoder read them. */
const attachments = new WeakMap<FileAsset, Buffer>();

/**
 * The bytes that came with `asset` in a framed command; undefined for any other asset (a copy of
 * it too: they belong to the object the decoder returned, and go when it goes).
 */
export function attachedBytes(asset: FileAsset): Buffer | undefined {
  return attachments.get(asset);
}

/** The command framed: every file with inline `data` travels `attached`, as raw bytes. */
export function encodeFramed(command: PlayNowCommand): Buffer {
  const files: Buffer[] = [];
  const assets = command.assets.map((asset) => {
    if (!isFile(asset) || asset.data === undefined) return asset;
    const { data, ...rest } = asset;
    files.push(Buffer.from(data, 'base64'));
    return { ...rest, attached: true as const };
  });
  return Buffer.concat([Buffer.from(encodeAscii({ ...command, assets }), 'latin1'), Buffer.of(FRAME_END), ...files]);
}

/** The index of the first asset marked `attached`, or -1. */
function attachedIndex(command: CommandPayload): number {
  return command.action === 'play-now' ? command.assets.findIndex((a) => isFile(a) && a.attached === true) : -1;
}

const playNowDecoder = commandVariants.get('play-now')!;

function decodeFramed(raw: Buffer | Uint8Array, end: number, maxBytes: number): DecodeResult<CommandPayload> {
  if (raw.byteLength > maxBytes) {
    return { ok: false, error: `payload of ${raw.byteLength} bytes exceeds the limit of ${maxBytes}` };
  }
  const buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const header = buffer.subarray(0, end);
  let value: unknown;
  try {
    value = JSON.parse(utf8Text(header)); // ASCII from encodeAscii; UTF-8 from any other writer
  } catch {
    return { ok: false, error: 'payload is not valid JSON up to its NUL byte' };
  }
  if ((value as { action?: unknown } | null)?.action !== 'play-now') {
    return { ok: false, error: 'action: a framed command must be a play-now' };
  }
  // Parsed once; the decoder parses again only to name what is wrong.
  if (!playNowDecoder.check(value)) return playNowDecoder.decode(header) as DecodeResult<CommandPayload>;
  const command = value as PlayNowCommand;
  let offset = end + 1;
  const files: [FileAsset, number][] = [];
  for (const [i, asset] of command.assets.entries()) {
    if (!isFile(asset) || asset.attached !== true) continue;
    if (asset.data !== undefined) return { ok: false, error: `assets.${i}.data: not with attached bytes` };
    if (asset.bytes > MAX_INLINE_BYTES) {
      return { ok: false, error: `assets.${i}.bytes: at most ${MAX_INLINE_BYTES} when attached` };
    }
    files.push([asset, offset]);
    offset += asset.bytes;
  }
  if (offset !== buffer.byteLength) {
    const named = offset - end - 1;
    return {
      ok: false,
      error: `payload: ${buffer.byteLength - end - 1} bytes follow the JSON, its attached assets name ${named}`,
    };
  }
  for (const [asset, start] of files) attachments.set(asset, buffer.subarray(start, start + asset.bytes));
  return { ok: true, value: command };
}

export function encode(payload: StatusPayload | TelemetryPayload | PlanPayload | CommandPayload | AckPayload): string {
  return JSON.stringify(payload);
}
