import { describe, expect, it } from 'vitest';
import { indexedMemoryPersistence } from './retained-index';

const publish = (topic: string, payload: string) =>
  ({
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: true,
    brokerId: 'b',
    brokerCounter: 1,
  }) as never;

async function topicsOf(stream: NodeJS.ReadableStream): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream as AsyncIterable<{ topic: string; payload: Buffer }>) {
    topics.push(`${packet.topic}=${packet.payload.toString()}`);
  }
  return topics.sort();
}

describe('retained messages indexed by topic', () => {
  it('finds exact topics directly, keeps wildcard patterns working, and forgets cleared topics', async () => {
    const p = indexedMemoryPersistence();
    await (p as unknown as { setup(broker: unknown): Promise<void> }).setup({});
    // Without a callback, Aedes' persistence returns a promise (how Aedes itself calls it).
    const store = p.storeRetained as unknown as (packet: never) => Promise<void>;
    for (let i = 0; i < 1000; i++) await store(publish(`loaxa/v1/dev/d${i}/plan`, `plan ${i}`));
    await store(publish('loaxa/v1/dev/d7/plan', 'plan 7 again'));
    await store(publish('loaxa/v1/dev/d8/plan', ''));

    expect(await topicsOf(p.createRetainedStreamCombi(['loaxa/v1/dev/d7/plan', 'loaxa/v1/dev/d9/plan']))).toEqual([
      'loaxa/v1/dev/d7/plan=plan 7 again',
      'loaxa/v1/dev/d9/plan=plan 9',
    ]);
    expect(await topicsOf(p.createRetainedStreamCombi(['loaxa/v1/dev/d8/plan', 'loaxa/v1/dev/nobody/plan']))).toEqual(
      [],
    );
    const all = await topicsOf(p.createRetainedStreamCombi(['loaxa/v1/dev/+/plan']));
    expect(all).toHaveLength(999);
    expect(all).toContain('loaxa/v1/dev/d7/plan=plan 7 again');
  });
});
