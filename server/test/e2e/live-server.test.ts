/**
 * Live broadcast, the server's side: an officer goes live to one zone, her
 * 20 ms Opus packets come over the WebSocket, and a loudspeaker of that zone
 * (a plain MQTT client here; the agent's player has its own tests) gets the
 * play-now with the session's live asset, then every frame once on its zone's
 * live topic, stamped to play a latency budget after it arrived and carrying
 * copies of the two packets before it (redundancy); a loudspeaker
 * of another zone gets nothing. Floor control, the broadcast rules, an
 * emergency cutting in, the end when the officer's connection drops, and the
 * recording in the media store are checked on the real server.
 */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLiveFrame, topics, type LiveFrame, type PlayNowCommand } from '@loaxa/protocol';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveFfmpeg } from '../../src/audio/ffmpeg';
import { signIn, startTestServer, waitFor, type TestServer } from '../helpers';
import { sendPaced, speak, tonePackets } from '../live-audio';

let server: TestServer;
const clients: MqttClient[] = [];

interface Session {
  id: string;
  revision: number;
  occurrenceId: string;
  endedAt: string | null;
  endReason: string | null;
  frames: number;
  devices: number;
  recording: { sha256: string; url: string; durationMs: number } | null;
}

/** A loudspeaker as the broker sees it: its commands and its zone's live frames, with when they came. */
async function loudspeaker(id: string, zone: string) {
  const { secret } = await server.services.registry.createDevice({ id, zones: [zone], communeId: 'default' });
  const client = await mqtt.connectAsync(server.mqttUrl, { clientId: id, username: id, password: secret, clean: true });
  clients.push(client);
  const commands: PlayNowCommand[] = [];
  const frames: { frame: LiveFrame; at: number }[] = [];
  client.on('message', (topic, payload) => {
    if (topic === topics.zoneLive(zone)) {
      const frame = decodeLiveFrame(payload);
      if (frame) frames.push({ frame, at: performance.timeOrigin + performance.now() });
    } else {
      commands.push(JSON.parse(payload.toString()) as PlayNowCommand);
    }
  });
  await client.subscribeAsync({ [topics.zoneCmd(zone)]: { qos: 1 }, [topics.zoneLive(zone)]: { qos: 0 } });
  return { commands, frames };
}

let thon1: Awaited<ReturnType<typeof loudspeaker>>;
let thon2: Awaited<ReturnType<typeof loudspeaker>>;

/** The office microphone: an `arecord` on PATH that "captures" a 440 Hz tone at the real pace (this machine has no sound card). */
function fakeArecord(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-arecord-'));
  const script = path.join(dir, 'arecord');
  fs.writeFileSync(
    script,
    `#!/bin/sh\nexec "${resolveFfmpeg().path}" -hide_banner -loglevel error -re -f lavfi ` +
      `-i sine=frequency=440:sample_rate=48000 -f s16le -ac 1 -ar 48000 pipe:1\n`,
    { mode: 0o755 },
  );
  return dir;
}

beforeAll(async () => {
  process.env.PATH = `${fakeArecord()}${path.delimiter}${process.env.PATH}`;
  server = await startTestServer({ LOAXA_LIVE_CAPTURE_DEVICE: 'plughw:1,0' });
  for (const name of ['Thôn 1', 'Thôn 2']) {
    expect((await server.api('POST', '/api/v1/zones', { name })).status).toBe(201);
  }
  thon1 = await loudspeaker('loa-thon-1', 'thon-1');
  thon2 = await loudspeaker('loa-thon-2', 'thon-2');
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync()));
  await server?.close();
});

describe('live broadcast on the server', () => {
  it('fans the officer’s frames out to her zone only, stamped a latency budget ahead, and records them', async () => {
    const started = await server.api<Session>('POST', '/api/v1/live', { zones: ['thon-1'], title: 'Họp khẩn' });
    expect(started.status).toBe(201);
    const session = started.body;
    expect(session).toMatchObject({ endedAt: null, devices: 1 });
    const play = await waitFor('the play-now with the live asset', () =>
      thon1.commands.find((c) => c.action === 'play-now'),
    );
    expect(play.assets).toEqual([
      {
        kind: 'live',
        sessionId: session.id,
        key: expect.any(Number) as number,
        topic: topics.zoneLive('thon-1'),
        durationMs: 60 * 60_000,
        latencyMs: 400,
      },
    ]);
    const key = (play.assets[0] as { key: number }).key;

    const ws = await speak(server.url, session.id, server.cookie);
    const sent = tonePackets(50); // one second
    await sendPaced(ws, sent);
    await waitFor('every frame at the loudspeaker', () => thon1.frames.length >= sent.length);
    const got = thon1.frames.slice(0, sent.length);
    expect(got.map((f) => f.frame.seq)).toEqual(sent.map((_, i) => i));
    expect(got.every((f) => f.frame.key === key && !f.frame.end)).toBe(true);
    const hex = (p: Uint8Array) => Buffer.from(p).toString('hex');
    expect(got.map((f) => hex(f.frame.opus))).toEqual(sent.map(hex));
    // Each frame carries copies of the two packets before it, newest first (none before the first).
    expect(got.map((f) => f.frame.redundant!.map(hex))).toEqual(
      sent.map((_, i) =>
        sent
          .slice(Math.max(0, i - 2), i)
          .reverse()
          .map(hex),
      ),
    );
    // Each frame plays 20 ms after the one before, on the server's clock, about the budget after it arrived.
    for (let i = 1; i < got.length; i++) {
      expect(got[i]!.frame.playAt - got[i - 1]!.frame.playAt).toBeGreaterThanOrEqual(20);
    }
    const leads = got.map((f) => f.frame.playAt - f.at);
    expect(Math.min(...leads)).toBeGreaterThan(100);
    expect(Math.max(...leads)).toBeLessThan(600);
    expect(thon2.frames).toEqual([]);
    expect(thon2.commands).toEqual([]);

    const stopped = await server.api<Session>('POST', `/api/v1/live/${session.id}/stop`, {
      revision: session.revision,
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ endReason: 'stopped', frames: 50 });
    const end = await waitFor('the end frame', () => thon1.frames.find((f) => f.frame.end));
    // The end frame protects the last two packets as well: it carries their copies.
    expect(end.frame).toMatchObject({ seq: 50, key });
    expect(end.frame.opus.byteLength).toBe(0);
    expect(end.frame.redundant!.map(hex)).toEqual([sent[49]!, sent[48]!].map(hex));
    await waitFor('the stop command', () => thon1.commands.some((c) => (c.action as string) === 'stop'));
    ws.close();
    // The recording is the occurrence's audio now: one second of what she said.
    const recording = stopped.body.recording!;
    expect(Math.abs(recording.durationMs - 1000)).toBeLessThanOrEqual(40);
    const media = await fetch(`${server.url}${recording.url}`, { headers: { cookie: server.cookie } });
    expect(media.status).toBe(200);
    expect(
      Buffer.from(await media.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('OggS');
    const occurrence = await server.api<{ sha256: string; title: string }>(
      'GET',
      `/api/v1/occurrences/${session.occurrenceId}`,
    );
    expect(occurrence.body).toMatchObject({ title: 'Họp khẩn' });
    expect(
      (await server.api('POST', `/api/v1/live/${session.id}/stop`, { revision: stopped.body.revision })).status,
    ).toBe(409);
    // Kept for later: the recording goes into the library like any uploaded audio, to replay or schedule.
    const saved = await server.api<{ id: string; durationMs: number }>('POST', '/api/v1/content', {
      kind: 'audio',
      title: 'Họp khẩn (ghi âm trực tiếp)',
      sha256: recording.sha256,
    });
    expect(saved.status).toBe(201);
    expect(saved.body.durationMs).toBe(recording.durationMs);
  });

  it('keeps one session per zone; an emergency by a leader cuts a normal one off, never the reverse', async () => {
    const normal = await server.api<Session>('POST', '/api/v1/live', { zones: ['thon-2'] });
    expect(normal.status).toBe(201);
    const again = await server.api<{ field: string; current: Session }>('POST', '/api/v1/live', { zones: ['thon-2'] });
    expect(again.status).toBe(409);
    expect(again.body.field).toBe('zones');
    expect(again.body.current.id).toBe(normal.body.id);

    const user = { username: 'bientap-live', password: 'bientap-mat-khau-1', role: 'editor' };
    expect((await server.api('POST', '/api/v1/users', user)).status).toBe(201);
    const editor = await signIn(server, user.username, user.password);
    expect((await editor('POST', '/api/v1/live', { zones: ['thon-1'], priority: 'emergency' })).status).toBe(403);

    const emergency = await server.api<Session>('POST', '/api/v1/live', { zones: ['thon-2'], priority: 'emergency' });
    expect(emergency.status).toBe(201);
    const preempted = await server.api<Session>('GET', `/api/v1/live/${normal.body.id}`);
    expect(preempted.body).toMatchObject({ endReason: 'preempted' });
    expect((await server.api('POST', '/api/v1/live', { zones: ['thon-2'] })).status).toBe(409);
    const done = await server.api<Session>('POST', `/api/v1/live/${emergency.body.id}/stop`, {
      revision: emergency.body.revision,
    });
    expect(done.body.endReason).toBe('stopped');
  });

  it('lets only the officer who went live speak, and ends the session within 2 s of her connection dropping', async () => {
    const started = await server.api<Session>('POST', '/api/v1/live', { zones: ['thon-1'] });
    const url = `${server.url.replace(/^http/, 'ws')}/api/v1/live/${started.body.id}/audio`;
    await expect(speak(server.url, started.body.id, '')).rejects.toThrow(/401/);
    const editor = { username: 'vanhoa-live', password: 'vanhoa-mat-khau-1', role: 'editor' };
    expect((await server.api('POST', '/api/v1/users', editor)).status).toBe(201);
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: editor.username, password: editor.password }),
    });
    const otherCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    await expect(speak(server.url, started.body.id, otherCookie)).rejects.toThrow(/403/);
    const crossSite = new WebSocket(url, { headers: { cookie: server.cookie, origin: 'https://evil.example' } });
    await expect(
      new Promise((resolve, reject) => {
        crossSite.once('open', resolve);
        crossSite.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      }),
    ).rejects.toThrow(/403/);

    const ws = await speak(server.url, started.body.id, server.cookie);
    await sendPaced(ws, tonePackets(10));
    const cut = Date.now();
    ws.terminate();
    const ended = await waitFor('the session to end', async () => {
      const s = await server.api<Session>('GET', `/api/v1/live/${started.body.id}`);
      return s.body.endedAt ? s.body : null;
    });
    expect(ended.endReason).toBe('dropped');
    expect(Date.parse(ended.endedAt!) - cut).toBeLessThan(2000);
  });

  it('refuses a normal session in the quiet hours naming the rule; an emergency goes through', async () => {
    const rules = await server.api('PUT', '/api/v1/settings', {
      rules: { quietHours: { start: '00:00', end: '23:59' } },
    });
    expect(rules.status).toBe(200);
    const refused = await server.api<{ field: string; message: string }>('POST', '/api/v1/live', { zones: ['thon-1'] });
    expect(refused.status).toBe(409);
    expect(refused.body.field).toBe('rules');
    expect(refused.body.message).toMatch(/^giờ yên tĩnh 00:00–23:59/);
    const emergency = await server.api<Session>('POST', '/api/v1/live', { zones: ['thon-1'], priority: 'emergency' });
    expect(emergency.status).toBe(201);
    await server.api('POST', `/api/v1/live/${emergency.body.id}/stop`, { revision: emergency.body.revision });
    expect((await server.api('PUT', '/api/v1/settings', { rules: null })).status).toBe(200);
  });

  it('speaks from the office microphone on the server machine, with no browser', async () => {
    const before = thon1.frames.length;
    const started = await server.api<Session & { source: string }>('POST', '/api/v1/live', {
      zones: ['thon-1'],
      source: 'line-in',
      title: 'Loa văn phòng',
    });
    expect(started.status).toBe(201);
    expect(started.body.source).toBe('line-in');
    await waitFor('a second of the microphone at the loudspeaker', () => thon1.frames.length - before >= 50);
    const heard = thon1.frames.slice(before, before + 50);
    expect(heard.map((f) => f.frame.seq)).toEqual(heard.map((_, i) => i));
    // The same redundancy, and nothing of the sessions before carried into this one.
    expect(heard.map((f) => f.frame.redundant!.length)).toEqual(heard.map((_, i) => Math.min(i, 2)));
    for (let i = 2; i < heard.length; i++) {
      expect(heard[i]!.frame.redundant!.map((p) => [...p])).toEqual(
        [heard[i - 1]!.frame.opus, heard[i - 2]!.frame.opus].map((p) => [...p]),
      );
    }
    // No one speaks over its WebSocket.
    await expect(speak(server.url, started.body.id, server.cookie)).rejects.toThrow(/409/);
    const stopped = await server.api<Session>('POST', `/api/v1/live/${started.body.id}/stop`, {
      revision: started.body.revision,
    });
    expect(stopped.body.endReason).toBe('stopped');
    expect(stopped.body.recording!.durationMs).toBeGreaterThan(900);
  });
});
