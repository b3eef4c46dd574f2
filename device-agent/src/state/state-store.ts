import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger';

const TEMP_SUFFIX = '.tmp';

interface Slot {
  /** The running drain loop, if any. */
  draining?: Promise<void>;
  /** When the write now on its way to disk began (performance.now()). */
  writingSince?: number;
  /** The newest value not yet on disk, with everyone waiting for it. */
  queued?: { value: unknown; waiters: { resolve: () => void; reject: (err: unknown) => void }[] };
}

/**
 * Small JSON documents under one directory that survive power loss at any
 * instant: each write goes to `<name>.json.tmp`, is fsynced, renamed over
 * `<name>.json` and the directory is fsynced, so a reader finds either the
 * previous whole document or the new one, never a torn mix.
 *
 * Writes to one name are serialised and coalesced: while one is on its way to
 * disk, later values replace each other and only the newest is written next.
 * A write's promise resolves once a value at least that new is durable.
 */
export class StateStore {
  private readonly slots = new Map<string, Slot>();
  private dirReady: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly logger?: Logger,
  ) {}

  fileFor(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The last durable value, or undefined when there is none or it cannot be parsed (it is then set aside). */
  async read<T>(name: string): Promise<T | undefined> {
    const path = this.fileFor(name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      // Rename makes this unreachable on a sane file system; keep the evidence and start clean.
      const aside = `${path}.corrupt-${Date.now()}`;
      this.logger?.error({ err, path, aside }, 'state file unreadable; set aside');
      await rename(path, aside).catch(() => {});
      return undefined;
    }
  }

  write(name: string, value: unknown): Promise<void> {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = {}));
    return new Promise((resolve, reject) => {
      if (slot.queued) {
        slot.queued.value = value;
        slot.queued.waiters.push({ resolve, reject });
      } else {
        slot.queued = { value, waiters: [{ resolve, reject }] };
      }
      slot.draining ??= this.drain(name, slot);
    });
  }

  /** How long the oldest write still on its way to disk has taken so far; 0 when none is. */
  stalledForMs(): number {
    let oldest = Infinity;
    for (const slot of this.slots.values())
      if (slot.writingSince !== undefined) oldest = Math.min(oldest, slot.writingSince);
    return oldest === Infinity ? 0 : performance.now() - oldest;
  }

  /** Resolves when every write issued so far is durable (or has failed). */
  async idle(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.draining));
  }

  private async drain(name: string, slot: Slot): Promise<void> {
    await Promise.resolve(); // let `draining` be assigned before the loop can finish
    while (slot.queued) {
      const { value, waiters } = slot.queued;
      slot.queued = undefined;
      slot.writingSince = performance.now();
      try {
        await this.writeNow(name, value);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      } finally {
        slot.writingSince = undefined;
      }
    }
    slot.draining = undefined;
  }

  private async writeNow(name: string, value: unknown): Promise<void> {
    this.dirReady ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.dirReady;
    const path = this.fileFor(name);
    const temp = path + TEMP_SUFFIX;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDir(this.dir);
  }

  /** Removes a document (and any temp file left by an interrupted write). */
  async remove(name: string): Promise<void> {
    const path = this.fileFor(name);
    await rm(path, { force: true });
    await rm(path + TEMP_SUFFIX, { force: true });
  }
}

/** Makes a rename or unlink in `dir` durable. Some platforms cannot open a directory; there rename is the best we get. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // EINVAL/EPERM on file systems without directory fsync.
  } finally {
    await handle.close();
  }
}
