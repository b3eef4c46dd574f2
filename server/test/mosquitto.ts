/**
 * Debian's mosquitto, started by a test on a free loopback port with the
 * password and ACL files the server writes (see src/broker/mosquitto.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './helpers';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) =>
  fs.existsSync(p),
);

export interface TestMosquitto {
  url: string;
  dir: string;
  /** Environment that points the server at this broker and lets it manage the files. */
  serverEnv: Record<string, string>;
  /** Everything mosquitto logged so far. */
  log(): string;
  close(): Promise<void>;
}

export async function startMosquitto(): Promise<TestMosquitto> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-mosquitto-'));
  const port = await freePort();
  const file = (name: string) => path.join(dir, name);
  // Mosquitto refuses to start without the files; the server fills them in.
  fs.writeFileSync(file('passwd'), '', { mode: 0o640 });
  fs.writeFileSync(file('acl'), '', { mode: 0o640 });
  const conf = [
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${file('passwd')}`,
    `acl_file ${file('acl')}`,
    `pid_file ${file('mosquitto.pid')}`,
    'persistence false',
    // A device cannot take over another's session by sending its client id.
    'use_username_as_clientid true',
    // The server's own session must hold a burst of one ack per device (README: Running with Mosquitto).
    'max_queued_messages 1000000',
    // Nagle off on client sockets, as the README's configuration has it.
    'set_tcp_nodelay true',
    `listener ${port} 127.0.0.1`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'connection_messages true',
    // As root, mosquitto would switch to the "mosquitto" user and could not write its pid file here.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
  ];
  fs.writeFileSync(file('mosquitto.conf'), `${conf.join('\n')}\n`);
  let output = '';
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', file('mosquitto.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    'mosquitto to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${output}`);
      return fs.existsSync(file('mosquitto.pid')) && canConnect(port);
    },
    10_000,
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    serverEnv: {
      MQTT_URL: `mqtt://127.0.0.1:${port}`,
      MQTT_USERNAME: 'loaxa-server',
      MQTT_PASSWORD: 'server-broker-password',
      MOSQUITTO_PASSWORD_FILE: file('passwd'),
      MOSQUITTO_ACL_FILE: file('acl'),
      MOSQUITTO_PID_FILE: file('mosquitto.pid'),
    },
    log: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
