import { spawn, type ChildProcess } from 'node:child_process';
import { captureOutput, killChild } from '../player/child-process';
import type { AmpSwitch } from './amp-switch';

export interface GpiosetOptions {
  chip: string;
  line: number;
  /** Relay boards that close on a low level. */
  activeLow?: boolean;
  /** Path of gpioset; defaults to `gpioset` on PATH. */
  path?: string;
  /** A holder that exits within this time after start failed (line busy, no such chip). */
  settleMs?: number;
}

export type GpiosetVersion = 1 | 2;

/** `gpioset (libgpiod) v1.6.3` → 1; `gpioset (libgpiod) v2.1` → 2. */
export function parseGpiosetVersion(text: string): GpiosetVersion {
  const match = /v(\d+)\.\d+/.exec(text);
  return match && Number(match[1]) >= 2 ? 2 : 1;
}

/** The argv that drives `line` to `level` and holds it while the process lives. */
export function gpiosetHoldArgs(version: GpiosetVersion, chip: string, line: number, level: 0 | 1): string[] {
  return version === 1 ? ['--mode=signal', chip, `${line}=${level}`] : ['-c', chip, `${line}=${level}`];
}

/**
 * Drives the relay through libgpiod's `gpioset`. Both tool versions keep a line
 * requested only while the process lives, so one holder process per state is
 * kept running (the level is then defined even if another program pokes the
 * chip) and replaced on every change.
 */
export class GpiosetAmpSwitch implements AmpSwitch {
  isOn = false;
  private holder: ChildProcess | undefined;
  private version: Promise<GpiosetVersion> | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: GpiosetOptions) {}

  set(on: boolean): Promise<void> {
    const next = this.queue.then(() => this.drive(on));
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.release();
  }

  private async drive(on: boolean): Promise<void> {
    if (on === this.isOn && this.holder) return;
    const version = await (this.version ??= this.detectVersion());
    await this.release();
    const level = (on !== (this.options.activeLow ?? false) ? 1 : 0) as 0 | 1;
    const program = this.options.path ?? 'gpioset';
    const holder = spawn(program, gpiosetHoldArgs(version, this.options.chip, this.options.line, level), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    holder.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-400)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        holder.off('close', onEarlyExit);
        resolve();
      }, this.options.settleMs ?? 150);
      const onEarlyExit = (code: number | null) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${program} could not drive ${this.options.chip} line ${this.options.line}: exited with code ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
          ),
        );
      };
      holder.once('error', (err) => {
        clearTimeout(timer);
        holder.off('close', onEarlyExit);
        reject(new Error(`cannot run ${program}: ${err.message}`));
      });
      holder.once('close', onEarlyExit);
    });
    this.holder = holder;
    this.isOn = on;
  }

  private async release(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    if (!holder || holder.exitCode !== null || holder.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => holder.once('close', () => resolve()));
    if (killChild(holder, 'SIGTERM')) await exited;
  }

  private async detectVersion(): Promise<GpiosetVersion> {
    const text = await captureOutput([this.options.path ?? 'gpioset', '--version']);
    return parseGpiosetVersion(text);
  }
}
