/**
 * A technician's journey: `loaxa device add` against the running server
 * prints an agent config; the real agent process (`loaxa-agent --config`,
 * null player) connects with it and plays a broadcast; `loaxa device revoke`
 * disconnects it and it is refused from then on.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { freePort, signInProvince, startTestServer, waitFor, type TestServer } from '../helpers';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const LOAXA = path.join(ROOT, 'server/bin/loaxa.mjs');
const AGENT = path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs');

let server: TestServer;
let agent: ChildProcess | null = null;

/** The server's warnings, as JSON lines: the broker logs each refused login. */
const logLines: { msg?: string; deviceId?: string }[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
    done();
  },
});

/** The server's environment as the command line sees it (its data, its port, its database). */
function cliEnv(): NodeJS.ProcessEnv {
  const { databaseUrl } = server.services.config;
  return {
    ...process.env,
    LOAXA_DATA: server.dataDir,
    PORT: new URL(server.url).port,
    LOG_LEVEL: 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

beforeAll(async () => {
  server = await startTestServer({}, { logger: createLogger('warn', false, logSink) });
  await server.services.registry.createZone('Thôn 1', 'default', 'thon-1');
});
afterAll(async () => {
  agent?.kill('SIGKILL');
  await server?.close();
});

describe('loaxa device add / revoke', () => {
  it('provisions a device whose agent plays a broadcast, then revokes it', async () => {
    const { stdout } = await run(
      process.execPath,
      [LOAXA, 'device', 'add', 'pole-7', '--zone', 'thon-1', '--name', 'Cụm loa chợ'],
      {
        env: cliEnv(),
      },
    );
    const config = JSON.parse(stdout) as Record<string, unknown>;
    expect(config).toMatchObject({
      deviceId: 'pole-7',
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
    });
    expect(await server.services.registry.getDevice('pole-7')).toMatchObject({
      name: 'Cụm loa chợ',
      zones: ['thon-1'],
    });

    const agentDir = path.join(server.dataDir, 'agent');
    fs.mkdirSync(agentDir);
    const playLog = path.join(agentDir, 'play.log');
    const configFile = path.join(agentDir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ ...config, dataDir: agentDir, player: { type: 'null', log: playLog } }),
    );
    agent = spawn(process.execPath, [AGENT, '--config', configFile, '--log-level', 'warn'], { stdio: 'ignore' });
    await waitFor('the agent online', async () => (await server.services.registry.getDevice('pole-7'))?.online, 20_000);

    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo thử.',
      zones: ['thon-1'],
    });
    expect(post.status).toBe(201);
    const line = await waitFor(
      'a line in the play log',
      () => fs.existsSync(playLog) && fs.readFileSync(playLog, 'utf8').trim(),
      20_000,
    );
    const played = JSON.parse(line.split('\n')[0]!) as {
      occurrenceId: string;
      sha256: string;
      startedAt: number;
      endedAt: number;
    };
    expect(played.occurrenceId).toBe(post.body.occurrenceId);
    const occurrence = await waitFor('finished', async () => {
      const o = await server.api<{ sha256: string; deliveries: { stage: string }[] }>(
        'GET',
        `/api/v1/occurrences/${post.body.occurrenceId}`,
      );
      return o.body.deliveries[0]?.stage === 'finished' ? o.body : null;
    });
    expect(played.sha256).toBe(occurrence.sha256);
    expect(played.endedAt).toBeGreaterThan(played.startedAt);

    const refusalsBefore = () =>
      logLines.filter((l) => l.msg === 'MQTT login refused' && l.deviceId === 'pole-7').length;
    const before = refusalsBefore();
    await run(process.execPath, [LOAXA, 'device', 'revoke', 'pole-7'], { env: cliEnv() });
    await waitFor(
      'the revoked agent offline',
      async () => (await server.services.registry.getDevice('pole-7'))?.online === false,
    );
    expect((await server.services.registry.getDevice('pole-7'))?.revoked).toBe(true);
    // The agent keeps retrying with backoff; the broker keeps refusing. Wait for a refused
    // attempt (not a fixed time): it proves the agent did try again, and was kept out.
    await waitFor('the agent’s next login refused', () => refusalsBefore() > before, 20_000);
    expect((await server.services.registry.getDevice('pole-7'))?.online).toBe(false);
  });

  it('refuses bad input with a message naming the problem', async () => {
    const dup = run(process.execPath, [LOAXA, 'device', 'add', 'pole-7'], { env: cliEnv() });
    await expect(dup).rejects.toMatchObject({ stderr: expect.stringMatching(/already exists/) });
    const zone = run(process.execPath, [LOAXA, 'device', 'add', 'pole-8', '--zone', 'nowhere'], { env: cliEnv() });
    await expect(zone).rejects.toMatchObject({ stderr: expect.stringMatching(/unknown zone.*nowhere/) });
    const bad = run(process.execPath, [LOAXA, 'device', 'add', 'bad/id'], { env: cliEnv() });
    await expect(bad).rejects.toMatchObject({ stderr: expect.stringMatching(/id/) });
    const none = run(process.execPath, [LOAXA, 'device', 'revoke', 'ghost'], { env: cliEnv() });
    await expect(none).rejects.toMatchObject({ stderr: expect.stringMatching(/no device with id ghost/) });
  });

  it('writes to the database when no server runs', async () => {
    // The server's address file names this (live) test process: put it aside, so no server is found.
    const addressFile = path.join(server.dataDir, 'server.json');
    fs.renameSync(addressFile, `${addressFile}.aside`);
    try {
      const closedPort = await freePort();
      const { stdout, stderr } = await run(process.execPath, [LOAXA, 'device', 'add', 'pole-9', '--zone', 'thon-1'], {
        env: { ...cliEnv(), PORT: String(closedPort) },
      });
      expect(stderr).toMatch(/no server runs .* writing to the database/);
      expect(JSON.parse(stdout)).toMatchObject({ deviceId: 'pole-9' });
      expect(await server.services.registry.getDevice('pole-9')).toMatchObject({ zones: ['thon-1'], revoked: false });
    } finally {
      fs.renameSync(`${addressFile}.aside`, addressFile);
    }
  });
});

describe('loaxa device add --commune', () => {
  /** Runs `loaxa device add` with these arguments; with `offline`, as if no server ran. */
  async function addDevice(args: string[], offline = false): Promise<{ stdout: string; stderr: string }> {
    if (!offline) return run(process.execPath, [LOAXA, 'device', 'add', ...args], { env: cliEnv() });
    const addressFile = path.join(server.dataDir, 'server.json');
    fs.renameSync(addressFile, `${addressFile}.aside`);
    try {
      const env = { ...cliEnv(), PORT: String(await freePort()) };
      return await run(process.execPath, [LOAXA, 'device', 'add', ...args], { env });
    } finally {
      fs.renameSync(`${addressFile}.aside`, addressFile);
    }
  }

  it('provisions into the named commune; with several communes and none named it says to give --commune', async () => {
    const province = await signInProvince(server);
    const created = await province<{ id: string }>('POST', '/api/v1/communes', { name: 'Xã Hòa Bình' });
    expect(created.status).toBe(201);
    const commune = created.body.id;
    await server.services.registry.createZone('Thôn 1', commune, 'hb-thon-1');

    const { stdout } = await addDevice(['pole-hb', '--commune', commune, '--zone', 'hb-thon-1']);
    expect(JSON.parse(stdout)).toMatchObject({ deviceId: 'pole-hb' });
    expect(await server.services.registry.getDevice('pole-hb')).toMatchObject({
      communeId: commune,
      zones: ['hb-thon-1'],
    });

    const unnamed = addDevice(['pole-x', '--zone', 'thon-1']);
    await expect(unnamed).rejects.toMatchObject({ stderr: expect.stringMatching(/commune: required.*--commune <id>/) });
    // A zone of another commune is as unknown as one that does not exist.
    const foreign = addDevice(['pole-x', '--commune', commune, '--zone', 'thon-1']);
    await expect(foreign).rejects.toMatchObject({ stderr: expect.stringMatching(/unknown zone.*thon-1/) });
    const nowhere = addDevice(['pole-x', '--commune', 'xa-nowhere']);
    await expect(nowhere).rejects.toMatchObject({ stderr: expect.stringMatching(/no commune with id xa-nowhere/) });
    expect(await server.services.registry.getDevice('pole-x')).toBeNull();
  });

  it('names the commune when writing to the database too', async () => {
    const unnamed = addDevice(['pole-db'], true);
    await expect(unnamed).rejects.toMatchObject({ stderr: expect.stringMatching(/commune: required.*--commune <id>/) });
    const { stdout } = await addDevice(['pole-db', '--commune', 'default', '--zone', 'thon-1'], true);
    expect(JSON.parse(stdout)).toMatchObject({ deviceId: 'pole-db' });
    expect(await server.services.registry.getDevice('pole-db')).toMatchObject({
      communeId: 'default',
      zones: ['thon-1'],
    });
  });
});
