/**
 * Production never runs the simulator: `loaxa serve` (the systemd unit's
 * command) starts on a fresh data directory, answers /api/v1/health and has no
 * loudspeakers — even with LOAXA_DEMO left at its default — while `npm start`'s
 * demo entry (scripts/dist/demo.mjs) still brings up its five simulated ones.
 * Both run the compiled JavaScript (scripts/build.mjs), not TypeScript.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../helpers';
import { exited } from '../processes';
import { removeAtExit } from '../remove-at-exit';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Health {
  status: string;
  version: string;
  devices: number;
  devicesOnline: number;
}

async function start(args: string[], prefix: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `loaxa-${prefix}-`));
  removeAtExit(dataDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    MQTT_PORT: String(await freePort()),
    LOAXA_DATA: dataDir,
    LOAXA_ADMIN_PASSWORD: 'serve-test-password',
    LOG_LEVEL: 'warn',
  };
  delete env.LOAXA_DEMO; // the default (on): the production entry must ignore it
  let output = '';
  const child = spawn(process.execPath, args, { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  children.push(child);
  const url = `http://127.0.0.1:${env.PORT}`;
  const health = async (): Promise<Health> => (await fetch(`${url}/api/v1/health`)).json() as Promise<Health>;
  return { child, dataDir, health, output: () => output };
}

describe('loaxa serve, the production entry', () => {
  it('starts on a fresh data directory, answers /api/v1/health and has zero loudspeakers', async () => {
    const server = await start([path.join(ROOT, 'server/bin/loaxa.mjs'), 'serve'], 'serve');
    const health = await waitFor('/api/v1/health', () => server.health(), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${server.output()}`);
    });
    expect(health).toMatchObject({ status: 'ok', devices: 0, devicesOnline: 0 });
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    // Nothing seeded, and no demo secrets written.
    expect(fs.existsSync(path.join(server.dataDir, 'demo-devices.json'))).toBe(false);
    expect(server.output()).toContain('Loa Xã đang chạy / is running');
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
  }, 60_000);

  it('is compiled JavaScript without the simulator in it, and the server package does not depend on either', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'server/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('@loaxa/firmware-sim');
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    const dist = path.join(ROOT, 'server/dist');
    // The current build's files (the previous build's chunks are kept a while for processes started from it).
    const { files } = JSON.parse(fs.readFileSync(path.join(dist, 'build-stamp.json'), 'utf8')) as { files: string[] };
    expect(files).toEqual(expect.arrayContaining(['loaxa.mjs', 'main.mjs']));
    for (const file of files) {
      const text = fs.readFileSync(path.join(dist, file), 'utf8');
      expect(text, file).not.toMatch(/firmware-sim\/src|from "tsx|startSimFleet|seedDemo/);
    }
  });
});

describe('npm start, the demo entry', () => {
  it('seeds a small province: three communes whose nine simulated loudspeakers come online', async () => {
    const demo = await start([path.join(ROOT, 'scripts/dist/demo.mjs')], 'demo');
    const online = await waitFor(
      'nine demo loudspeakers online',
      async () => {
        const h = await demo.health();
        return h.devicesOnline === 9 ? h : null;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${demo.output()}`);
    });
    expect(online.devices).toBe(9);
    expect(fs.existsSync(path.join(demo.dataDir, 'demo-devices.json'))).toBe(true);
    // The province administrator's account is printed beside the admin's; it sees the three communes.
    const printed = /province admin:\s+(\S+) \/ (\S+)/.exec(demo.output());
    expect(printed?.[1]).toBe('tinh');
    const url = `http://127.0.0.1:${new URL(/console:\s+(\S+)/.exec(demo.output())![1]!).port}`;
    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tinh', password: printed![2] }),
    });
    expect(login.status).toBe(200);
    // A generated password opens only the password change: read the communes as `admin`'s commune instead.
    const admin = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'serve-test-password' }),
    });
    const cookie = (admin.headers.get('set-cookie') ?? '').split(';')[0]!;
    const communes = (await (await fetch(`${url}/api/v1/communes`, { headers: { cookie } })).json()) as {
      name: string;
    }[];
    expect(communes.map((c) => c.name)).toEqual(['Xã Đông Sơn']);
    const devices = (await (await fetch(`${url}/api/v1/devices`, { headers: { cookie } })).json()) as unknown[];
    expect(devices).toHaveLength(3);
    demo.child.kill('SIGTERM');
    expect(await exited(demo.child)).toBe(0);
  }, 60_000);
});
