/**
 * A loudspeaker whose player wants MP3, end to end: the real agent process
 * (bin/loaxa-agent.mjs, null player) configured with `audioFormat: "mp3"`
 * and an Ogg agent in the same zone, against the real server. A broadcast
 * scheduled before the MP3 node first came online (its rendition made by the
 * back-fill) and a play-now sent after: the MP3 node plays and caches the MP3
 * file of each, the Ogg node the Ogg file, both to "finished".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, sql, startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import type { PlayLogLine } from '../../src/player/null-player';
import { startNode, type TestNode } from './in-process';

const BIN = path.resolve(import.meta.dirname, '../../bin/loaxa-agent.mjs');
const ZONE = 'thon-mp3';

let server: TestServer;
let mp3Agent: ChildProcess | undefined;
let oggNode: TestNode | undefined;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  mp3Agent?.kill('SIGKILL');
  await oggNode?.agent.stop();
  await server?.close();
});

function readPlays(log: string): PlayLogLine[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlayLogLine);
}

describe('a node configured for MP3', () => {
  it('plays the MP3 rendition where an Ogg node in the same zone plays the Ogg file', async () => {
    const { registry, media } = server.services;
    await registry.createZone('Thôn MP3', 'default', ZONE);
    oggNode = await startNode(server, 'loa-ogg-1', { zone: ZONE });
    const { secret } = await registry.createDevice({ id: 'loa-mp3-1', zones: [ZONE], communeId: 'default' });
    await waitFor('the Ogg node online', async () => (await registry.getDevice('loa-ogg-1'))?.online, 15_000);

    // Scheduled while only the Ogg node is known to the server: no MP3 is made yet.
    const at = Date.now() + 20_000;
    const scheduled = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo theo lịch cho loa MP3.',
      zones: [ZONE],
      at: new Date(at).toISOString(),
    });
    expect(scheduled.status).toBe(201);
    const sourceOf = async (occurrenceId: string) =>
      (await row<{ sha256: string }>(server, sql`SELECT sha256 FROM occurrences WHERE id = ${occurrenceId}`))!.sha256;
    const scheduledOgg = await sourceOf(scheduled.body.occurrenceId);
    expect(await media.mp3RenditionOf(scheduledOgg)).toBeNull();

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-mp3-node-'));
    const playLog = path.join(dataDir, 'play.log');
    const configFile = path.join(dataDir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        deviceId: 'loa-mp3-1',
        secret,
        serverUrl: server.url,
        mqttUrl: server.mqttUrl,
        dataDir,
        audioFormat: 'mp3',
        player: { type: 'null', log: playLog },
      }),
    );
    const agentLog = fs.openSync(path.join(dataDir, 'agent.log'), 'a');
    mp3Agent = spawn(process.execPath, [BIN, '--config', configFile, '--log-level', 'warn'], {
      stdio: ['ignore', agentLog, agentLog],
    });
    await waitFor(
      'the MP3 node online, asking for MP3',
      async () =>
        (await registry.getDevice('loa-mp3-1'))?.online && (await registry.audioFormatOf('loa-mp3-1')) === 'mp3',
      30_000,
    );
    // The back-fill made the scheduled notice's MP3.
    const scheduledMp3 = await waitFor('the back-filled rendition', () => media.mp3RenditionOf(scheduledOgg), 15_000);

    const now = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo khẩn cho cả thôn.',
      zones: [ZONE],
      priority: 'emergency',
    });
    expect(now.status).toBe(201);
    const playNowOgg = await sourceOf(now.body.occurrenceId);
    const playNowMp3 = await media.mp3RenditionOf(playNowOgg);
    expect(playNowMp3).not.toBeNull();

    const stage = async (occurrenceId: string, deviceId: string) =>
      (
        await row<{ stage: string }>(
          server,
          sql`SELECT stage FROM deliveries WHERE occurrence_id = ${occurrenceId} AND device_id = ${deviceId}`,
        )
      )?.stage;
    const occurrences = [now.body.occurrenceId, scheduled.body.occurrenceId];
    await waitFor(
      'both broadcasts finished on both nodes',
      async () => {
        for (const o of occurrences) {
          if ((await stage(o, 'loa-mp3-1')) !== 'finished' || (await stage(o, 'loa-ogg-1')) !== 'finished')
            return false;
        }
        return true;
      },
      at - Date.now() + 30_000,
      200,
    );

    const played = (plays: PlayLogLine[], occurrenceId: string) =>
      plays.filter((p) => p.occurrenceId === occurrenceId && !p.interrupted).map((p) => p.sha256);
    const mp3Plays = readPlays(playLog);
    expect(played(mp3Plays, now.body.occurrenceId)).toEqual([playNowMp3!.sha256]);
    expect(played(mp3Plays, scheduled.body.occurrenceId)).toEqual([scheduledMp3.sha256]);
    const oggPlays = oggNode.plays();
    expect(played(oggPlays, now.body.occurrenceId)).toEqual([playNowOgg]);
    expect(played(oggPlays, scheduled.body.occurrenceId)).toEqual([scheduledOgg]);

    // What each node fetched: the MP3 files on one (its very first plan, sent before the server knew
    // what it asks for, may have had it fetch the Ogg file too), only Ogg files on the other.
    const cached = (dir: string) => fs.readdirSync(path.join(dir, 'cache')).filter((f) => /\.(ogg|mp3)$/.test(f));
    expect(cached(dataDir)).toEqual(
      expect.arrayContaining([`${playNowMp3!.sha256}.mp3`, `${scheduledMp3.sha256}.mp3`]),
    );
    expect(cached(dataDir)).not.toContain(`${playNowOgg}.ogg`);
    expect(cached(oggNode.dataDir)).toEqual(expect.arrayContaining([`${playNowOgg}.ogg`, `${scheduledOgg}.ogg`]));
    expect(cached(oggNode.dataDir).filter((f) => f.endsWith('.mp3'))).toEqual([]);
  }, 90_000);
});
