/**
 * `loaxa nats-auth-init`: the NATS nodes' first authorization include, written by the compiled
 * command line as an operator runs it (README, Scaling), and never over an existing file.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { parseNatsAuthorization, RELOAD_PROBE_USER } from '../src/broker/nats';

const run = promisify(execFile);
const LOAXA = path.resolve(import.meta.dirname, '../bin/loaxa.mjs');

describe('loaxa nats-auth-init', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-nats-init-'));
  const file = path.join(dir, 'nats', 'loaxa-auth.conf');
  fs.mkdirSync(path.dirname(file)); // the operator's folder for it (the configuration checks it exists)
  const env = {
    ...process.env,
    LOAXA_DATA: path.join(dir, 'data'),
    MQTT_URL: 'mqtt://127.0.0.1:1883,mqtt://127.0.0.1:1884',
    NATS_URLS: 'nats://127.0.0.1:4222,nats://127.0.0.1:4223',
    NATS_AUTH_FILE: file,
    MQTT_USERNAME: 'loaxa-server',
    MQTT_PASSWORD: 'mot-mat-khau-dai-cua-may-chu',
  };

  it("writes the server's own user, whose password logs in, and nothing else", async () => {
    const { stderr } = await run(process.execPath, [LOAXA, 'nats-auth-init'], { env });
    expect(stderr).toContain(file);
    const users = parseNatsAuthorization(fs.readFileSync(file, 'utf8'));
    expect([...users.keys()].sort()).toEqual([RELOAD_PROBE_USER, 'loaxa-server'].sort());
    expect(await bcrypt.compare(env.MQTT_PASSWORD, users.get('loaxa-server')!)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  it('refuses to replace the file, which holds the devices once the server runs', async () => {
    const before = fs.readFileSync(file, 'utf8');
    await expect(run(process.execPath, [LOAXA, 'nats-auth-init'], { env })).rejects.toMatchObject({
      stderr: expect.stringContaining('exists already') as unknown,
    });
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('says what is missing', async () => {
    const withoutPassword: NodeJS.ProcessEnv = { ...env, NATS_AUTH_FILE: `${file}.2` };
    delete withoutPassword.MQTT_PASSWORD;
    await expect(run(process.execPath, [LOAXA, 'nats-auth-init'], { env: withoutPassword })).rejects.toMatchObject({
      stderr: expect.stringContaining('MQTT_PASSWORD') as unknown,
    });
  });
});
