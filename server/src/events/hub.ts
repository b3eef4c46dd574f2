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

export class EventHub extends EventEmitter<HubEvents> {
  constructor() {
    super();
    // Every open console tab adds listeners.
    this.setMaxListeners(0);
  }
}
