/**
 * A loudspeaker provisioned as the README says makes sound: the agent
 * configuration the server hands out (API and CLI) plays through ALSA with the
 * amplifier and mixer defaults scripts/install-agent.sh writes. A silent
 * player is given only when asked for, and then the real agent says so in
 * every ack and in its status, and the device list marks it simulated.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, sql, startTestServer, waitFor, type TestServer } from '../helpers';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const LOAXA = path.join(ROOT, 'server/bin/loaxa.mjs');
const AGENT = path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs');
let server: TestServer;
let agent: ChildProcess | undefined;

beforeAll(async () => {
  server = await startTestServer();
  await server.services.registry.createZone('Thôn Một', 'default', 'thon-1');
});
afterAll(async () => {
  agent?.kill('SIGKILL');
  await server?.close();
});

/** The JSON template the Pi install script writes to /etc/loaxa/agent.json. */
function installScriptTemplate(): Record<string, unknown> {
  const script = fs.readFileSync(path.join(ROOT, 'scripts/install-agent.sh'), 'utf8');
  const json = /<<'JSON'\n([\s\S]*?)\nJSON\n/.exec(script)?.[1];
  if (!json) throw new Error('no JSON template in scripts/install-agent.sh');
  return JSON.parse(json) as Record<string, unknown>;
}

describe('provisioned agent configuration', () => {
  it('plays through the sound card with the install script’s defaults', async () => {
    const added = await server.api<{ agentConfig: Record<string, unknown> }>('POST', '/api/v1/devices', {
      id: 'loa-that',
      zones: ['thon-1'],
    });
    expect(added.status).toBe(201);
    const template = installScriptTemplate();
    for (const key of ['player', 'audioFormat', 'amp', 'mixer']) {
      expect({ key, value: added.body.agentConfig[key] }).toEqual({ key, value: template[key] });
    }
    expect(added.body.agentConfig.player).toMatchObject({ type: 'alsa' });

    const cli = await run(process.execPath, [LOAXA, 'device', 'add', 'loa-cli', '--zone', 'thon-1'], {
      env: { ...process.env, LOAXA_DATA: server.dataDir, PORT: new URL(server.url).port, LOG_LEVEL: 'silent' },
    });
    expect((JSON.parse(cli.stdout) as { player: unknown }).player).toEqual(template.player);
    const bad = run(process.execPath, [LOAXA, 'device', 'add', 'loa-x', '--player', 'loud'], {
      env: { ...process.env, LOAXA_DATA: server.dataDir, PORT: new URL(server.url).port, LOG_LEVEL: 'silent' },
    });
    await expect(bad).rejects.toMatchObject({ stderr: expect.stringMatching(/--player must be one of alsa, null/) });
  });

  it('gives a silent player only when asked, and that agent says so in every ack and its status', async () => {
    const added = await server.api<{ agentConfig: Record<string, unknown> & { player: { type: string } } }>(
      'POST',
      '/api/v1/devices',
      { id: 'loa-ban-thu', zones: ['thon-1'], player: 'null' },
    );
    expect(added.status).toBe(201);
    expect(added.body.agentConfig.player.type).toBe('null');

    const dir = fs.mkdtempSync(path.join(server.dataDir, 'agent-'));
    const configFile = path.join(dir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        ...added.body.agentConfig,
        dataDir: dir,
        player: { type: 'null', log: path.join(dir, 'play.log') },
      }),
    );
    agent = spawn(process.execPath, [AGENT, '--config', configFile, '--log-level', 'warn'], { stdio: 'ignore' });
    await waitFor(
      'the silent agent online',
      async () => (await server.services.registry.getDevice('loa-ban-thu'))?.online,
      20_000,
    );
    const devices = await server.api<{ id: string; simulated: boolean }[]>('GET', '/api/v1/devices');
    expect(devices.body.find((d) => d.id === 'loa-ban-thu')?.simulated).toBe(true);
    expect(devices.body.find((d) => d.id === 'loa-that')?.simulated).toBe(false);

    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo thử loa.',
      zones: ['thon-1'],
    });
    expect(post.status).toBe(201);
    const acks = await waitFor(
      'started and finished acked',
      async () => {
        const acked = await rows<{ stage: string; detail: string | null }>(
          server,
          sql`SELECT stage, detail FROM acks WHERE device_id = 'loa-ban-thu' AND ref_id = ${post.body.occurrenceId}
              ORDER BY received_at, stage`,
        );
        return acked.some((r) => r.stage === 'finished') ? acked : null;
      },
      30_000,
    );
    for (const stage of ['started', 'finished']) {
      expect(acks.find((a) => a.stage === stage)?.detail).toMatch(/simulated: null player, no sound/);
    }
  });
});
