/**
 * What went through ALSA, on a machine without a sound card: a private ALSA
 * configuration defining a PCM of the `file` plugin whose slave is `null`, so
 * every sample written to it lands in a raw file (48 kHz mono S16_LE as the
 * agent's live sink writes it) and nothing needs hardware. alsa-lib loads
 * `$XDG_CONFIG_HOME/alsa/asoundrc` (alsa.conf's load hook), so a process given
 * `env` opens the PCM by name like any other (`aplay -D loaxa_tap`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface AlsaTap {
  /** The PCM name to give as the device. */
  device: string;
  /** Where the samples written to it go (truncated each time the PCM is opened). */
  file: string;
  /** The environment of a process that should see the PCM. */
  env: NodeJS.ProcessEnv;
  /** Null when aplay writes through the tap here; otherwise why not. */
  probe(): string | null;
}

export function alsaTap(dir: string, device = 'loaxa_tap'): AlsaTap {
  const configHome = path.join(dir, 'xdg');
  fs.mkdirSync(path.join(configHome, 'alsa'), { recursive: true });
  const file = path.join(dir, `${device}.raw`);
  fs.writeFileSync(
    path.join(configHome, 'alsa', 'asoundrc'),
    `pcm.${device} {\n  type file\n  slave.pcm "null"\n  file "${file}"\n  format "raw"\n}\n`,
  );
  const env = { ...process.env, XDG_CONFIG_HOME: configHome };
  return {
    device,
    file,
    env,
    probe() {
      // 100 ms of a ramp: what aplay writes must come out unchanged at the start of the file.
      const input = Buffer.alloc(9_600);
      for (let i = 0; i < input.length / 2; i++) input.writeInt16LE((i * 7) % 30_000, i * 2);
      const run = spawnSync('aplay', ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '48000', '-c', '1', '-D', device], {
        env,
        input,
        encoding: 'buffer',
        timeout: 10_000,
      });
      try {
        if (run.error) return `aplay could not run: ${run.error.message}`;
        if (run.status !== 0) return `aplay -D ${device} failed (${run.status}): ${run.stderr.toString('utf8').trim()}`;
        const out = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
        if (!out.subarray(0, input.length).equals(input)) {
          return `the ALSA file plugin wrote ${out.length} bytes, not the ${input.length} aplay played`;
        }
        return null;
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
  };
}

/** S16_LE mono samples of a raw file (none if it does not exist). */
export function readSamples(file: string): Int16Array {
  if (!fs.existsSync(file)) return new Int16Array(0);
  const bytes = fs.readFileSync(file);
  const samples = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  return samples;
}

/**
 * Where clicks are in `samples`, in ms from the first sample: a sample of
 * magnitude ≥ threshold after at least `quietMs` of samples below it.
 */
export function clickOnsets(samples: Int16Array, threshold = 8_000, quietMs = 50, rate = 48_000): number[] {
  const quiet = (quietMs * rate) / 1000;
  const found: number[] = [];
  let lastLoud = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) < threshold) continue;
    if (i - lastLoud >= quiet) found.push((i * 1000) / rate);
    lastLoud = i;
  }
  return found;
}

/** Processes whose parent is `ppid` (from /proc/<pid>/stat; zombies included), with their name and state. */
export function childrenOf(ppid: number): { pid: number; comm: string; state: string }[] {
  const out: { pid: number; comm: string; state: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid …; comm may hold spaces and parentheses: cut at the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, parent] = stat.slice(close + 2).split(' ');
    if (Number(parent) !== ppid) continue;
    out.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close), state: state! });
  }
  return out;
}

/** The command line of a process, or null once it is gone. */
export function cmdline(pid: number): string[] | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}
