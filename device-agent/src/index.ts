export { Agent, createAgent, type AgentEvents, type AgentIo, type AgentSnapshot } from './agent';
export {
  AgentConfigSchema,
  ConfigError,
  DEFAULT_ACK_SPREAD_MS,
  loadConfig,
  parseConfig,
  validateConfig,
  type AgentConfig,
  type AgentConfigInput,
  type PlayerConfig,
} from './config';
export { systemClock, skewedClock, type Clock } from './clock/clock';
export { atInstant, waitUntil } from './clock/timer';
export type { AssetCache, CachedAsset } from './cache/cache';
export { FileCache } from './cache/file-cache';
export { MemoryCache } from './cache/memory-cache';
export type { Player, PlayItem, PlayResult } from './player/player';
export { NullPlayer, type PlayLogLine } from './player/null-player';
export { SimPlayer } from './player/sim-player';
export { VirtualSoundCard, type LiveSink } from './live/sinks';
export type { LiveStats } from './live/live-player';
export { createPlayer } from './player/create-player';
export { MemoryAckOutbox, type AckOutbox, type OutboxEntry } from './outbox/outbox';
export type { BackoffPolicy } from './link/backoff';
export type { Logger } from './logger';
export { AGENT_VERSION } from './version';
export { readSystemReadings, type SystemReadings } from './telemetry/system-readings';
export { AckJournal } from './ack/ack-journal';
export { AppendLog } from './state/append-log';
export { StateStore } from './state/state-store';
export { AlsaPlayer } from './player/alsa-player';
export { AmpControlledPlayer } from './player/amp-controlled-player';
export type { AmpSwitch } from './gpio/amp-switch';
export type { Mixer } from './mixer/mixer';
