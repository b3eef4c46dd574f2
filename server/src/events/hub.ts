/** In-process fan-out of live events to the console (SSE) and other listeners. */
import { EventEmitter } from 'node:events';
import type { DeliveryStage } from '@loaxa/protocol';

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

/** A schedule moved in the approval workflow. */
export interface ApprovalEvent {
  scheduleId: string;
  status: string;
  title: string;
}

/**
 * A province bulletin, or a commune's handling of it, changed. `communeIds`
 * says whose inbox it touched (empty: the province only); streams send only
 * `{bulletinId}`, so a commune never learns which other communes were sent it.
 */
export interface BulletinEvent {
  bulletinId: string;
  communeIds: string[];
}

export interface HubEvents {
  device: [DeviceEvent];
  delivery: [DeliveryEvent];
  approval: [ApprovalEvent];
  bulletin: [BulletinEvent];
}

/** Where an instance's events also go: the other instances (cluster/hub-relay.ts). */
export type HubRelay = <K extends keyof HubEvents>(event: K, data: HubEvents[K][0]) => void;

export class EventHub extends EventEmitter<HubEvents> {
  private relay: HubRelay | null = null;

  constructor() {
    super();
    // Every open console tab adds listeners.
    this.setMaxListeners(0);
  }

  /** Every event emitted here from now on is also handed to `relay` (null: no longer). */
  relayTo(relay: HubRelay | null): void {
    this.relay = relay;
  }

  override emit<K extends keyof HubEvents>(event: K, ...args: HubEvents[K]): boolean {
    const heard = super.emit(event, ...(args as never));
    this.relay?.(event, args[0]);
    return heard;
  }

  /** An event another instance emitted: this instance's listeners only, not relayed back. */
  emitFromPeer<K extends keyof HubEvents>(event: K, data: HubEvents[K][0]): boolean {
    this.peerDepth++;
    try {
      return super.emit(event, ...([data] as never));
    } finally {
      this.peerDepth--;
    }
  }

  private peerDepth = 0;

  /**
   * Listens to this instance's own events only: work done once per event (a loudspeaker's
   * emergency catch-up, a metric counted once) must not be repeated by every instance that
   * hears it relayed. Consoles listen with on() and see every instance's events.
   */
  onLocal<K extends keyof HubEvents>(event: K, listener: (...args: HubEvents[K]) => void): this {
    return this.on(event, ((...args: HubEvents[K]) => {
      if (this.peerDepth === 0) listener(...args);
    }) as never);
  }
}
