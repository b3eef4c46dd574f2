/**
 * A corrupted download, end to end: the real agent process against the real
 * server process, with a small HTTP proxy between them that flips one byte in
 * the middle of the first audio file it carries. The agent must notice the
 * sha256 mismatch, throw those bytes away, fetch the file again and play the
 * good copy exactly once: the corrupted bytes are never played nor cached.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stageRank, type AckStage } from '@loaxa/protocol';
import { sql, waitFor } from '../../../server/test/helpers';
import { readDb, serverProcess } from '../../../server/test/processes';
import type { PlayLogLine } from '../../src/player/null-player';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PASSWORD = 'corrupt-download-test-password';
const DEVICE = 'pole-corrupt';
const ZONE = 'thon-hong-file';
const FINAL = new Set(['finished', 'failed', 'skipped', 'preempted']);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** One `/media/` response the proxy passed on, as the agent received it. */
interface MediaResponse {
  path: string;
  status: number;
  bytes: number;
  /** Hash of the bytes sent to the agent (after the flip, for the corrupted one). */
  sentSha256: string;
  corrupted: boolean;
  /** When the whole response had been handed to the agent's socket. */
  sentAt: number;
}

interface FlippingProxy {
  url: string;
  media: MediaResponse[];
  close(): Promise<void>;
}

/**
 * Forwards every request to `target` unchanged (method, path, headers, body)
 * and every response back unchanged, except the first 200 for a `/media/`
 * GET: one byte in the middle of that body is flipped, length and headers kept.
 */
async function startFlippingProxy(target: string): Promise<FlippingProxy> {
  const media: MediaResponse[] = [];
  let flipped = false;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const upstream = http.request(new URL(url, target), { method: req.method, headers: req.headers }, (up) => {
      const status = up.statusCode ?? 502;
      if (req.method !== 'GET' || !url.startsWith('/media/')) {
        res.writeHead(status, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (chunk: Buffer) => chunks.push(chunk));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const corrupted = status === 200 && !flipped && body.length > 0;
        if (corrupted) {
          flipped = true;
          const middle = body.length >> 1;
          body.writeUInt8(body.readUInt8(middle) ^ 0xff, middle);
        }
        res.writeHead(status, up.headers);
        res.end(body, () =>
          media.push({
            path: url,
            status,
            bytes: body.length,
            sentSha256: sha256(body),
            corrupted,
            sentAt: Date.now(),
          }),
        );
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    media,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const children: ChildProcess[] = [];
let proxy: FlippingProxy | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
  await proxy?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a download corrupted on the way', () => {
  it('is discarded and fetched again, and only the good copy is played, once', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-corrupt-'));
    const server = await serverProcess(dataDir, { password: PASSWORD });
    children.push(server.start());
    await waitFor('server health', async () => (await fetch(`${server.url}/api/v1/health`)).ok, 30_000);
    const api = await server.adminApi();
    expect((await api('POST', '/api/v1/zones', { name: 'Thôn Hỏng File' })).status).toBe(201);
    const provisioned = await server.addDevice(DEVICE, ZONE);

    // HTTP (plan fetches, clock, media) goes through the proxy; MQTT stays direct to the broker.
    proxy = await startFlippingProxy(server.url);
    const agentDir = path.join(dataDir, 'agent');
    fs.mkdirSync(agentDir);
    const playLog = path.join(agentDir, 'play.log');
    const agentLog = path.join(agentDir, 'agent.log');
    const configFile = path.join(agentDir, 'agent.json');
    expect(provisioned.mqttUrl).toBe(server.mqttUrl);
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        ...provisioned,
        serverUrl: proxy.url,
        dataDir: agentDir,
        player: { type: 'null', log: playLog },
      }),
    );
    const agentLogFd = fs.openSync(agentLog, 'a');
    const agent = spawn(
      process.execPath,
      [path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs'), '--config', configFile, '--log-level', 'warn'],
      { stdio: ['ignore', agentLogFd, agentLogFd] },
    );
    children.push(agent);
    await waitFor(
      'agent online',
      async () => (await api<{ id: string; online: boolean }[]>('GET', '/api/v1/devices')).body[0]?.online,
      30_000,
    );

    // A notice planned a few seconds ahead: it reaches the agent in its plan, so its audio is downloaded.
    const at = Date.now() + 10_000;
    const post = await api('POST', '/api/v1/broadcasts', {
      text: 'Thông báo thử tải tệp hỏng.',
      zones: [ZONE],
      at: new Date(at).toISOString(),
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    const occurrenceId = post.body.occurrenceId as string;
    type Occurrence = { sha256: string; durationMs: number; deliveries: { deviceId: string; stage: string }[] };
    const occurrence = (await api<Occurrence>('GET', `/api/v1/occurrences/${occurrenceId}`)).body;
    const assetPath = `/media/${occurrence.sha256}.ogg`;

    const diagnostics = () =>
      `media through the proxy: ${JSON.stringify(proxy!.media)}; agent log: ${fs.readFileSync(agentLog, 'utf8')}`;
    const finalStage = await waitFor(
      'a final stage',
      async () => {
        const stage = (await api<Occurrence>('GET', `/api/v1/occurrences/${occurrenceId}`)).body.deliveries.find(
          (d) => d.deviceId === DEVICE,
        )?.stage;
        return stage && FINAL.has(stage) ? stage : null;
      },
      at - Date.now() + occurrence.durationMs + 30_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; ${diagnostics()}`);
    });
    expect(finalStage, diagnostics()).toBe('finished');

    // The proxy carried the file twice: first with a flipped byte, then intact.
    const fetched = proxy.media.filter((m) => m.path === assetPath);
    expect(fetched.length).toBeGreaterThanOrEqual(2);
    const [bad, ...rest] = fetched;
    expect(proxy.media[0]).toBe(bad);
    expect(bad!.corrupted).toBe(true);
    expect(bad!.sentSha256).not.toBe(occurrence.sha256);
    const good = rest.find((m) => m.status === 200 && m.sentSha256 === occurrence.sha256);
    expect(good, JSON.stringify(fetched)).toBeDefined();
    expect(good!.bytes).toBe(bad!.bytes);
    // The agent saw the mismatch itself (not a dropped connection) and retried.
    expect(fs.readFileSync(agentLog, 'utf8')).toMatch(/sha256 mismatch/);

    // One play, of the true file, after the good copy arrived.
    const plays = fs
      .readFileSync(playLog, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as PlayLogLine);
    expect(plays).toHaveLength(1);
    const [played] = plays;
    expect(played!.occurrenceId).toBe(occurrenceId);
    expect(played!.sha256).toBe(occurrence.sha256);
    expect(played!.interrupted).toBeUndefined();
    expect(played!.startedAt).toBeGreaterThanOrEqual(good!.sentAt);

    // The server's record: each stage once, finished and never failed; ready only after the bad copy.
    const acks = (
      await readDb(
        dataDir,
        sql<{
          stage: AckStage;
          at: number;
        }>`SELECT stage, at FROM acks WHERE device_id = ${DEVICE} AND ref_id = ${occurrenceId}`,
      )
    ).sort((a, b) => Number(a.at) - Number(b.at) || stageRank(a.stage) - stageRank(b.stage));
    const [delivery] = await readDb(
      dataDir,
      sql<{
        stage: string;
      }>`SELECT stage FROM deliveries WHERE occurrence_id = ${occurrenceId} AND device_id = ${DEVICE}`,
    );
    expect(acks.map((a) => a.stage)).toEqual(['received', 'ready', 'started', 'finished']);
    expect(delivery!.stage).toBe('finished');
    expect(acks.find((a) => a.stage === 'ready')!.at).toBeGreaterThan(bad!.sentAt);

    // The cache keeps only verified files: the true one, nothing partial, nothing with the flipped byte.
    const cacheDir = path.join(agentDir, 'cache');
    const cached = fs.readdirSync(cacheDir).filter((f) => fs.statSync(path.join(cacheDir, f)).isFile());
    expect(cached).toContain(`${occurrence.sha256}.ogg`);
    expect(cached.filter((f) => f.endsWith('.part'))).toEqual([]);
    for (const f of cached) {
      const hash = sha256(fs.readFileSync(path.join(cacheDir, f)));
      expect(hash).not.toBe(bad!.sentSha256);
      if (/^[0-9a-f]{64}\.(ogg|mp3)$/.test(f)) expect(`${hash}.${f.split('.')[1]}`).toBe(f);
    }
    console.info(
      `media fetches ${fetched.length} (${bad!.bytes} bytes each); re-fetched ${good!.sentAt - bad!.sentAt} ms after the corrupt copy; ` +
        `start offset ${played!.startedAt - at} ms`,
    );
  }, 120_000);
});
