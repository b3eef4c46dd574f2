/** How the server talks MQTT, whether the broker is embedded or external. */
export interface PublishOptions {
  retain?: boolean;
  qos?: 0 | 1;
}

/**
 * A device's message. A promise says when it is stored: the broker acknowledges a QoS 1 message
 * (PUBACK) once it resolves, and not at all when it rejects, so the device keeps it and sends it again.
 */
export type InboundHandler = (
  topic: string,
  payload: Buffer,
  deviceId: string,
  meta?: InboundMeta,
) => void | Promise<void>;

/** What the broker tells about a message beyond its topic and bytes. */
export interface InboundMeta {
  /**
   * Its place in the broker's own order (a JetStream stream sequence, NATS mode): of two messages
   * of one device, the later has the larger. Several server instances may take one device's
   * messages at the same time; a status older than the one stored is then not applied.
   */
  seq?: number;
}

export interface MessageBus {
  /** A string is JSON (or ASCII); a Buffer is sent as is (live audio frames). */
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>;
  /** Messages published by authenticated devices. */
  onDeviceMessage(handler: InboundHandler): void;
  /** Called when a device's connection closes for any reason. */
  onDeviceDisconnect(handler: (deviceId: string, meta?: InboundMeta) => void): void;
  /** Called once the device's session is ready (after CONNACK). */
  onDeviceConnect(handler: (deviceId: string) => void): void;
  /** Drops a device's live connection (for revocation). */
  disconnect(deviceId: string): void;
  close(): Promise<void>;
}
