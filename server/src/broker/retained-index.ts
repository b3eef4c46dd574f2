/**
 * Aedes' in-memory persistence with an index of retained messages by topic.
 *
 * On every SUBSCRIBE, the stock persistence tests each subscription against
 * every retained message (each device's retained status and plan). A device
 * subscribes to three exact topics, so connecting N devices cost N × 2N
 * topic matches: 10,000 loudspeakers took over two minutes to come online.
 * Device subscriptions never use wildcards (the broker refuses them), so an
 * exact topic is looked up directly; a wildcard pattern (the server's own
 * subscriptions) still goes through the stock scan.
 */
import { Readable } from 'node:stream';
import memory from 'aedes-persistence';

type Persistence = ReturnType<typeof memory>;
type RetainedPacket = Parameters<Persistence['storeRetained']>[0];

const isExact = (pattern: string) => !pattern.includes('+') && !pattern.includes('#');

export function indexedMemoryPersistence(): Persistence {
  const persistence = memory();
  const retained = new Map<string, RetainedPacket>();

  const storeRetained = persistence.storeRetained.bind(persistence) as (
    packet: RetainedPacket,
    cb?: (err: Error | null | undefined) => void,
  ) => unknown;
  persistence.storeRetained = ((packet: RetainedPacket, cb?: (err: Error | null | undefined) => void) => {
    // Aedes stores only PUBLISH packets here. An empty retained payload clears the topic (MQTT 3.1.1 §3.3.1.3).
    const { topic, payload } = packet as RetainedPacket & { topic: string; payload: Buffer | string };
    if (payload.length === 0) retained.delete(topic);
    else retained.set(topic, { ...packet });
    return storeRetained(packet, cb);
  }) as Persistence['storeRetained'];

  const scan = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    if (!patterns.every(isExact)) return scan(patterns);
    const found = patterns.map((topic) => retained.get(topic)).filter((p): p is RetainedPacket => p !== undefined);
    return Readable.from(found);
  };
  return persistence;
}
