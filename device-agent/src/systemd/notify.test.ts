/**
 * sd_notify against a fake NOTIFY_SOCKET: a unix datagram socket the test
 * binds with python3 (Node has no unix datagram sockets), fed by the real
 * `systemd-notify` program, as systemd itself would be.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { requireTool } from '../../../scripts/test/require-tool';
import { notifyMessage, startWatchdog, SystemdNotifier, watchdogIntervalMs } from './notify';

const AGENT_BIN = path.resolve(import.meta.dirname, '../../bin/loaxa-agent.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const skips = 'fake NOTIFY_SOCKET tests (only message building and the no-op path run)';
const havePython = requireTool({
  tool: 'python3',
  found: () => works('python3', ['-c', 'import socket; socket.AF_UNIX']),
  install: 'apt-get install python3',
  skips,
});
const haveSystemdNotify = requireTool({
  tool: 'systemd-notify',
  found: () => works('systemd-notify', ['--version']),
  install: 'apt-get install systemd',
  skips,
});
const canFakeSocket = havePython && haveSystemdNotify;

/** Binds a unix datagram socket and prints each datagram as a JSON string line; fds passed for BARRIER=1 are closed. */
const RECEIVER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps(msg.decode("utf8", "replace")), flush=True)
`;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A fake systemd notify socket; `messages` are the datagrams, BARRIER=1 sync messages left out. */
async function fakeNotifySocket(): Promise<{ path: string; messages: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-notify-'));
  const socketPath = path.join(dir, 'notify.sock');
  const child = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const messages: string[] = [];
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as string;
    if (message === 'listening') listening();
    else if (message !== 'BARRIER=1') messages.push(message);
  });
  await ready;
  return { path: socketPath, messages };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('sd_notify messages', () => {
  it.each([
    [{ READY: 1 }, 'READY=1'],
    [{ READY: 1, STATUS: 'online' }, 'READY=1\nSTATUS=online'],
    [{ STATUS: 'two\nlines' }, 'STATUS=two lines'],
    [{ WATCHDOG: 1 }, 'WATCHDOG=1'],
  ])('%j → %j', (fields, message) => {
    expect(notifyMessage(fields)).toBe(message);
  });

  it('refuses a key that is not VARIABLE-like', () => {
    expect(() => notifyMessage({ 'bad key': 1 })).toThrow(/not VARIABLE-like/);
  });

  it.each([
    [{}, null],
    [{ WATCHDOG_USEC: '30000000' }, 15_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, 15_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, null],
    [{ WATCHDOG_USEC: 'soon' }, null],
  ])('watchdog interval for %j is %s ms (pid 4242)', (env, ms) => {
    expect(watchdogIntervalMs(env, 4242)).toBe(ms);
  });
});

describe('outside systemd (no NOTIFY_SOCKET)', () => {
  it('sends nothing and runs nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-notify-noop-'));
    const marker = path.join(dir, 'ran');
    const script = path.join(dir, 'fake-systemd-notify');
    fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> ${marker}\n`, { mode: 0o755 });
    const notifier = new SystemdNotifier({ env: { PATH: process.env.PATH }, command: script });
    expect(notifier.enabled).toBe(false);
    expect(await notifier.send({ READY: 1 })).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
    // And with it set, the same program is run with one VARIABLE=VALUE argument per field.
    const enabled = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent' }, command: script });
    expect(await enabled.send({ READY: 1, STATUS: 'online' })).toBe(true);
    expect(fs.readFileSync(marker, 'utf8')).toBe('READY=1 STATUS=online\n');
  });
});

describe.skipIf(!canFakeSocket)('against a fake NOTIFY_SOCKET', () => {
  it('delivers READY and pings the watchdog only while healthy', async () => {
    const socket = await fakeNotifySocket();
    const notifier = new SystemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: socket.path } });
    expect(await notifier.send({ READY: 1, STATUS: 'online' })).toBe(true);
    expect(socket.messages).toEqual(['READY=1\nSTATUS=online']);

    // The watchdog's pings, counted as it sends them, and how many health checks it has made.
    const pings: Promise<boolean>[] = [];
    class CountingNotifier extends SystemdNotifier {
      override send(fields: Parameters<SystemdNotifier['send']>[0]): Promise<boolean> {
        const sent = super.send(fields);
        pings.push(sent);
        return sent;
      }
    }
    const counting = new CountingNotifier({ env: { ...process.env, NOTIFY_SOCKET: socket.path } });
    let healthy = true;
    let checks = 0;
    const stop = startWatchdog({
      notifier: counting,
      intervalMs: 100,
      healthy: () => {
        checks++;
        return healthy;
      },
    });
    await until('three pings', () => socket.messages.filter((m) => m === 'WATCHDOG=1').length >= 3);
    healthy = false;
    const pingsBefore = pings.length;
    // Three ticks of the watchdog found it unhealthy (a positive event, not a pause) ...
    const checksBefore = checks;
    await until('three unhealthy checks', () => checks >= checksBefore + 3);
    expect(pings.length).toBe(pingsBefore);
    // ... and once the pings sent before are delivered, a marker sent now arrives after all of them.
    await Promise.all(pings);
    expect(await notifier.send({ STATUS: 'fence' })).toBe(true);
    await until('the fence', () => socket.messages.includes('STATUS=fence'));
    const frozen = socket.messages.length;
    expect(socket.messages.filter((m) => m === 'WATCHDOG=1')).toHaveLength(pingsBefore);
    healthy = true;
    await until('pings again once healthy', () => socket.messages.length > frozen);
    stop();
  });

  it('the real agent process says READY, pings every WATCHDOG_USEC/2 and says STOPPING on SIGTERM', async () => {
    const socket = await fakeNotifySocket();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-notify-agent-'));
    const configFile = path.join(dir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        deviceId: 'loa-notify',
        // Nothing listens here: the agent must still become ready and stay healthy offline.
        serverUrl: 'http://127.0.0.1:9',
        mqttUrl: 'mqtt://127.0.0.1:9',
        secret: 's',
        dataDir: dir,
        player: { type: 'null', log: path.join(dir, 'play.log') },
      }),
    );
    const agent = spawn(process.execPath, [AGENT_BIN, '--config', configFile, '--log-level', 'warn'], {
      env: { ...process.env, NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '400000' },
      stdio: 'ignore',
    });
    children.push(agent);
    await until('READY=1', () => socket.messages.some((m) => m.startsWith('READY=1')), 30_000);
    const readyAt = socket.messages.length;
    await until('watchdog pings', () => socket.messages.slice(readyAt).filter((m) => m === 'WATCHDOG=1').length >= 3);
    agent.kill('SIGTERM');
    const code = await new Promise((r) => agent.once('exit', r));
    expect(code).toBe(0);
    // The agent waits for systemd-notify before exiting; the receiver's line may still be in its pipe.
    await until('STOPPING=1', () => socket.messages.includes('STOPPING=1'), 5_000);
  }, 45_000);
});
