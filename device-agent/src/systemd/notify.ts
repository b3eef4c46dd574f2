/**
 * sd_notify for the agent under systemd (Type=notify, WatchdogSec=): READY=1
 * once it runs, WATCHDOG=1 while its main loop is healthy, STOPPING=1 on the
 * way out. Node cannot send unix datagrams, so the messages go through the
 * `systemd-notify` program that ships with systemd on every Raspberry Pi OS.
 * Outside systemd (no NOTIFY_SOCKET) everything here is a no-op.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../logger';

export type NotifyFields = Record<string, string | number>;

/** The datagram systemd reads: one `KEY=VALUE` per line. Newlines inside a value would start a new key. */
export function notifyMessage(fields: NotifyFields): string {
  return Object.entries(fields)
    .map(([key, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`sd_notify key ${JSON.stringify(key)} is not VARIABLE-like`);
      return `${key}=${String(value).replace(/[\r\n]+/g, ' ')}`;
    })
    .join('\n');
}

/**
 * How often to send WATCHDOG=1: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * advises; null when systemd set no watchdog or set it for another process.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2_000));
}

/** argv for `systemd-notify`: each field as VARIABLE=VALUE (the program sends them in one datagram). */
export function notifyArgs(fields: NotifyFields): string[] {
  return notifyMessage(fields).split('\n');
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** The systemd-notify program; found on PATH by default. */
  command?: string;
  logger?: Logger;
}

export class SystemdNotifier {
  readonly socket: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private warned = false;

  constructor(private readonly options: NotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.socket = this.env.NOTIFY_SOCKET || undefined;
    this.command = options.command ?? 'systemd-notify';
  }

  /** False outside systemd: then send() does nothing. */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Resolves true when systemd-notify delivered the message; never rejects. */
  send(fields: NotifyFields): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      execFile(this.command, notifyArgs(fields), { env: this.env, timeout: 10_000 }, (err, _stdout, stderr) => {
        if (err) {
          if (!this.warned) {
            this.warned = true;
            this.options.logger?.warn(
              { err: err.message, stderr: stderr.trim(), command: this.command },
              'systemd notification failed: is systemd-notify installed? (apt-get install systemd)',
            );
          }
          resolve(false);
          return;
        }
        resolve(true);
      });
    });
  }
}

export interface WatchdogOptions {
  notifier: SystemdNotifier;
  intervalMs: number;
  /** Checked before every ping; a false stops the pings, and systemd restarts the agent. */
  healthy: () => boolean;
  logger?: Logger;
}

/**
 * Pings systemd's watchdog while `healthy()` holds. A blocked event loop sends
 * nothing either, since the timer cannot fire. Returns a function that stops it.
 */
export function startWatchdog(options: WatchdogOptions): () => void {
  let unhealthyLogged = false;
  const timer = setInterval(() => {
    if (!options.healthy()) {
      if (!unhealthyLogged) {
        unhealthyLogged = true;
        options.logger?.error('agent unhealthy: watchdog pings stopped, systemd will restart the agent');
      }
      return;
    }
    unhealthyLogged = false;
    void options.notifier.send({ WATCHDOG: 1 });
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
