/**
 * The console's live picture of the commune: devices, zones and the recent
 * broadcasts' deliveries, kept current by the server's event stream
 * (GET /api/v1/events, Server-Sent Events).
 *
 * Nothing may be missed across a dropped connection: whenever the stream
 * (re)opens, devices and every unfinished broadcast are fetched again, and
 * while it is down the same data is polled. Deliveries only move forward
 * (see stages.ts), so a late event or a stale fetch never undoes progress.
 */
import {
  api,
  ApiError,
  currentCommune,
  DELIVERY_STAGES,
  EVENTS_URL,
  type Delivery,
  type DeliveryEvent,
  type DeliveryStage,
  type Device,
  type DeviceEvent,
  type Occurrence,
  type Zone,
} from './api';
import { mergeDelivery, mergeOccurrence, summarise } from './stages';

export type LiveConnection = 'idle' | 'connecting' | 'open' | 'down';
export type LoadStatus = 'loading' | 'ready' | 'error';

export interface TrackedOccurrence {
  id: string;
  status: LoadStatus;
  occurrence: Occurrence | null;
}

const ZONE_ORDER = new Intl.Collator('vi', { numeric: true });

/** How many recent broadcasts stay listed. */
export const MAX_TRACKED = 12;
const TRACKED_KEY = 'loaxa.recentOccurrences';
/** Events for broadcasts not loaded yet (the stream can beat the POST answer). */
const MAX_BUFFERED_EVENTS = 500;
const POLL_WHILE_DOWN_MS = 10_000;
/**
 * Device events are applied together at most this often: after a power cut a
 * province's 15,000 loudspeakers reconnect within seconds, and each applying
 * alone would re-filter and re-sort the table 15,000 times.
 */
const DEVICE_EVENT_BATCH_MS = 250;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

class LiveStore {
  /**
   * Replaced, never changed in place (`$state.raw`): a deep proxy over 15,000
   * loudspeakers made every read of the table's filters cost a proxy trap per
   * field. A device event replaces that device's object (in a batch, see
   * DEVICE_EVENT_BATCH_MS); the id → position index makes each lookup O(1).
   */
  devices = $state.raw<Device[]>([]);
  zones = $state.raw<Zone[]>([]);
  devicesStatus = $state<LoadStatus>('loading');
  connection = $state<LiveConnection>('idle');
  tracked = $state<TrackedOccurrence[]>([]);
  /** Counts `approval` events (and stream re-opens): pages showing schedules reload when it moves. */
  approvalVersion = $state(0);
  /** Counts `bulletin` events (a province bulletin or a commune's handling of it changed). */
  bulletinVersion = $state(0);
  /** Counts `delivery` events (any broadcast): views of server-side summaries reload when it moves. */
  deliveryVersion = $state(0);

  #running = false;
  #source: EventSource | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #reconnectDelay = RECONNECT_MIN_MS;
  #pollTimer: ReturnType<typeof setInterval> | null = null;
  #buffered: DeliveryEvent[] = [];
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;
  /** Position of each device in `devices`, and each zone's name: kept with the lists they index. */
  #deviceAt = new Map<string, number>();
  #zoneNames = new Map<string, string>();
  /** Device events waiting for the next batch, the latest per device. */
  #pendingDevices = new Map<string, DeviceEvent>();
  #deviceBatchTimer: ReturnType<typeof setTimeout> | null = null;

  /** Starts loading and listening; call once signed in. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.tracked = readTrackedIds().map((id) => ({ id, status: 'loading', occurrence: null }));
    void this.refresh();
    this.#connect();
  }

  /** Stops listening and forgets everything (sign-out, session expired). */
  stop({ forgetRecent = false } = {}): void {
    this.#running = false;
    this.#source?.close();
    this.#source = null;
    this.#clearTimers();
    this.connection = 'idle';
    this.#setDevices([]);
    this.#setZones([]);
    this.devicesStatus = 'loading';
    this.tracked = [];
    this.#buffered = [];
    if (forgetRecent) writeTrackedIds([]);
  }

  /** Fetches devices, zones and unfinished broadcasts. Concurrent calls share one round. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        await Promise.all([this.#loadDevices(), ...this.#openTracked().map((t) => this.reload(t.id))]);
      } while (this.#refreshAgain && this.#running);
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * The commune in view changed (commune.svelte.ts): devices and zones are
   * fetched again for it, and the other commune's are not shown meanwhile.
   */
  rescope(): void {
    if (!this.#running) return;
    this.#setDevices([]);
    this.#setZones([]);
    this.devicesStatus = 'loading';
    void this.refresh();
  }

  /** Follows a broadcast just created; it goes to the top of the list. */
  track(id: string): void {
    const existing = this.tracked.find((t) => t.id === id);
    const others = this.tracked.filter((t) => t.id !== id);
    this.tracked = [existing ?? { id, status: 'loading', occurrence: null }, ...others].slice(0, MAX_TRACKED);
    writeTrackedIds(this.tracked.map((t) => t.id));
    void this.reload(id);
  }

  /**
   * Follows exactly these broadcasts (in this order, up to MAX_TRACKED), e.g.
   * what the deliveries list shows, whoever sent them; already loaded ones
   * keep their picture, new ones are fetched.
   */
  follow(ids: readonly string[]): void {
    const wanted = [...new Set(ids)].slice(0, MAX_TRACKED);
    const same = wanted.length === this.tracked.length && wanted.every((id, i) => this.tracked[i]?.id === id);
    if (same) return;
    const known = new Map(this.tracked.map((t) => [t.id, t]));
    this.tracked = wanted.map((id) => known.get(id) ?? { id, status: 'loading', occurrence: null });
    writeTrackedIds(wanted);
    for (const id of wanted) if (!known.has(id)) void this.reload(id);
  }

  untrack(id: string): void {
    this.tracked = this.tracked.filter((t) => t.id !== id);
    writeTrackedIds(this.tracked.map((t) => t.id));
  }

  async reload(id: string): Promise<void> {
    try {
      const fetched = await api.occurrence(id);
      const entry = this.tracked.find((t) => t.id === id);
      if (!entry) return;
      let occurrence = mergeOccurrence(entry.occurrence ?? undefined, fetched);
      for (const event of this.#takeBuffered(id)) {
        occurrence = { ...occurrence, deliveries: mergeDelivery(occurrence.deliveries, toDelivery(event)) };
      }
      entry.occurrence = occurrence;
      entry.status = 'ready';
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        // Gone from the server (e.g. database reset): stop showing it.
        this.untrack(id);
        return;
      }
      const entry = this.tracked.find((t) => t.id === id);
      if (entry && !entry.occurrence) entry.status = 'error';
    }
  }

  /** The loudspeaker with this id, null when it is not listed (O(1): the index, not a search). */
  device(id: string): Device | null {
    // Read the list first: a caller in an effect or a template then follows its changes.
    const devices = this.devices;
    const at = this.#deviceAt.get(id);
    return at === undefined ? null : (devices[at] ?? null);
  }

  deviceName(id: string): string {
    return this.device(id)?.name ?? id;
  }

  zoneName(id: string): string {
    void this.zones;
    return this.#zoneNames.get(id) ?? id;
  }

  // ------------------------------------------------------------ internals

  async #loadDevices(): Promise<void> {
    try {
      const [devices, zones] = await Promise.all([api.devices(), api.zones()]);
      if (!this.#running) return;
      this.#setDevices(devices);
      // Events that came while the list was on its way are as new as it, or newer.
      if (this.#pendingDevices.size) this.#applyDeviceEvents();
      // Village names in the alphabet's order ("Thôn Đông" after "Thôn Chợ", "Thôn 2" before "Thôn 10").
      this.#setZones([...zones].sort((a, b) => ZONE_ORDER.compare(a.name, b.name)));
      this.devicesStatus = 'ready';
    } catch {
      // Keep showing what we had; say so only if we never had anything.
      if (this.devicesStatus !== 'ready') this.devicesStatus = 'error';
    }
  }

  #setDevices(devices: Device[]): void {
    this.#deviceAt = new Map(devices.map((device, i) => [device.id, i]));
    this.devices = devices;
  }

  #setZones(zones: Zone[]): void {
    this.#zoneNames = new Map(zones.map((zone) => [zone.id, zone.name]));
    this.zones = zones;
  }

  /** The waiting device events, applied at once: one new list, each changed device a new object. */
  #applyDeviceEvents(): void {
    if (this.#deviceBatchTimer) clearTimeout(this.#deviceBatchTimer);
    this.#deviceBatchTimer = null;
    const pending = this.#pendingDevices;
    this.#pendingDevices = new Map();
    let next: Device[] | null = null;
    for (const event of pending.values()) {
      const at = this.#deviceAt.get(event.id);
      if (at === undefined) continue;
      const device = (next ?? this.devices)[at]!;
      const lastSeen = event.lastSeen ?? device.lastSeen;
      if (device.online === event.online && device.lastSeen === lastSeen) continue;
      next ??= this.devices.slice();
      next[at] = { ...device, online: event.online, lastSeen };
    }
    if (next) this.devices = next;
  }

  #openTracked(): TrackedOccurrence[] {
    return this.tracked.filter((t) => !t.occurrence || !summarise(t.occurrence.deliveries).done);
  }

  #connect(): void {
    if (!this.#running || this.#source) return;
    this.connection = 'connecting';
    const source = new EventSource(EVENTS_URL, { withCredentials: true });
    this.#source = source;

    source.addEventListener('open', () => {
      this.connection = 'open';
      this.#reconnectDelay = RECONNECT_MIN_MS;
      this.#stopPolling();
      // Whatever happened while we were away is fetched again.
      void this.refresh();
      this.approvalVersion++;
    });

    source.addEventListener('error', () => {
      if (!this.#running) return;
      this.connection = 'down';
      this.#startPolling();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gives up on HTTP errors (401, 5xx): retry ourselves, with backoff.
        source.close();
        this.#source = null;
        this.#scheduleReconnect();
      }
    });

    source.addEventListener('device', (message) => this.#onDevice(message));
    source.addEventListener('delivery', (message) => this.#onDelivery(message));
    source.addEventListener('approval', () => this.approvalVersion++);
    source.addEventListener('bulletin', () => this.bulletinVersion++);
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer) return;
    const delay = this.#reconnectDelay * (0.75 + Math.random() * 0.5);
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(async () => {
      this.#reconnectTimer = null;
      // A fetch first: if the session is gone, its 401 signs the console out.
      await this.refresh();
      this.#connect();
    }, delay);
  }

  #startPolling(): void {
    if (this.#pollTimer) return;
    this.#pollTimer = setInterval(() => void this.refresh(), POLL_WHILE_DOWN_MS);
  }

  #stopPolling(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = null;
  }

  #clearTimers(): void {
    this.#stopPolling();
    if (this.#deviceBatchTimer) clearTimeout(this.#deviceBatchTimer);
    this.#deviceBatchTimer = null;
    this.#pendingDevices.clear();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#reconnectDelay = RECONNECT_MIN_MS;
  }

  #onDevice(message: MessageEvent): void {
    const event = parseDeviceEvent(message.data);
    if (!event) return;
    if (this.devicesStatus === 'ready' && !this.#deviceAt.has(event.id)) {
      // A device we have not seen: fetch the list to learn its name and zones. While one commune of
      // the province is in view, the others' loudspeakers are not ours to list.
      if (currentCommune() === undefined) void this.refresh();
      return;
    }
    // (While the list loads, the event waits for it: applied if the device is on it.)
    this.#pendingDevices.set(event.id, event);
    if (this.devicesStatus === 'ready') {
      this.#deviceBatchTimer ??= setTimeout(() => this.#applyDeviceEvents(), DEVICE_EVENT_BATCH_MS);
    }
  }

  #onDelivery(message: MessageEvent): void {
    const event = parseDeliveryEvent(message.data);
    if (!event) return;
    this.deliveryVersion++;
    const entry = this.tracked.find((t) => t.id === event.occurrenceId);
    if (entry?.occurrence) {
      entry.occurrence.deliveries = mergeDelivery(entry.occurrence.deliveries, toDelivery(event));
      return;
    }
    this.#buffered.push(event);
    if (this.#buffered.length > MAX_BUFFERED_EVENTS)
      this.#buffered.splice(0, this.#buffered.length - MAX_BUFFERED_EVENTS);
  }

  #takeBuffered(occurrenceId: string): DeliveryEvent[] {
    const taken = this.#buffered.filter((event) => event.occurrenceId === occurrenceId);
    if (taken.length) this.#buffered = this.#buffered.filter((event) => event.occurrenceId !== occurrenceId);
    return taken;
  }
}

export const live = new LiveStore();

// ---------------------------------------------------------------- parsing

function parseJson(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string') return null;
  try {
    const value: unknown = JSON.parse(data);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function parseDeviceEvent(data: unknown): DeviceEvent | null {
  const value = parseJson(data);
  if (!value || typeof value.id !== 'string' || typeof value.online !== 'boolean') return null;
  return { id: value.id, online: value.online, lastSeen: optionalString(value.lastSeen) };
}

function parseDeliveryEvent(data: unknown): DeliveryEvent | null {
  const value = parseJson(data);
  if (!value || typeof value.occurrenceId !== 'string' || typeof value.deviceId !== 'string') return null;
  if (!(DELIVERY_STAGES as readonly unknown[]).includes(value.stage)) return null;
  return {
    occurrenceId: value.occurrenceId,
    deviceId: value.deviceId,
    stage: value.stage as DeliveryStage,
    at: optionalString(value.at),
    detail: optionalString(value.detail),
  };
}

function toDelivery(event: DeliveryEvent): Delivery {
  return { deviceId: event.deviceId, stage: event.stage, at: event.at, detail: event.detail };
}

// ---------------------------------------------------------------- persistence

function readTrackedIds(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(TRACKED_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string').slice(0, MAX_TRACKED) : [];
  } catch {
    return [];
  }
}

function writeTrackedIds(ids: string[]): void {
  try {
    localStorage.setItem(TRACKED_KEY, JSON.stringify(ids));
  } catch {
    // Not remembered across reloads; the list still works for this visit.
  }
}
