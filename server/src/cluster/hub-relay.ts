/**
 * Live events between server instances (issue 18): a console connected to any
 * instance sees what every instance did. Each instance relays its hub's events
 * to the others with PostgreSQL's NOTIFY on one channel and LISTENs on it on a
 * connection of its own, re-emitting the others' events to its own listeners
 * (SSE streams, the emergency catch-up).
 *
 * Events are batched (one NOTIFY per `flushMs` or per ~7 KB, under PostgreSQL's
 * 8,000-byte payload limit): an emergency to 10,000 loudspeakers makes tens of
 * thousands of delivery events. One instance's batches are sent one after the
 * other, so its events arrive in the order it emitted them.
 *
 * These are live notifications, not a record: everything they tell is stored
 * in the database too. While the listening connection is down (PostgreSQL
 * restarting) the other instances' events are missed; it reconnects every
 * second, and a console reloads what it shows from the API as usual.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlDb } from '../db/sql';
import type { EventHub, HubEvents } from '../events/hub';

export const EVENTS_CHANNEL = 'loaxa_events';
/** PostgreSQL refuses payloads of 8,000 bytes or more; leave room for the envelope. */
const MAX_BATCH_BYTES = 7_000;

interface Envelope {
  /** The instance that emitted them. */
  o: string;
  e: [keyof HubEvents, unknown][];
}

export interface HubRelayOptions {
  url: string;
  sqlDb: SqlDb;
  hub: EventHub;
  logger: Logger;
  /** How long events gather before one NOTIFY (default 20 ms). */
  flushMs?: number;
  /** This instance's name in pg_stat_activity (`loaxa-events:<name>`). */
  name?: string;
}

export class HubRelay {
  readonly instanceId = crypto.randomUUID();
  private listener: pg.Client | null = null;
  private pending: [keyof HubEvents, unknown][] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;
  private listening = false;

  private constructor(private readonly options: HubRelayOptions) {}

  /** Listens, then relays the hub's events; resolves once this instance hears the others. */
  static async start(options: HubRelayOptions): Promise<HubRelay> {
    const relay = new HubRelay(options);
    await relay.listen();
    options.hub.relayTo((event, data) => relay.enqueue(event, data));
    return relay;
  }

  /** True while the listening connection is up. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Sends what is queued, stops relaying and closes the listening connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.hub.relayTo(null);
    clearTimeout(this.reconnect);
    this.flush();
    await this.sending;
    const client = this.listener;
    this.listener = null;
    this.listening = false;
    await client?.end().catch(() => {});
  }

  private enqueue(event: keyof HubEvents, data: unknown): void {
    const bytes = JSON.stringify(data).length + event.length + 8;
    if (this.pendingBytes + bytes > MAX_BATCH_BYTES) this.flush();
    this.pending.push([event, data]);
    this.pendingBytes += bytes;
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 20);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const payload = JSON.stringify({ o: this.instanceId, e: this.pending } satisfies Envelope);
    this.pending = [];
    this.pendingBytes = 0;
    this.sending = this.sending.then(async () => {
      try {
        await sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${payload})`.execute(this.options.sqlDb.db);
      } catch (err) {
        this.options.logger.warn({ err }, 'live events: could not tell the other instances');
      }
    });
  }

  private async listen(): Promise<void> {
    const { url, logger, name } = this.options;
    const client = new pg.Client({
      connectionString: url,
      application_name: `loaxa-events${name ? `:${name}` : ''}`,
      keepAlive: true,
    });
    const lost = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.listening = false;
      if (this.stopped) return;
      logger.warn({ err }, 'live events: the listening connection was lost; reconnecting');
      void client.end().catch(() => {});
      this.retry();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
      this.receive(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.listener = client;
    this.listening = true;
  }

  private retry(): void {
    clearTimeout(this.reconnect);
    this.reconnect = setTimeout(() => {
      this.listen().catch((err: unknown) => {
        this.options.logger.warn({ err }, 'live events: could not listen again');
        this.retry();
      });
    }, 1_000);
  }

  private receive(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      this.options.logger.warn('live events: a notification that is not JSON was ignored');
      return;
    }
    if (envelope.o === this.instanceId || !Array.isArray(envelope.e)) return;
    for (const [event, data] of envelope.e) {
      try {
        this.options.hub.emitFromPeer(event, data as never);
      } catch (err) {
        this.options.logger.error({ err, event }, 'live events: a listener failed');
      }
    }
  }
}
