/**
 * The runner with the agent's real downloader, file cache and playback: what the loudspeaker
 * plays, and what the run keeps, when a command carries its audio inline.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  attachedBytes,
  commandDecoder,
  encodeFramed,
  type AckPayload,
  type Asset,
  type FileAsset,
} from '@loaxa/protocol';
import { AckReporter } from '../ack/ack-reporter';
import { FileCache } from '../cache/file-cache';
import { systemClock } from '../clock/clock';
import { Downloader } from '../download/downloader';
import { silentLogger } from '../logger';
import { Playback } from '../playback/playback';
import type { PlayItem } from '../player/player';
import { OccurrenceRunner } from './occurrence-runner';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'loaxa-runner-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The asset as the agent gets it: base64 in JSON, or attached after it in a framed command. */
function received(asset: FileAsset, form: 'base64' | 'framed'): FileAsset {
  if (form === 'base64') return asset;
  const framed = encodeFramed({
    v: 1,
    commandId: 'cmd-1',
    issuedAt: 1,
    expiresAt: 2,
    action: 'play-now',
    occurrenceId: 'em-1',
    priority: 'emergency',
    assets: [asset],
  });
  const decoded = commandDecoder.decode(framed);
  if (!decoded.ok || decoded.value.action !== 'play-now') throw new Error('the framed command did not decode');
  return decoded.value.assets[0] as FileAsset;
}

describe('OccurrenceRunner with audio carried inline', () => {
  it.each(['base64', 'framed'] as const)(
    'plays the cached file and keeps no copy of the inline bytes (%s)',
    async (form) => {
      const audio = randomBytes(4_096);
      const sha256 = createHash('sha256').update(audio).digest('hex');
      const sent: FileAsset = {
        sha256,
        // Nothing listens here: the bytes must come from the command itself.
        url: `/media/${sha256}.ogg`,
        bytes: audio.byteLength,
        durationMs: 20,
        format: 'ogg',
        data: audio.toString('base64'),
      };
      const inline = received(sent, form);
      const played: PlayItem[] = [];
      const playback = new Playback(
        {
          play: async (item) => {
            played.push(item);
            return { startedAt: Date.now(), endedAt: Date.now() };
          },
        },
        systemClock,
        () => 100,
      );
      const acks: AckPayload[] = [];
      let finished: () => void = () => {};
      const done = new Promise<void>((resolve) => (finished = resolve));
      const runner = new OccurrenceRunner({
        acks: new AckReporter(systemClock, (ack) => {
          acks.push(ack);
          if (ack.stage === 'finished' || ack.stage === 'failed') finished();
        }),
        downloader: new Downloader({
          serverUrl: 'http://127.0.0.1:9',
          deviceId: 'loa-1',
          secret: 's',
          cache: new FileCache(dataDir),
          timeoutMs: 1_000,
        }),
        playback,
        clock: systemClock,
        logger: silentLogger(),
      });

      const spec = { occurrenceId: 'em-1', priority: 'emergency' as const, assets: [inline], startAt: null };
      expect(runner.launch(spec, 'command')).toBe(true);
      await done;

      expect(acks.map((a) => a.stage)).toEqual(['received', 'ready', 'started', 'finished']);
      expect(played).toHaveLength(1);
      const [item] = played;
      expect(item!.assets).toEqual([
        { sha256, url: inline.url, bytes: audio.byteLength, durationMs: 20, format: 'ogg' },
      ]);
      expect(await readFile(item!.filePaths![0]!)).toEqual(audio);
      // The command's own object is left as it came.
      expect(spec.assets[0]).toBe(inline);
      if (form === 'base64') expect(inline.data).toBe(audio.toString('base64'));
      else expect(attachedBytes(inline)).toEqual(audio);
      // The run is remembered for an hour (a late duplicate must not replay it), without the bytes.
      expect(runner.launch(spec, 'command')).toBe(false);
      expect(runner.phase('em-1')).toBe('done');
      const kept = JSON.stringify(
        [...(runner as unknown as { runs: Map<string, { spec: unknown }> }).runs.values()].map((r) => r.spec),
      );
      expect(kept).toContain(sha256);
      expect(kept).not.toContain(audio.toString('base64').slice(0, 64));
      expect(kept).not.toContain('attached');
      const remembered = (runner as unknown as { runs: Map<string, { spec: { assets: Asset[] } }> }).runs.get('em-1');
      expect(attachedBytes(remembered!.spec.assets[0] as FileAsset)).toBeUndefined();
    },
  );
});
