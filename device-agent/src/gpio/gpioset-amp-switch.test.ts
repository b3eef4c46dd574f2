import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from '../clock/timer';
import { GpiosetAmpSwitch, gpiosetHoldArgs, parseGpiosetVersion } from './gpioset-amp-switch';

describe('gpioset syntax', () => {
  it.each([
    ['gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski', 1],
    ['gpioset (libgpiod) v2.1\nCopyright (C) 2017-2023 Bartosz Golaszewski', 2],
    ['something else', 1],
  ])('%j is version %i', (text, version) => {
    expect(parseGpiosetVersion(text)).toBe(version);
  });

  it.each([
    [1, 1, ['--mode=signal', 'gpiochip0', '17=1']],
    [2, 0, ['-c', 'gpiochip0', '17=0']],
  ] as const)('v%i holds level %i with %j', (version, level, args) => {
    expect(gpiosetHoldArgs(version, 'gpiochip0', 17, level)).toEqual(args);
  });
});

/**
 * A stand-in gpioset (this machine has no GPIO chip): answers --version, logs
 * each holder's argv, and holds until killed like the real one, or fails when
 * the line is "busy".
 */
async function fakeGpioset(version: string, busy = false): Promise<{ path: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-gpio-'));
  const path = join(dir, 'gpioset');
  const log = join(dir, 'calls.log');
  await writeFile(
    path,
    `#!/bin/sh
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${version}"; exit 0; fi
${busy ? 'echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2; exit 1' : ''}
echo "start $*" >> "${log}"
trap 'echo "stop $*" >> "${log}"; exit 0' TERM
while true; do sleep 0.05; done
`,
  );
  await chmod(path, 0o755);
  return { path, log };
}

const calls = async (log: string) => (await readFile(log, 'utf8')).trim().split('\n');

async function waitForLines(log: string, count: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await calls(log)).length < count) {
    if (Date.now() > deadline) throw new Error(`${log}: fewer than ${count} lines after ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe('GpiosetAmpSwitch (fake gpioset)', () => {
  it.each([
    [
      'v1.6.3',
      ['start --mode=signal gpiochip0 17=1', 'stop --mode=signal gpiochip0 17=1', 'start --mode=signal gpiochip0 17=0'],
    ],
    ['v2.1', ['start -c gpiochip0 17=1', 'stop -c gpiochip0 17=1', 'start -c gpiochip0 17=0']],
  ])('%s: holds the line on, then replaces the holder to switch off', async (version, expected) => {
    const fake = await fakeGpioset(version);
    const amp = new GpiosetAmpSwitch({ chip: 'gpiochip0', line: 17, path: fake.path, settleMs: 50 });
    await amp.set(true);
    expect(amp.isOn).toBe(true);
    await amp.set(false);
    expect(amp.isOn).toBe(false);
    await amp.close();
    // The last holder writes its "stop" line as it exits on SIGTERM.
    await waitForLines(fake.log, 3);
    expect((await calls(fake.log)).slice(0, 3)).toEqual(expected);
  });

  it('active-low relays get the inverted level', async () => {
    const fake = await fakeGpioset('v2.1');
    const amp = new GpiosetAmpSwitch({ chip: 'gpiochip0', line: 4, activeLow: true, path: fake.path, settleMs: 50 });
    await amp.set(true);
    await amp.close();
    expect((await calls(fake.log))[0]).toBe('start -c gpiochip0 4=0');
  });

  it('a busy line rejects with gpioset stderr and leaves the state unchanged', async () => {
    const fake = await fakeGpioset('v2.1', true);
    const amp = new GpiosetAmpSwitch({ chip: 'gpiochip0', line: 17, path: fake.path, settleMs: 200 });
    await expect(amp.set(true)).rejects.toThrow(/line 17: exited with code 1: .*Device or resource busy/);
    expect(amp.isOn).toBe(false);
  });

  it('a missing gpioset names the program', async () => {
    const amp = new GpiosetAmpSwitch({ chip: 'gpiochip0', line: 17, path: '/nonexistent/gpioset' });
    await expect(amp.set(true)).rejects.toThrow(/cannot run \/nonexistent\/gpioset/);
  });
});
