import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Asset } from '@loaxa/protocol';
import { startTestRadio, type TestRadio } from '../../test/radio';
import { NullPlayer, type PlayLogLine, type PlayStartLine } from './null-player';

let radio: TestRadio;
beforeAll(async () => {
  radio = await startTestRadio(600);
});
afterAll(() => radio.close());

const file: Asset = { sha256: 'a'.repeat(64), url: '/m/a.ogg', bytes: 10, durationMs: 200, format: 'ogg' };

function player() {
  const log = join(mkdtempSync(join(tmpdir(), 'loaxa-null-')), 'play.log');
  return {
    player: new NullPlayer(log),
    lines: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as PlayLogLine),
  };
}

describe('NullPlayer stream relay', () => {
  it('listens to the stream for its duration after the file, without credentials', async () => {
    const { player: p, lines } = player();
    const stream: Asset = { kind: 'stream', url: `${radio.url}/live`, durationMs: 1500 };
    const result = await p.play({ occurrenceId: 'o1', assets: [file, stream] }, new AbortController().signal);
    const [a, b] = lines();
    expect(a).toMatchObject({ occurrenceId: 'o1', sha256: file.sha256 });
    expect(b).toMatchObject({ occurrenceId: 'o1', stream: stream.url });
    expect(b!.endedAt - b!.startedAt).toBeGreaterThanOrEqual(1450);
    expect(b!.endedAt - b!.startedAt).toBeLessThan(2500);
    expect(b!.bytes).toBeGreaterThan(10_000); // ~14 chunks of 1,600 bytes
    expect(result.endedAt - result.startedAt).toBeGreaterThanOrEqual(1650);
    const listener = radio.listeners.find((l) => l.path === '/live')!;
    expect(listener.headers.authorization).toBeUndefined();
    await expect.poll(() => listener.closedAt).toBeDefined();
    expect(listener.closedAt! - listener.openedAt).toBeLessThan(2500);
  });

  it('re-connects when the stream drops mid-relay and still fills the duration', async () => {
    const { player: p, lines } = player();
    const stream: Asset = { kind: 'stream', url: `${radio.url}/drop-once`, durationMs: 2500 };
    await p.play({ occurrenceId: 'o2', assets: [stream] }, new AbortController().signal);
    const [line] = lines();
    expect(line!.endedAt - line!.startedAt).toBeGreaterThanOrEqual(2450);
    expect(radio.listeners.filter((l) => l.path === '/drop-once')).toHaveLength(2);
  });

  it('fails with the URL and the reason when the stream cannot be reached', async () => {
    const { player: p } = player();
    const missing: Asset = { kind: 'stream', url: `${radio.url}/nope`, durationMs: 5000 };
    const started = Date.now();
    await expect(p.play({ occurrenceId: 'o3', assets: [missing] }, new AbortController().signal)).rejects.toThrow(
      `stream ${radio.url}/nope could not be played: HTTP 404`,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused: Asset = { kind: 'stream', url: `http://127.0.0.1:${closed}/live`, durationMs: 5000 };
    await expect(p.play({ occurrenceId: 'o4', assets: [refused] }, new AbortController().signal)).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('stops relaying at once when preempted, and logs the cut', async () => {
    const { player: p, lines } = player();
    const controller = new AbortController();
    const stream: Asset = { kind: 'stream', url: `${radio.url}/live`, durationMs: 60_000 };
    const playing = p.play({ occurrenceId: 'o5', assets: [stream] }, controller.signal);
    setTimeout(() => controller.abort(new Error('preempted by emergency')), 400);
    await expect(playing).rejects.toThrow('preempted by emergency');
    const [line] = lines();
    expect(line).toMatchObject({ stream: stream.url, interrupted: true });
    expect(line!.endedAt - line!.startedAt).toBeLessThan(1500);
  });
});

describe('NullPlayer start log', () => {
  it('writes a line as each item starts, before any of it is heard, so a play cut short still leaves one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loaxa-null-'));
    const startLog = join(dir, 'starts.log');
    const p = new NullPlayer(join(dir, 'play.log'), undefined, { startLog });
    const controller = new AbortController();
    const playing = p.play({ occurrenceId: 'o6', assets: [{ ...file, durationMs: 60_000 }] }, controller.signal);
    await expect.poll(() => readFileSync(startLog, 'utf8')).toMatch(/"occurrenceId":"o6"/);
    controller.abort(new Error('power cut'));
    await expect(playing).rejects.toThrow('power cut');
    const starts = readFileSync(startLog, 'utf8').trim().split('\n');
    expect(starts.map((l) => JSON.parse(l) as PlayStartLine)).toEqual([
      { occurrenceId: 'o6', startedAt: expect.any(Number) },
    ]);
  });
});
