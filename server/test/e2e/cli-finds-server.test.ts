/**
 * `loaxa` finds the running server from the data directory alone: the real
 * server process on ports other than 8080/1883 writes its address into
 * LOAXA_DATA, and the CLI, given only LOAXA_DATA (no PORT), provisions through
 * it and says so. Stopped cleanly, the server removes the file and the CLI
 * writes to the database; killed, it leaves a file naming a dead pid, which
 * the CLI ignores.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sql, waitFor } from '../helpers';
import { exited, killAll, readDb, serverProcess } from '../processes';
import { removeAtExit } from '../remove-at-exit';

const run = promisify(execFile);
const LOAXA = path.resolve(import.meta.dirname, '../../bin/loaxa.mjs');
const PASSWORD = 'cli-finds-server-pass';

afterAll(killAll);

describe('loaxa finds the server through LOAXA_DATA', () => {
  it('uses the running server on its own ports, and the database only when none runs', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-cli-find-'));
    removeAtExit(dataDir);
    const server = await serverProcess(dataDir, { password: PASSWORD });
    expect(new URL(server.url).port).not.toBe('8080');
    // What an operator has in the shell: the data directory, and nothing about ports.
    // (With the suite on PostgreSQL, also where the database is: in production that is in the
    // same environment file as LOAXA_DATA.)
    const cliEnv: NodeJS.ProcessEnv = {
      ...process.env,
      LOAXA_DATA: dataDir,
      LOG_LEVEL: 'silent',
      ...(server.env.DATABASE_URL ? { DATABASE_URL: server.env.DATABASE_URL } : {}),
    };
    for (const name of ['PORT', 'MQTT_PORT', 'HOST', 'LOAXA_TOKEN', 'LOAXA_PUBLIC_URL']) delete cliEnv[name];
    const loaxa = (...args: string[]) => run(process.execPath, [LOAXA, ...args], { env: cliEnv });
    const addressFile = path.join(dataDir, 'server.json');

    const child = server.start();
    await waitFor('the server', async () => (await fetch(`${server.url}/api/v1/health`)).ok, 30_000);
    const address = JSON.parse(fs.readFileSync(addressFile, 'utf8')) as Record<string, unknown>;
    expect(address).toMatchObject({ url: server.url, mqttUrl: server.mqttUrl, pid: child.pid });
    expect(fs.statSync(addressFile).mode & 0o777).toBe(0o600);

    const added = await loaxa('device', 'add', 'loa-tim-thay');
    expect(JSON.parse(added.stdout)).toMatchObject({
      deviceId: 'loa-tim-thay',
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
    });
    expect(added.stderr).toContain(
      `loaxa: using the server at ${server.url} (found in ${addressFile}, pid ${child.pid})`,
    );
    // Through the server: its audit log has the CLI's change.
    const api = await server.adminApi();
    const audit = await api<{ actor: string; action: string; target: string }[]>('GET', '/api/v1/audit');
    expect(audit.body.map((e) => `${e.actor} ${e.action} ${e.target}`)).toContain('cli device.add loa-tim-thay');

    // A clean stop removes the address: the CLI then writes to the database and says why.
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(fs.existsSync(addressFile)).toBe(false);
    const offline = await loaxa('device', 'add', 'loa-ngoai-tuyen');
    expect(offline.stderr).toMatch(/no server runs \(no server has written .*server\.json\); writing to the database/);
    expect(JSON.parse(offline.stdout)).toMatchObject({ deviceId: 'loa-ngoai-tuyen' });

    // Killed: the file stays, naming a pid that no longer runs; the CLI ignores it.
    const killed = server.start();
    await waitFor('the server again', async () => (await fetch(`${server.url}/api/v1/health`)).ok, 30_000);
    killed.kill('SIGKILL');
    await exited(killed);
    expect(JSON.parse(fs.readFileSync(addressFile, 'utf8'))).toMatchObject({ pid: killed.pid });
    const stale = await loaxa('device', 'revoke', 'loa-tim-thay');
    expect(stale.stderr).toMatch(
      new RegExp(
        `no server runs \\(.*server\\.json names pid ${killed.pid}, which no longer runs\\); writing to the database`,
      ),
    );
    expect(
      (
        await readDb(
          dataDir,
          sql<{ id: string; revoked_at: number | null }>`SELECT id, revoked_at FROM devices ORDER BY id`,
        )
      ).map((r) => `${r.id}:${r.revoked_at === null ? 0 : 1}`),
    ).toEqual(['loa-ngoai-tuyen:0', 'loa-tim-thay:1']);
  }, 120_000);
});
