import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type AckPayload } from '@loaxa/protocol';
import { StateStore } from './state-store';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loaxa-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ack = (occurrenceId: string, stage: AckPayload['stage']): AckPayload => ({
  v: PROTOCOL_VERSION,
  occurrenceId,
  stage,
  at: 1_700_000_000_000,
});

describe('StateStore', () => {
  it('tells how long a write has been on its way to disk (the watchdog stops on a wedged disk)', async () => {
    const store = new StateStore(join(dir, 'state'));
    expect(store.stalledForMs()).toBe(0);
    const written = store.write('plan', { planVersion: 1 });
    await new Promise((r) => setImmediate(r));
    expect(store.stalledForMs()).toBeGreaterThan(0);
    await written;
    expect(store.stalledForMs()).toBe(0);
  });

  it('reads back what it wrote, and nothing for a name never written', async () => {
    const store = new StateStore(join(dir, 'state'));
    expect(await store.read('plan')).toBeUndefined();
    await store.write('plan', { planVersion: 3 });
    expect(await new StateStore(join(dir, 'state')).read('plan')).toEqual({ planVersion: 3 });
    expect(await readdir(join(dir, 'state'))).toEqual(['plan.json']);
  });

  it('keeps the previous document when a write was cut off mid-way (stray or truncated temp file)', async () => {
    const store = new StateStore(dir);
    await store.write('outbox', { nextSeq: 2, entries: [{ seq: 1, ack: ack('o1', 'finished') }] });
    // Power lost while writing the next version: only the temp file is torn.
    const next = JSON.stringify({ nextSeq: 3, entries: [{ seq: 1 }, { seq: 2, ack: ack('o2', 'started') }] });
    await writeFile(join(dir, 'outbox.json.tmp'), next.slice(0, next.length / 2));

    const reopened = new StateStore(dir);
    expect(await reopened.read('outbox')).toEqual({ nextSeq: 2, entries: [{ seq: 1, ack: ack('o1', 'finished') }] });
    // The next write replaces the torn temp file and wins.
    await reopened.write('outbox', { nextSeq: 9, entries: [] });
    expect(JSON.parse(await readFile(join(dir, 'outbox.json'), 'utf8'))).toEqual({ nextSeq: 9, entries: [] });
    expect(await readdir(dir)).toEqual(['outbox.json']);
  });

  it('sets an unparseable document aside instead of failing the agent start', async () => {
    await writeFile(join(dir, 'plan.json'), '{"planVersion": 3, "ite');
    const store = new StateStore(dir);
    expect(await store.read('plan')).toBeUndefined();
    expect((await readdir(dir)).some((name) => name.startsWith('plan.json.corrupt-'))).toBe(true);
  });

  it('coalesces a burst of writes and resolves each once a value at least as new is durable', async () => {
    const store = new StateStore(dir);
    const writes = Array.from({ length: 50 }, (_, i) => store.write('acks-sent', { n: i }));
    await Promise.all(writes);
    await store.idle();
    expect(await store.read('acks-sent')).toEqual({ n: 49 });
  });
});
