/**
 * Live broadcast through a real agent's ALSA path (issue 19): the server and a
 * loudspeaker agent (bin/loaxa-agent.mjs, `player: { type: 'alsa' }`) run as
 * their own processes; an officer in a real chromium, whose fake microphone
 * plays clicks 500 ms apart (scripts/bench-live/officer.ts), goes live to the
 * agent's zone. The agent's AlsaSink spawns `aplay` on a PCM of the ALSA
 * `file` plugin (slave `null`) defined in a private asoundrc (alsa-tap.ts), so
 * what aplay played lands in a raw file: the clicks must be in it, 500 ms apart.
 *
 * Then the officer's browser is closed, not a polite stop: the server ends the
 * session as dropped within seconds, the agent logs the session played to its
 * end frame, its aplay child exits (no aplay left whose parent is the agent),
 * the agent stays up and online, the delivery reaches `finished`, and nothing
 * plays on: the raw file stops growing once the session is over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinalStage, type DeliveryStage } from '@loaxa/protocol';
import { waitFor } from '../../../server/test/helpers';
import {
  devicesOnline,
  moveDataDir,
  provision,
  serverProcess,
  type ServerProcess,
} from '../../../server/test/processes';
import { startOfficer, writeClickWav, type Officer } from '../../../scripts/bench-live/officer';
import { onPath, requireTool, skipForEnvironment } from '../../../scripts/test/require-tool';
import { requireChromium } from '../../../web/test/e2e/rig';
import { alsaTap, childrenOf, clickOnsets, cmdline, readSamples, type AlsaTap } from './alsa-tap';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs');
const PASSWORD = 'live-alsa-test-password';
const ZONE = 'thon-a';
const SKIPS = 'live broadcast through the agent’s ALSA player';

const hasChromium = requireChromium(SKIPS);
const hasAplay = requireTool({
  tool: 'aplay',
  found: onPath('aplay'),
  install: 'apt-get install alsa-utils',
  skips: SKIPS,
});

interface Session {
  id: string;
  occurrenceId: string;
  endedAt: string | null;
  endReason: string | null;
  frames: number;
}
/** The agent's "live session played" log line: its LiveStats (live-player.ts) and pino's fields. */
interface PlayedLine {
  sessionId: string;
  played: number;
  endedBy?: string;
  /** Device time the player stopped, before its sink closed. */
  endedAt?: number;
  /** When it was logged: once the sink (aplay) has closed. */
  time: number;
  level: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited, sleep(5_000).then(() => 'timeout')])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

describe.skipIf(!hasChromium || !hasAplay)('a live session on a real agent’s ALSA player', () => {
  let dir: string;
  let tap: AlsaTap;
  let tapProblem: string | null = null;
  let server: ServerProcess;
  let serverChild: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let officer: Officer | undefined;
  let deviceId: string;
  let agentOut = '';
  const agentLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-live-alsa-'));
    tap = alsaTap(dir);
    tapProblem = tap.probe();
    if (tapProblem) return;

    const prov = await provision('live-alsa', 1);
    moveDataDir(prov.dataDir, path.join(dir, 'server'));
    const dataDir = path.join(dir, 'server');
    server = await serverProcess(dataDir, { password: PASSWORD, logLevel: 'warn', capture: true });
    serverChild = server.start();
    await waitFor(
      'the server to answer',
      async () => {
        if (serverChild!.exitCode !== null) throw new Error(`the server exited: ${server.output().slice(-2000)}`);
        return (await fetch(`${server.url}/api/v1/health`).catch(() => null))?.ok ?? false;
      },
      60_000,
    );

    const device = prov.devices[0]!;
    deviceId = device.deviceId;
    const config = path.join(dir, 'agent.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        deviceId: device.deviceId,
        secret: device.secret,
        serverUrl: server.url,
        mqttUrl: server.mqttUrl,
        dataDir: path.join(dir, 'agent-data'),
        player: { type: 'alsa', device: tap.device },
      }),
    );
    agent = spawn(process.execPath, [BIN, '--config', config, '--log-level', 'info'], {
      cwd: ROOT,
      env: tap.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    agent.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      agentOut = (agentOut + chunk).slice(-50_000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          agentLines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    agent.stderr!.setEncoding('utf8').on('data', (chunk: string) => (agentOut = (agentOut + chunk).slice(-50_000)));
    await waitFor(
      'the agent online',
      async () => {
        if (agent!.exitCode !== null) throw new Error(`the agent exited: ${agentOut.slice(-2000)}`);
        return (await devicesOnline(server)) === 1;
      },
      60_000,
      100,
    );
  }, 120_000);

  afterAll(async () => {
    await officer?.close().catch(() => {});
    await stopChild(agent);
    await stopChild(serverChild);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('plays the officer’s clicks through aplay, and stops cleanly when her browser is closed', async (ctx) => {
    if (tapProblem) skipForEnvironment(ctx, `${SKIPS}: the ALSA file plugin does not work here (${tapProblem})`);
    const api = await server.adminApi();
    const agentPid = agent!.pid!;
    const aplays = () => childrenOf(agentPid).filter((p) => p.comm === 'aplay');

    // --- the officer goes live and speaks ---------------------------------------------------
    const wav = path.join(dir, 'clicks.wav');
    writeClickWav(wav);
    try {
      officer = await startOfficer({ serverUrl: server.url, password: PASSWORD, wav, timeoutMs: 30_000 });
    } catch (err) {
      const message = (err as Error).message;
      if (/AudioEncoder|Opus/.test(message)) skipForEnvironment(ctx, `${SKIPS}: ${message}`);
      throw err;
    }
    const session = await officer.goLive({ zones: [ZONE], latencyMs: 400, title: 'Họp thôn qua loa ALSA' });
    await officer.speak(session.id);

    // The agent plays it through aplay on the tap, a child of the agent process.
    const player = await waitFor('the agent’s aplay', () => aplays().find((p) => p.state !== 'Z'), 15_000);
    const argv = cmdline(player.pid) ?? [];
    expect(argv.slice(argv.indexOf('-D'), argv.indexOf('-D') + 2)).toEqual(['-D', tap.device]);

    // What aplay wrote: the clicks, one every 500 ms.
    const onsets = await waitFor(
      'six clicks through ALSA',
      () => {
        const found = clickOnsets(readSamples(tap.file));
        return found.length >= 6 ? found : null;
      },
      20_000,
      100,
    ).catch((err: Error) => {
      const wrote = fs.existsSync(tap.file) ? fs.statSync(tap.file).size : 0;
      const clicks = clickOnsets(readSamples(tap.file)).length;
      throw new Error(`${err.message}: aplay wrote ${wrote} bytes to the tap, ${clicks} clicks`);
    });
    const gaps = onsets.slice(1).map((t, i) => Math.round(t - onsets[i]!));
    const onTime = gaps.filter((g) => Math.abs(g - 500) <= 30);
    expect(onTime.length, `gaps between clicks in what aplay wrote: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(
      gaps.length - 1,
    );

    // --- the officer's browser goes away --------------------------------------------------
    const closedAt = Date.now();
    await officer.close();
    officer = undefined;

    const ended = await waitFor(
      'the session to end',
      async () => {
        const s = (await api<Session>('GET', `/api/v1/live/${session.id}`)).body;
        return s.endedAt ? s : null;
      },
      10_000,
      100,
    );
    expect(ended.endReason).toBe('dropped');
    expect(Date.parse(ended.endedAt!) - closedAt).toBeLessThan(5_000);

    const played = await waitFor(
      'the agent’s “live session played”',
      () =>
        agentLines.find(
          (l): l is Record<string, unknown> & PlayedLine =>
            l.msg === 'live session played' && l.sessionId === session.id,
        ),
      10_000,
      100,
    );
    expect(played.endedBy).toBe('end-frame');
    expect(played.played).toBeGreaterThan(100);

    // aplay is gone: no process (not even a zombie) whose parent is the agent is an aplay.
    await waitFor('the agent’s aplay to exit', () => aplays().length === 0, 10_000, 100);
    expect(cmdline(player.pid)).toBeNull();

    const delivery = await waitFor(
      'the delivery to finish',
      async () => {
        const o = await api<{ deliveries: { deviceId: string; stage: DeliveryStage; detail: string | null }[] }>(
          'GET',
          `/api/v1/occurrences/${session.occurrenceId}`,
        );
        const d = o.body.deliveries.find((x) => x.deviceId === deviceId);
        return d && isFinalStage(d.stage) ? d : null;
      },
      10_000,
      100,
    );
    // A live play that ended by its end frame must have settled before the server's stop command
    // (1.4 s after the end) comes: else the agent reports it stopped by that command, preempted.
    expect(
      delivery.stage,
      `${delivery.detail ?? ''}; the agent logged the session played ${played.time - played.endedAt!} ms after its player stopped`,
    ).toBe('finished');

    // Nothing plays on: past the server's stop command (its latency budget + 1 s after the end),
    // the file aplay wrote has stopped growing and no new aplay has started.
    const size = fs.statSync(tap.file).size;
    await sleep(Math.max(0, Date.parse(ended.endedAt!) + 2_500 - Date.now()));
    await sleep(1_000);
    expect(fs.statSync(tap.file).size).toBe(size);
    expect(aplays()).toEqual([]);
    expect(agentLines.filter((l) => l.msg === 'live session played' && l.sessionId === session.id)).toHaveLength(1);

    // The agent is still up, online, and logged no error.
    expect(agent!.exitCode).toBeNull();
    expect(await devicesOnline(server)).toBe(1);
    expect(agentLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 60_000);
});
