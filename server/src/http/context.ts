import type { SqlDb } from '../db/sql';
import type { AlertService } from '../alerts/service';
import type { LiveService } from '../live/service';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { MessageBus } from '../broker/bus';
import type { DeviceRegistry } from '../devices/registry';
import type { EventHub } from '../events/hub';
import type { MediaStore } from '../media/store';
import type { UserService } from '../auth/users';
import type { CommuneService } from '../tenancy/communes';
import type { BulletinService } from '../bulletins/bulletins';
import type { BroadcastService } from '../broadcasts/service';
import type { Planner } from '../broadcasts/planner';
import type { TelemetryPayload } from '@loaxa/protocol';
import type { ServerMetrics } from '../metrics/metrics';
import type { AuditLog } from '../audit/audit-log';
import type { NoticeRenderer } from '../tts/render';
import type { TtsRegistry } from '../tts/registry';
import type { Scheduling } from '../schedule/scheduling';
import type { Settings } from '../settings/settings';
import type { AbbreviationDictionary } from '../tts/dictionary';

/** The services routes may use, decorated once on the Fastify instance. */
export interface AppServices {
  config: Config;
  /** This process among the server instances (one on SQLite; several may share PostgreSQL). */
  cluster: { instance: string; isLeader(): boolean };
  /** The store (db/sql.ts): SQLite in the data directory, or PostgreSQL with DATABASE_URL. */
  sql: SqlDb;
  bus: MessageBus;
  registry: DeviceRegistry;
  hub: EventHub;
  media: MediaStore;
  users: UserService;
  /** The province's communes (tenants); see tenancy/. */
  communes: CommuneService;
  /** The province's bulletins to the communes (TT39 source tier). */
  bulletins: BulletinService;
  alerts: AlertService;
  live: LiveService;
  broadcasts: BroadcastService;
  planner: Planner;
  telemetry: Map<string, TelemetryPayload>;
  logger: Logger;
  startedAt: number;
  /** The MQTT TCP port actually bound. */
  mqttPort: number;
  metrics: ServerMetrics;
  audit: AuditLog;
  renderer: NoticeRenderer;
  tts: TtsRegistry;
  /** Each commune's abbreviations: the one the renderer reads, so a change applies to the next render. */
  dictionary: AbbreviationDictionary;
  /** The commune's settings (loudness target, TTS engines and keys); changes apply at once. */
  settings: Settings;
  scheduling: Scheduling;
  /** Bearer token of the local operator CLI. */
  localToken?: { matches(token: string): boolean };
}
