/**
 * The one typed client for the server's REST API (`/api/v1`).
 *
 * Request and response types come from ./api-types.ts, which is generated from
 * the server's OpenAPI document (web/scripts/api-types.ts) and checked against
 * the running server by web/test/api-contract.test.ts: when the server changes
 * a route, the type check of this file and of the pages says where.
 */
import type { paths } from './api-types';

export const API_BASE = '/api/v1';
export const EVENTS_URL = `${API_BASE}/events`;

// ---------------------------------------------------------------- types

type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';
type Path = keyof paths;

/** JSON body of the `status` answer of `method path`. */
export type ResponseOf<P extends Path, M extends Method, S extends number> =
  paths[P] extends Record<M, { responses: infer R }>
    ? S extends keyof R
      ? R[S] extends { content: { 'application/json': infer J } }
        ? J
        : never
      : never
    : never;

/** JSON request body of `method path`. */
export type BodyOf<P extends Path, M extends Method> =
  paths[P] extends Record<M, { requestBody: { content: { 'application/json': infer B } } }> ? B : never;

/** Query string of `method path`. */
export type QueryOf<P extends Path, M extends Method> =
  paths[P] extends Record<M, { parameters: { query?: infer Q } }> ? NonNullable<Q> : never;

export type User = ResponseOf<'/api/v1/session', 'get', 200>['user'];
export type Role = User['role'];
export const ROLES = ['admin', 'approver', 'editor', 'technician', 'viewer'] as const satisfies readonly Role[];

export type Device = ResponseOf<'/api/v1/devices', 'get', 200>[number];
export type Zone = ResponseOf<'/api/v1/zones', 'get', 200>[number];
export type NewDevice = BodyOf<'/api/v1/devices', 'post'>;
export type ProvisionedDevice = ResponseOf<'/api/v1/devices', 'post', 201>;
export type AgentConfig = ProvisionedDevice['agentConfig'];
export type DeviceChange = BodyOf<'/api/v1/devices/{id}', 'patch'>;
export type DeviceTelemetry = NonNullable<Device['telemetry']>;
export type DeviceLocation = NonNullable<Device['location']>;
/** The loudspeaker's answer to a volume or amplifier command. */
export type CommandOutcome = ResponseOf<'/api/v1/devices/{id}/volume', 'post', 200>;

export type Occurrence = ResponseOf<'/api/v1/occurrences/{id}', 'get', 200>;
export type OccurrenceSummary = ResponseOf<'/api/v1/occurrences', 'get', 200>[number];
export type DeliveryProblem = ResponseOf<'/api/v1/deliveries/problems', 'get', 200>[number];
export type OccurrenceQuery = QueryOf<'/api/v1/occurrences', 'get'>;
export type Delivery = Occurrence['deliveries'][number];
export type DeliveryStage = Delivery['stage'];
export type Priority = Occurrence['priority'];
export type BroadcastRequest = BodyOf<'/api/v1/broadcasts', 'post'>;
export type BroadcastCreated = ResponseOf<'/api/v1/broadcasts', 'post', 201>;

export type UserAccount = ResponseOf<'/api/v1/users', 'get', 200>[number];
export type NewUser = BodyOf<'/api/v1/users', 'post'>;
export type UserChange = BodyOf<'/api/v1/users/{username}', 'patch'>;
export type AuditEntry = ResponseOf<'/api/v1/audit', 'get', 200>[number];
export type AuditQuery = Omit<QueryOf<'/api/v1/audit', 'get'>, 'format'>;

export type ContentItem = ResponseOf<'/api/v1/content', 'get', 200>[number];
export type ContentKind = NonNullable<QueryOf<'/api/v1/content', 'get'>['kind']>;
export type ContentQuery = QueryOf<'/api/v1/content', 'get'>;
export type NewContent = BodyOf<'/api/v1/content', 'post'>;
export type TtsPreview = ResponseOf<'/api/v1/tts/preview', 'post', 200>;
export type UploadedAudio = ResponseOf<'/api/v1/audio', 'post', 201>;
export type Programme = ResponseOf<'/api/v1/programmes', 'get', 200>[number];
export type ProgrammeInput = BodyOf<'/api/v1/programmes', 'post'>;
export type Schedule = ResponseOf<'/api/v1/schedules', 'get', 200>[number];
export type ScheduleInput = BodyOf<'/api/v1/schedules', 'post'>;
export type ScheduleStatus = Schedule['status'];
export type ConflictReport = ResponseOf<'/api/v1/schedules/conflicts', 'post', 200>;
export type Conflict = ConflictReport['conflicts'][number];
export type CalendarEntry = ResponseOf<'/api/v1/calendar', 'get', 200>[number];
export type DeviceReport = ResponseOf<'/api/v1/reports/devices', 'get', 200>;
export type ZoneReport = ResponseOf<'/api/v1/reports/zones', 'get', 200>;
export type CommuneReport = ResponseOf<'/api/v1/reports/communes', 'get', 200>;
export type ReportQuery = Omit<QueryOf<'/api/v1/reports/devices', 'get'>, 'format'>;
export type ReportKind = 'devices' | 'zones' | 'communes';
export type SettingsView = ResponseOf<'/api/v1/settings', 'get', 200>;
export type SettingsPatch = BodyOf<'/api/v1/settings', 'put'>;
export type EngineTest = ResponseOf<'/api/v1/tts/engines/{id}/test', 'post', 200>;
export type DictionaryEntry = ResponseOf<'/api/v1/dictionary', 'get', 200>['entries'][number];

export type Commune = ResponseOf<'/api/v1/communes', 'get', 200>[number];
export type Bulletin = ResponseOf<'/api/v1/bulletins/{id}', 'get', 200>;
export type BulletinInput = BodyOf<'/api/v1/bulletins', 'post'>;
export type BulletinStatus = Bulletin['status'];
export type BulletinCommune = Bulletin['communes'][number];
export type BulletinHandling = BulletinCommune['status'];
export type BulletinDelivery = NonNullable<BulletinCommune['deliveries']>[number];
export type PlaceInput = BodyOf<'/api/v1/bulletins/{id}/place', 'post'>;

export type Alert = ResponseOf<'/api/v1/alerts', 'get', 200>[number];
export type AlertState = Alert['state'];
export type AlertArea = Alert['areas'][number];
export type AlertCommune = Alert['communes'][number];
export type AlertDecision = AlertCommune['decision'];
export type AlertCommuneStatus = AlertCommune['status'];
export type AlertFeed = ResponseOf<'/api/v1/alerts/feeds', 'get', 200>[number];
export type RefusedAlertFile = ResponseOf<'/api/v1/alerts/refused', 'get', 200>[number];
export type AlertRule = SettingsView['alertRules']['rules'][number];

export type LiveSession = ResponseOf<'/api/v1/live/{id}', 'get', 200>;
export type LiveRequest = BodyOf<'/api/v1/live', 'post'>;
export type LiveEndReason = NonNullable<LiveSession['endReason']>;
export type ZoneArea = NonNullable<Zone['area']>;

/** Live `approval` event: a schedule entered or left the approval queue. */
export interface ApprovalEvent {
  scheduleId: string;
  status: ScheduleStatus;
  title: string;
}

/** True only when A and B are the same union: keeps the runtime lists below complete. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const PRIORITIES = ['normal', 'priority', 'emergency'] as const;
export const BULLETIN_HANDLINGS = ['received', 'scheduled', 'aired', 'declined'] as const;
export const DELIVERY_STAGES = [
  'pending',
  'received',
  'ready',
  'started',
  'finished',
  'failed',
  'skipped',
  'preempted',
] as const;
const listsMatchServer: [
  Same<(typeof PRIORITIES)[number], Priority>,
  Same<(typeof DELIVERY_STAGES)[number], DeliveryStage>,
  Same<(typeof ROLES)[number], Role>,
  Same<(typeof BULLETIN_HANDLINGS)[number], BulletinHandling>,
] = [true, true, true, true];
void listsMatchServer;

/** Live events on GET /api/v1/events (Server-Sent Events). */
export interface DeviceEvent {
  id: string;
  online: boolean;
  lastSeen: string | null;
}

export interface DeliveryEvent {
  occurrenceId: string;
  deviceId: string;
  stage: DeliveryStage;
  at: string | null;
  detail: string | null;
}

/** The 403 `code` of every call but the password change while `User.mustChangePassword` holds. */
export const PASSWORD_CHANGE_REQUIRED = 'password-change-required';

/** Error body of every non-2xx answer. */
export type ApiErrorBody = ResponseOf<'/api/v1/devices', 'post', 409>;

// ---------------------------------------------------------------- errors

/**
 * A failed request. `status` is 0 when no answer came: the server could not
 * be reached (`network`) or did not answer in time (`timeout`; the request may
 * still have been carried out).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly kind: 'http' | 'network' | 'timeout';
  readonly field: string | undefined;
  /** The rest of the error body (e.g. a schedule conflict's `conflicts` and `total`). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    message: string,
    options: { kind?: ApiError['kind']; field?: string; detail?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.kind = options.kind ?? 'http';
    this.field = options.field;
    this.detail = options.detail ?? {};
  }

  /** No answer at all (unreachable or timed out). */
  get isNetwork(): boolean {
    return this.kind !== 'http';
  }
}

// ---------------------------------------------------------------- transport

let onUnauthorized: (() => void) | null = null;

/**
 * Counts sign-ins and sign-outs. A 401 means "this session is gone" only for a call made in the
 * current session: a call sent before a sign-out and answered after the next sign-in (a page's
 * poll in flight when the officer logged out and straight back in) must not end the new session.
 */
let sessionEpoch = 0;

/** Called whenever the API answers 401 on an authenticated call (session expired or revoked). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

function unauthorized(sentInEpoch: number): void {
  if (sentInEpoch === sessionEpoch) onUnauthorized?.();
}

let onPasswordChangeRequired: (() => void) | null = null;

/** Called when the API refuses a call until this session's password is changed. */
export function setPasswordChangeRequiredHandler(handler: (() => void) | null): void {
  onPasswordChangeRequired = handler;
}

interface RequestOptions {
  body?: unknown;
  /** 401 is an expected answer (login, session probe): do not treat it as "session lost". */
  expect401?: boolean;
  timeoutMs?: number;
  /** Hears the headers of a successful answer (a list's X-Total-Count). */
  onHeaders?: (headers: Headers) => void;
}

const DEFAULT_TIMEOUT_MS = 15_000;

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }

  const epoch = sessionEpoch;
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: timeoutSignal(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
    throw new ApiError(0, cause instanceof Error ? cause.message : String(cause), {
      kind: timedOut ? 'timeout' : 'network',
    });
  }

  if (response.status === 401 && !options.expect401) unauthorized(epoch);

  if (!response.ok) {
    const error = await readErrorBody(response);
    if (response.status === 403 && error.detail.code === PASSWORD_CHANGE_REQUIRED) onPasswordChangeRequired?.();
    throw new ApiError(response.status, error.message, {
      detail: error.detail,
      ...(error.field ? { field: error.field } : {}),
    });
  }
  options.onHeaders?.(response.headers);
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError(response.status, 'Invalid JSON in response');
  }
}

/** AbortSignal.timeout is missing from older phone browsers; they simply wait. */
function timeoutSignal(ms: number): AbortSignal | undefined {
  return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
}

async function readErrorBody(
  response: Response,
): Promise<{ message: string; field?: string; detail: Record<string, unknown> }> {
  try {
    const data = (await response.json()) as Partial<ApiErrorBody> & Record<string, unknown>;
    const message = typeof data.message === 'string' && data.message ? data.message : response.statusText;
    return typeof data.field === 'string' ? { message, field: data.field, detail: data } : { message, detail: data };
  } catch {
    return { message: response.statusText || `HTTP ${response.status}`, detail: {} };
  }
}

// ---------------------------------------------------------------- commune

/**
 * The commune a province user is looking at (the header's switcher,
 * commune.svelte.ts), or undefined for the whole province and for a commune
 * user (whose every call is their commune's). Lists of commune data ask for
 * it as `?commune=`, and creates send it as `commune`, here in one place.
 */
let communeFilter: () => string | undefined = () => undefined;

export function setCommuneFilter(get: () => string | undefined): void {
  communeFilter = get;
}

export function currentCommune(): string | undefined {
  return communeFilter();
}

/** A list's query, narrowed to the chosen commune unless it names one itself. */
function scoped<Q extends object>(query: Q): Q & { commune?: string } {
  const commune = communeFilter();
  if (!commune || (query as { commune?: string }).commune) return query;
  return { ...query, commune };
}

/**
 * A create's body: the form's own `commune` (asked for when the province
 * has several and none is chosen), else the chosen one, else none (the
 * server uses the caller's commune, or a province's only one).
 */
function inCommune<B extends object>(body: B): B {
  const own = (body as { commune?: string }).commune;
  if (own) return body;
  const { commune: _drop, ...rest } = body as B & { commune?: string };
  void _drop;
  const chosen = communeFilter();
  return (chosen ? { ...rest, commune: chosen } : rest) as B;
}

// ---------------------------------------------------------------- endpoints

export const api = {
  async login(username: string, password: string): Promise<{ user: User }> {
    const answer = await request<{ user: User }>('POST', '/session', { body: { username, password }, expect401: true });
    sessionEpoch++;
    return answer;
  },

  /** The current session's user, or null when not logged in. */
  async currentUser(): Promise<User | null> {
    try {
      const { user } = await request<{ user: User }>('GET', '/session', { expect401: true });
      return user;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },

  async logout(): Promise<void> {
    sessionEpoch++;
    await request('DELETE', '/session', { expect401: true });
  },

  devices(): Promise<Device[]> {
    return request('GET', `/devices${queryString(scoped({}))}`);
  },

  zones(): Promise<Zone[]> {
    return request('GET', `/zones${queryString(scoped({}))}`);
  },

  /** `languages` (the order a notice's versions play in there) defaults to Vietnamese only. */
  createZone(name: string, commune?: string, languages?: string[]): Promise<ResponseOf<'/api/v1/zones', 'post', 201>> {
    const body: BodyOf<'/api/v1/zones', 'post'> = inCommune({ name, commune, ...(languages ? { languages } : {}) });
    return request('POST', '/zones', { body });
  },

  renameZone(id: string, name: string): Promise<Zone> {
    const body: BodyOf<'/api/v1/zones/{id}', 'patch'> = { name };
    return request('PATCH', `/zones/${encodeURIComponent(id)}`, { body });
  },

  /** Sets the languages a notice's versions play in there, in this order. */
  setZoneLanguages(id: string, languages: string[]): Promise<Zone> {
    const body: BodyOf<'/api/v1/zones/{id}', 'patch'> = { languages };
    return request('PATCH', `/zones/${encodeURIComponent(id)}`, { body });
  },

  /** The codes an alert's <geocode> reaches the zone's loudspeakers by ("137", "MA_DVHC=137"). */
  setZoneGeocodes(id: string, geocodes: string[]): Promise<Zone> {
    const body: BodyOf<'/api/v1/zones/{id}', 'patch'> = { geocodes };
    return request('PATCH', `/zones/${encodeURIComponent(id)}`, { body });
  },

  /** The zone's area as [lat, lon] points (3 to 500); `null` removes it. */
  setZoneArea(id: string, area: ZoneArea | null): Promise<Zone> {
    const body: BodyOf<'/api/v1/zones/{id}', 'patch'> = { area };
    return request('PATCH', `/zones/${encodeURIComponent(id)}`, { body });
  },

  /** Refused (409) while a schedule targets the zone; its loudspeakers stay. */
  deleteZone(id: string): Promise<void> {
    return request('DELETE', `/zones/${encodeURIComponent(id)}`);
  },

  /** Sets exactly the zones a loudspeaker belongs to. */
  setDeviceZones(id: string, zones: string[]): Promise<ResponseOf<'/api/v1/devices/{id}/zones', 'put', 200>> {
    const body: BodyOf<'/api/v1/devices/{id}/zones', 'put'> = { zones };
    return request('PUT', `/devices/${encodeURIComponent(id)}/zones`, { body });
  },

  /** The answer holds the agent's secret: it is shown once and never again. */
  createDevice(body: NewDevice): Promise<ProvisionedDevice> {
    return request('POST', '/devices', { body: inCommune(body) });
  },

  revokeDevice(id: string): Promise<ResponseOf<'/api/v1/devices/{id}/revoke', 'post', 200>> {
    return request('POST', `/devices/${encodeURIComponent(id)}/revoke`);
  },

  /** Renames a loudspeaker and/or sets where it stands (`location: null` clears it). */
  updateDevice(id: string, body: DeviceChange): Promise<Device> {
    return request('PATCH', `/devices/${encodeURIComponent(id)}`, { body });
  },

  /** Waits up to 3 s for the loudspeaker's answer; `sent` means it gets the command when it connects. */
  setDeviceVolume(id: string, level: number): Promise<CommandOutcome> {
    const body: BodyOf<'/api/v1/devices/{id}/volume', 'post'> = { level };
    return request('POST', `/devices/${encodeURIComponent(id)}/volume`, { body });
  },

  /** On pins the amplifier relay on until switched off; off switches it off now. */
  setDeviceAmp(id: string, on: boolean): Promise<CommandOutcome> {
    const body: BodyOf<'/api/v1/devices/{id}/amp', 'post'> = { on };
    return request('POST', `/devices/${encodeURIComponent(id)}/amp`, { body });
  },

  /** A 3-second tone now, followed like any broadcast. */
  playTestTone(id: string): Promise<ResponseOf<'/api/v1/devices/{id}/test-tone', 'post', 202>> {
    return request('POST', `/devices/${encodeURIComponent(id)}/test-tone`);
  },

  /** Renders the speech on the server, which can take several seconds. */
  createBroadcast(broadcast: BroadcastRequest): Promise<BroadcastCreated> {
    return request('POST', '/broadcasts', { body: inCommune(broadcast), timeoutMs: 120_000 });
  },

  occurrence(id: string): Promise<Occurrence> {
    return request('GET', `/occurrences/${encodeURIComponent(id)}`);
  },

  /** Stops a broadcast wherever it still waits or plays; 409 once it has ended everywhere. */
  stopOccurrence(id: string): Promise<ResponseOf<'/api/v1/occurrences/{id}/stop', 'post', 202>> {
    return request('POST', `/occurrences/${encodeURIComponent(id)}/stop`);
  },

  /** Recent broadcasts, newest first (default: the last and next 24 hours). */
  occurrences(query: OccurrenceQuery = {}): Promise<OccurrenceSummary[]> {
    return request('GET', `/occurrences${queryString(scoped(query))}`);
  },

  /** One page of them with how many there are in all (a province has many communes' broadcasts). */
  async occurrencePage(query: OccurrenceQuery = {}): Promise<{ items: OccurrenceSummary[]; total: number }> {
    let total: number | null = null;
    const items = await request<OccurrenceSummary[]>('GET', `/occurrences${queryString(scoped(query))}`, {
      onHeaders: (headers) => {
        const value = Number(headers.get('x-total-count'));
        if (Number.isInteger(value) && value >= 0) total = value;
      },
    });
    return { items, total: total ?? items.length };
  },

  /** Failed and missed deliveries of every broadcast of the last 24 hours, newest first. */
  deliveryProblems(limit = 8): Promise<DeliveryProblem[]> {
    return request('GET', `/deliveries/problems${queryString(scoped({ limit: String(limit) }))}`);
  },

  users(): Promise<UserAccount[]> {
    return request('GET', '/users');
  },

  createUser(body: NewUser): Promise<ResponseOf<'/api/v1/users', 'post', 201>> {
    return request('POST', '/users', { body });
  },

  /** Disabling ends the account's sessions at once. */
  updateUser(username: string, body: UserChange): Promise<UserAccount> {
    return request('PATCH', `/users/${encodeURIComponent(username)}`, { body });
  },

  resetPassword(username: string, password: string): Promise<void> {
    const body: BodyOf<'/api/v1/users/{username}/password', 'put'> = { password };
    return request('PUT', `/users/${encodeURIComponent(username)}/password`, { body });
  },

  /** One's own password; this session continues, the others end. */
  changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const body: BodyOf<'/api/v1/session/password', 'put'> = { currentPassword, newPassword };
    return request('PUT', '/session/password', { body });
  },

  audit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return request('GET', `/audit${queryString(query)}`);
  },

  // ---- scheduling (content library, programmes, schedules, approvals)

  content(query: ContentQuery = {}): Promise<ContentItem[]> {
    return request('GET', `/content${queryString(scoped(query))}`);
  },

  /** A notice is rendered to speech before the answer: allow time. */
  createContent(body: NewContent): Promise<ContentItem> {
    return request('POST', '/content', { body: inCommune(body), timeoutMs: 120_000 });
  },

  /**
   * Uploads an audio file as multipart field "file" through XMLHttpRequest,
   * which (unlike fetch) reports upload progress: `onProgress(sent, total)`
   * while the bytes go, then `onSent()` once the server has them all and is
   * trimming and normalising them. `signal` aborts the upload.
   */
  uploadAudio(
    file: Blob,
    fileName: string,
    handlers: { onProgress?: (sent: number, total: number) => void; onSent?: () => void; signal?: AbortSignal } = {},
  ): Promise<UploadedAudio> {
    return sendMultipart('/audio', file, fileName, handlers);
  },

  deleteContent(id: string): Promise<void> {
    return request('DELETE', `/content/${encodeURIComponent(id)}`);
  },

  ttsPreview(body: BodyOf<'/api/v1/tts/preview', 'post'>): Promise<TtsPreview> {
    return request('POST', '/tts/preview', { body: inCommune(body), timeoutMs: 120_000 });
  },

  programmes(): Promise<Programme[]> {
    return request('GET', `/programmes${queryString(scoped({}))}`);
  },

  createProgramme(body: ProgrammeInput): Promise<Programme> {
    return request('POST', '/programmes', { body: inCommune(body) });
  },

  updateProgramme(id: string, body: BodyOf<'/api/v1/programmes/{id}', 'put'>): Promise<Programme> {
    return request('PUT', `/programmes/${encodeURIComponent(id)}`, { body });
  },

  schedules(): Promise<Schedule[]> {
    return request('GET', `/schedules${queryString(scoped({}))}`);
  },

  /** 409 when it overlaps another schedule on some loudspeaker (see `conflictsOf`). */
  createSchedule(body: ScheduleInput): Promise<Schedule> {
    return request('POST', '/schedules', { body: inCommune(body) });
  },

  /** Same checks as creating; 409 with the overlaps unless `onConflict: 'priority'`. */
  updateSchedule(id: string, body: ScheduleInput): Promise<Schedule> {
    return request('PUT', `/schedules/${encodeURIComponent(id)}`, { body });
  },

  /** For a new schedule (no `id`) the commune it would be in goes along. */
  checkConflicts(body: BodyOf<'/api/v1/schedules/conflicts', 'post'>): Promise<ConflictReport> {
    return request('POST', '/schedules/conflicts', { body: body.id === undefined ? inCommune(body) : body });
  },

  scheduleAction(id: string, action: 'submit' | 'cancel'): Promise<Schedule> {
    return request('POST', `/schedules/${encodeURIComponent(id)}/${action}`);
  },

  /** Approves exactly what the approver saw: 409 with the current schedule when anything changed since. */
  approveSchedule(schedule: Pick<Schedule, 'id' | 'reviewRevision'>): Promise<Schedule> {
    const body: BodyOf<'/api/v1/schedules/{id}/approve', 'post'> = { revision: schedule.reviewRevision };
    return request('POST', `/schedules/${encodeURIComponent(schedule.id)}/approve`, { body });
  },

  rejectSchedule(id: string, reason: string): Promise<Schedule> {
    const body: BodyOf<'/api/v1/schedules/{id}/reject', 'post'> = { reason };
    return request('POST', `/schedules/${encodeURIComponent(id)}/reject`, { body });
  },

  approvals(): Promise<Schedule[]> {
    return request('GET', `/approvals${queryString(scoped({}))}`);
  },

  calendar(from: string, to: string): Promise<CalendarEntry[]> {
    return request('GET', `/calendar${queryString(scoped({ from, to }))}`);
  },

  /** Cancels one future occurrence of a schedule; 409 once it has started. */
  cancelOccurrence(id: string): Promise<void> {
    return request('DELETE', `/occurrences/${encodeURIComponent(id)}`);
  },

  deviceReport(query: ReportQuery = {}): Promise<DeviceReport> {
    return request('GET', `/reports/devices${queryString(scoped(query))}`);
  },

  zoneReport(query: ReportQuery = {}): Promise<ZoneReport> {
    return request('GET', `/reports/zones${queryString(scoped(query))}`);
  },

  /** The province roll-up: one row per commune (a commune user gets their own). */
  communeReport(query: ReportQuery = {}): Promise<CommuneReport> {
    return request('GET', `/reports/communes${queryString(scoped(query))}`);
  },

  // ---- settings (loudness target, TTS engines and keys, abbreviation dictionary)

  settings(): Promise<SettingsView> {
    return request('GET', `/settings${queryString(scoped({}))}`);
  },

  /** Only the fields given change; `null` returns a setting to the server's environment value. */
  updateSettings(body: SettingsPatch): Promise<SettingsView> {
    return request('PUT', '/settings', { body: inCommune(body) });
  },

  /** Speaks a short phrase with one engine; a cloud engine may take a while. */
  testEngine(id: string): Promise<EngineTest> {
    return request('POST', `/tts/engines/${encodeURIComponent(id)}/test${queryString(scoped({}))}`, {
      timeoutMs: 90_000,
    });
  },

  dictionary(): Promise<DictionaryEntry[]> {
    return request<ResponseOf<'/api/v1/dictionary', 'get', 200>>('GET', `/dictionary${queryString(scoped({}))}`).then(
      (r) => r.entries,
    );
  },

  putAbbreviation(
    abbreviation: string,
    expansion: string,
  ): Promise<ResponseOf<'/api/v1/dictionary/{abbreviation}', 'put', 200>> {
    const body: BodyOf<'/api/v1/dictionary/{abbreviation}', 'put'> = inCommune({ expansion });
    return request('PUT', `/dictionary/${encodeURIComponent(abbreviation)}`, { body });
  },

  deleteAbbreviation(abbreviation: string): Promise<void> {
    return request('DELETE', `/dictionary/${encodeURIComponent(abbreviation)}${queryString(scoped({}))}`);
  },

  // ---- disaster alerts (CAP)

  /** The latest 100, newest first; a commune user gets only the alerts (and the row) of their commune. */
  alerts(): Promise<Alert[]> {
    return request('GET', '/alerts');
  },

  /**
   * A leader airs (`confirm`) or dismisses an alert that waits in a commune, for
   * exactly the revision they saw (409 with `current` when someone decided first).
   * A province user names the commune.
   */
  decideAlert(
    id: string,
    row: Pick<AlertCommune, 'communeId' | 'revision'>,
    action: 'confirm' | 'dismiss',
    asProvince = false,
  ): Promise<AlertCommune> {
    const body: BodyOf<'/api/v1/alerts/{id}/confirm', 'post'> = {
      revision: row.revision,
      ...(asProvince ? { commune: row.communeId } : {}),
    };
    return request('POST', `/alerts/${encodeURIComponent(id)}/${action}`, { body });
  },

  /** The CAP feeds polled and how their last read went (leaders). */
  /** CAP files refused whole (malformed or hostile), newest first. */
  refusedAlertFiles(): Promise<RefusedAlertFile[]> {
    return request('GET', '/alerts/refused');
  },

  alertFeeds(): Promise<AlertFeed[]> {
    return request('GET', '/alerts/feeds');
  },

  /** Province users only (403 otherwise); 409 when the feed is polled already. */
  addAlertFeed(url: string): Promise<AlertFeed> {
    const body: BodyOf<'/api/v1/alerts/feeds', 'post'> = { url };
    return request('POST', '/alerts/feeds', { body });
  },

  /** A feed added in Settings; those of LOAXA_CAP_FEEDS are refused (409). */
  removeAlertFeed(url: string): Promise<void> {
    return request('DELETE', `/alerts/feeds${queryString({ url })}`);
  },

  // ---- live broadcast (the officer's voice; the audio itself goes over liveAudioUrl's WebSocket)

  /** Sessions on air in the commune in view. */
  liveSessions(): Promise<LiveSession[]> {
    return request('GET', `/live${queryString(scoped({}))}`);
  },

  liveSession(id: string): Promise<LiveSession> {
    return request('GET', `/live/${encodeURIComponent(id)}`);
  },

  /**
   * Goes live: 409 `zones` with `current` while another session is on air there,
   * 409 `rules` with `ruleBreaks` in quiet hours (a leader resends with `overrideRules`).
   */
  goLive(body: LiveRequest): Promise<LiveSession> {
    return request('POST', '/live', { body: inCommune(body) });
  },

  /**
   * Ends exactly the revision seen: 409 with `current` once it changed or ended. With `group`,
   * every session of its group this user may see ends too (one officer live to several communes).
   */
  stopLive(session: Pick<LiveSession, 'id' | 'revision'>, options: { group?: boolean } = {}): Promise<LiveSession> {
    const body: BodyOf<'/api/v1/live/{id}/stop', 'post'> = {
      revision: session.revision,
      ...(options.group ? { group: true } : {}),
    };
    return request('POST', `/live/${encodeURIComponent(session.id)}/stop`, { body });
  },

  // ---- the province: communes and bulletins

  communes(): Promise<Commune[]> {
    return request('GET', '/communes');
  },

  createCommune(name: string): Promise<Commune> {
    const body: BodyOf<'/api/v1/communes', 'post'> = { name };
    return request('POST', '/communes', { body });
  },

  /** Compare-and-set: 409 with `current` when someone renamed it first. */
  renameCommune(commune: Pick<Commune, 'id' | 'revision'>, name: string): Promise<Commune> {
    const body: BodyOf<'/api/v1/communes/{id}', 'patch'> = { name, revision: commune.revision };
    return request('PATCH', `/communes/${encodeURIComponent(commune.id)}`, { body });
  },

  /** The codes an alert's <geocode> reaches every loudspeaker of the commune by; compare-and-set like a rename. */
  setCommuneGeocodes(commune: Pick<Commune, 'id' | 'revision'>, geocodes: string[]): Promise<Commune> {
    const body: BodyOf<'/api/v1/communes/{id}', 'patch'> = { geocodes, revision: commune.revision };
    return request('PATCH', `/communes/${encodeURIComponent(commune.id)}`, { body });
  },

  /** The province: every bulletin; a commune: its inbox. Newest first. */
  bulletins(): Promise<Bulletin[]> {
    return request('GET', '/bulletins');
  },

  bulletin(id: string): Promise<Bulletin> {
    return request('GET', `/bulletins/${encodeURIComponent(id)}`);
  },

  /** The text is rendered to speech before the answer: allow time. */
  createBulletin(body: BulletinInput): Promise<Bulletin> {
    return request('POST', '/bulletins', { body, timeoutMs: 120_000 });
  },

  /** Approves exactly the revision the approver saw (409 with `current` otherwise). */
  approveBulletin(bulletin: Pick<Bulletin, 'id' | 'revision'>): Promise<Bulletin> {
    const body: BodyOf<'/api/v1/bulletins/{id}/approve', 'post'> = { revision: bulletin.revision };
    return request('POST', `/bulletins/${encodeURIComponent(bulletin.id)}/approve`, { body, timeoutMs: 120_000 });
  },

  rejectBulletin(bulletin: Pick<Bulletin, 'id' | 'revision'>, reason: string): Promise<Bulletin> {
    const body: BodyOf<'/api/v1/bulletins/{id}/reject', 'post'> = { revision: bulletin.revision, reason };
    return request('POST', `/bulletins/${encodeURIComponent(bulletin.id)}/reject`, { body });
  },

  /** `row` is the commune's handling row (its revision); a province user acting for it names the commune. */
  placeBulletin(
    id: string,
    row: Pick<BulletinCommune, 'communeId' | 'revision'>,
    input: Pick<PlaceInput, 'at' | 'zones'>,
    asProvince = false,
  ): Promise<Bulletin> {
    const body: PlaceInput = { ...input, revision: row.revision, ...(asProvince ? { commune: row.communeId } : {}) };
    return request('POST', `/bulletins/${encodeURIComponent(id)}/place`, { body });
  },

  declineBulletin(
    id: string,
    row: Pick<BulletinCommune, 'communeId' | 'revision'>,
    reason: string,
    asProvince = false,
  ): Promise<Bulletin> {
    const body: BodyOf<'/api/v1/bulletins/{id}/decline', 'post'> = {
      reason,
      revision: row.revision,
      ...(asProvince ? { commune: row.communeId } : {}),
    };
    return request('POST', `/bulletins/${encodeURIComponent(id)}/decline`, { body });
  },
};

/** Processing a long upload (probe, trim, loudness, Opus) can take minutes on a small server. */
const UPLOAD_TIMEOUT_MS = 15 * 60_000;

function sendMultipart<T>(
  path: string,
  file: Blob,
  fileName: string,
  handlers: { onProgress?: (sent: number, total: number) => void; onSent?: () => void; signal?: AbortSignal },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('file', file, fileName);
    xhr.open('POST', API_BASE + path);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.withCredentials = true;
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.upload.onprogress = (event) =>
      handlers.onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.upload.onload = () => handlers.onSent?.();
    xhr.onerror = () => reject(new ApiError(0, 'network error during upload', { kind: 'network' }));
    xhr.ontimeout = () => reject(new ApiError(0, 'upload timed out', { kind: 'timeout' }));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    const epoch = sessionEpoch;
    xhr.onload = () => {
      if (xhr.status === 401) unauthorized(epoch);
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        // Handled below: a success must be JSON, an error falls back to the status text.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (data === null) reject(new ApiError(xhr.status, 'Invalid JSON in response'));
        else resolve(data as T);
        return;
      }
      const body = (data ?? {}) as Partial<ApiErrorBody>;
      const message = typeof body.message === 'string' && body.message ? body.message : xhr.statusText;
      reject(new ApiError(xhr.status, message, typeof body.field === 'string' ? { field: body.field } : {}));
    };
    if (handlers.signal?.aborted) return reject(new DOMException('upload cancelled', 'AbortError'));
    handlers.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** The WebSocket a live session's 20 ms Opus packets go over (same origin: the session cookie goes with it). */
export function liveAudioUrl(id: string, where: Pick<Location, 'protocol' | 'host'> = location): string {
  const scheme = where.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${where.host}${API_BASE}/live/${encodeURIComponent(id)}/audio`;
}

/** Link that downloads the audit log as CSV (the session cookie goes with it). */
export function auditCsvUrl(query: AuditQuery = {}): string {
  return `${API_BASE}/audit${queryString({ ...query, format: 'csv' })}`;
}

/** Link that downloads a report as CSV (the session cookie goes with it). */
export function reportCsvUrl(kind: ReportKind, query: ReportQuery = {}): string {
  return `${API_BASE}/reports/${kind}${queryString(scoped({ ...query, format: 'csv' }))}`;
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
