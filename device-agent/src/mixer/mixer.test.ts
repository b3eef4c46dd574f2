import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AmixerMixer, parseAmixerPercent } from './mixer';

const SGET_PI = `Simple mixer control 'PCM',0
  Capabilities: pvolume pvolume-joined pswitch pswitch-joined
  Playback channels: Mono
  Limits: Playback -10239 - 400
  Mono: Playback -2047 [80%] [-20.47dB] [on]`;
const SGET_USB = `Simple mixer control 'Speaker',0
  Front Left: Playback 23 [62%] [-14.00dB] [on]
  Front Right: Playback 23 [62%] [-14.00dB] [on]`;

describe('parseAmixerPercent', () => {
  it.each([
    [SGET_PI, 80],
    [SGET_USB, 62],
    ["Simple mixer control 'Mic',0\n  Capabilities: cswitch", null],
  ])('reads %#', (text, level) => {
    expect(parseAmixerPercent(text)).toBe(level);
  });
});

/** Stand-in amixer (no sound card here) keeping the level in a file; `step` mimics coarse hardware. */
async function fakeAmixer(options: { step?: number; fail?: string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-amixer-'));
  const path = join(dir, 'amixer');
  const state = join(dir, 'level');
  await writeFile(state, '50');
  await writeFile(
    path,
    `#!/bin/sh
echo "$*" >> "${dir}/calls.log"
${options.fail ? `echo "${options.fail}" >&2; exit 1` : ''}
if [ "$3" = "sset" ]; then
  v=\${5%\\%}; step=${options.step ?? 1}; v=$(( v / step * step )); echo "$v" > "${state}"
fi
echo "Simple mixer control '$4',0"
echo "  Mono: Playback 0 [$(cat "${state}")%] [0.00dB] [on]"
`,
  );
  await chmod(path, 0o755);
  return { path, calls: join(dir, 'calls.log') };
}

describe('AmixerMixer (fake amixer)', () => {
  it('sets with sset and reads back with sget', async () => {
    const fake = await fakeAmixer();
    const mixer = new AmixerMixer({ card: 'Headphones', control: 'PCM', path: fake.path });
    await mixer.set(73);
    expect(await mixer.get()).toBe(73);
    expect((await readFile(fake.calls, 'utf8')).trim().split('\n')).toEqual([
      '-c Headphones sset PCM 73%',
      '-c Headphones sget PCM',
    ]);
  });

  it('fails when the hardware lands far from the level asked for', async () => {
    const fake = await fakeAmixer({ step: 25 });
    const mixer = new AmixerMixer({ card: 0, control: 'PCM', path: fake.path });
    await expect(mixer.set(74)).rejects.toThrow(/at 50% after setting 74%/);
  });

  it('fails with amixer stderr on a missing control', async () => {
    const fake = await fakeAmixer({ fail: "amixer: Unable to find simple control 'Master',0" });
    const mixer = new AmixerMixer({ card: 0, control: 'Master', path: fake.path });
    await expect(mixer.set(10)).rejects.toThrow(/Unable to find simple control 'Master'/);
  });
});
