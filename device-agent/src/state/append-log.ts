import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDir } from './state-store';

const TEMP_SUFFIX = '.tmp';

type Op = { kind: 'append' | 'rewrite'; text: string; resolve: () => void; reject: (err: unknown) => void };

/**
 * One JSON record per line, appended and fsynced: a record whose append has
 * resolved survives power loss. Appends issued while a write is on its way to
 * disk share the next write and fsync (group commit), so a burst of records
 * costs one flush, and the order of the lines is the order of the calls.
 *
 * Power loss can leave the last line torn (cut short, or zeros where the data
 * never landed); `read` skips a line that does not parse. `rewrite` replaces
 * the whole file atomically (temp file, fsync, rename, directory fsync): the
 * way to drop records that no longer matter, and to get rid of a torn tail
 * before appending after it.
 */
export class AppendLog {
  private readonly queue: Op[] = [];
  private draining: Promise<void> | undefined;
  private handle: FileHandle | undefined;
  /** A write failed part-way: the next one starts on a fresh line so it is not glued to the fragment. */
  private needsNewline = false;
  private writingSince: number | undefined;

  constructor(readonly path: string) {}

  /** Every whole record in the file, oldest first; `skipped` counts lines that did not parse. */
  async read(): Promise<{ records: unknown[]; skipped: number }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0 };
      throw err;
    }
    const records: unknown[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        skipped++;
      }
    }
    return { records, skipped };
  }

  async exists(): Promise<boolean> {
    try {
      await stat(this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Resolves once the record is on disk. */
  append(record: unknown): Promise<void> {
    return this.enqueue('append', `${JSON.stringify(record)}\n`);
  }

  /**
   * Replaces the file with `records`, after everything appended before this call.
   * Appends still waiting before it are not written at all: `records` must already
   * include what they said (callers snapshot state that has taken them in).
   */
  rewrite(records: readonly unknown[]): Promise<void> {
    return this.enqueue('rewrite', records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** How long the write now on its way to disk has taken so far; 0 when none is. */
  stalledForMs(): number {
    return this.writingSince === undefined ? 0 : performance.now() - this.writingSince;
  }

  /** Resolves when every record issued so far is durable (or its write has failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Waits for pending writes and closes the file; a later append opens it again. */
  async close(): Promise<void> {
    await this.idle();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private enqueue(kind: Op['kind'], text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, text, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // let `draining` be assigned before the loop can finish
    while (this.queue.length > 0) {
      const ops = this.queue.splice(0);
      // The last rewrite stands for everything queued before it.
      const lastRewrite = ops.map((op) => op.kind).lastIndexOf('rewrite');
      const steps: { ops: Op[]; run: () => Promise<void> }[] = [];
      if (lastRewrite >= 0) {
        const text = ops[lastRewrite]!.text;
        steps.push({ ops: ops.slice(0, lastRewrite + 1), run: () => this.replaceFile(text) });
      }
      const appends = ops.slice(lastRewrite + 1);
      if (appends.length > 0) {
        const text = appends.map((op) => op.text).join('');
        steps.push({ ops: appends, run: () => this.appendNow(text) });
      }
      for (const step of steps) {
        this.writingSince = performance.now();
        try {
          await step.run();
          for (const op of step.ops) op.resolve();
        } catch (err) {
          for (const op of step.ops) op.reject(err);
        } finally {
          this.writingSince = undefined;
        }
      }
    }
    this.draining = undefined;
  }

  private async appendNow(text: string): Promise<void> {
    if (!this.handle) {
      const dir = dirname(this.path);
      await mkdir(dir, { recursive: true });
      this.handle = await open(this.path, 'a');
      await syncDir(dir); // in case the open created the file
    }
    const data = this.needsNewline ? `\n${text}` : text;
    this.needsNewline = true;
    await this.handle.appendFile(data);
    // fdatasync covers the file size an append changes; the name was made durable when the file was opened.
    await this.handle.datasync();
    this.needsNewline = false;
  }

  private async replaceFile(text: string): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const temp = this.path + TEMP_SUFFIX;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
    await syncDir(dir);
    this.needsNewline = false;
  }

  /** Drops a temp file an interrupted rewrite left behind. */
  async removeTemp(): Promise<void> {
    await rm(this.path + TEMP_SUFFIX, { force: true });
  }
}
