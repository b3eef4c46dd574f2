/**
 * The admin password generated at the first start (no LOAXA_ADMIN_PASSWORD)
 * is printed once, in the start-up banner, and never in the JSON log, which
 * is kept and shipped; signing in with it opens only the password change.
 * The real server process, as `npm start` runs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers';
import { exited, killAll, serverProcess } from '../processes';
import { removeAtExit } from '../remove-at-exit';

afterAll(killAll);

describe('the generated admin password', () => {
  it('is in the banner once and nowhere in the log', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-genpass-'));
    removeAtExit(dataDir);
    const server = await serverProcess(dataDir, { password: null, logLevel: 'trace', capture: true });
    const child = server.start();
    const password = await waitFor(
      'the banner',
      () => /Tài khoản quản trị \/ admin:\s+admin \/ (\S+)/.exec(server.output())?.[1],
      30_000,
    );

    const logLines = () =>
      server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'));
    // Logged before the banner is printed: the line that announces the account, without its password.
    expect(logLines().filter((line) => line.includes(password))).toEqual([]);

    // Sign in with it: the account must choose its own password before anything else.
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({
      user: { username: 'admin', role: 'admin', mustChangePassword: true, communeId: 'default' },
    });

    // The province administrator is printed beside it, the same way.
    const province = /Tài khoản quản trị tỉnh \/ province admin:\s+(\S+) \/ (\S+)/.exec(server.output());
    expect(province?.[1]).toBe('tinh');
    const provincePassword = province![2]!;
    expect(logLines().filter((line) => line.includes(provincePassword))).toEqual([]);
    const provinceLogin = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tinh', password: provincePassword }),
    });
    expect(provinceLogin.status).toBe(200);
    expect(await provinceLogin.json()).toEqual({
      user: { username: 'tinh', role: 'admin', mustChangePassword: true, communeId: null },
    });

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    const lines = server.output().split('\n');
    const log = logLines();
    expect(log.map((line) => JSON.parse(line) as { msg: string }).map((entry) => entry.msg)).toContain(
      'first admin account created with a generated password: printed once in the start-up banner, ' +
        'to be changed at the first sign-in',
    );
    expect(log.filter((line) => line.includes(password))).toEqual([]);
    expect(lines.filter((line) => line.includes(password))).toHaveLength(1);
  }, 60_000);
});
