import { spawn, type ChildProcess } from 'node:child_process';

/** How much of a failed program's stderr goes into the error: enough for the ALSA/ffmpeg reason. */
const STDERR_TAIL_CHARS = 600;
/** A child that ignores SIGTERM this long gets SIGKILL, so the sound card is always released. */
const KILL_GRACE_MS = 2_000;

/**
 * Signals a child, but only one that was really started. A child whose program could not be run
 * (ENOENT, EACCES) has no pid until its 'error' event, and Node's kill() before that event sends
 * the signal to pid 0: the caller's whole process group (seen: a test's missing aplay took the test
 * runner, npm and the shell that ran them down with SIGTERM).
 */
export function killChild(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  return child.kill(signal);
}

export interface ProcessSpec {
  /** argv[0] is the program. */
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one program, or two with the first's stdout piped into the second's stdin
 * (decoder | aplay). Resolves when all exit 0; rejects with the program name,
 * exit code and stderr tail otherwise. On abort every child gets SIGTERM and the
 * promise rejects with the signal's reason only after they have all exited.
 */
export function runProcesses(specs: readonly ProcessSpec[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const children: ChildProcess[] = [];
    const failures: string[] = [];
    let pending = specs.length;
    let aborted = false;
    const killTimers: NodeJS.Timeout[] = [];

    const onAbort = () => {
      aborted = true;
      for (const child of children) {
        if (!killChild(child, 'SIGTERM')) continue;
        killTimers.push(setTimeout(() => killChild(child, 'SIGKILL'), KILL_GRACE_MS));
      }
    };
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      for (const timer of killTimers) clearTimeout(timer);
      if (aborted) reject(signal?.reason);
      else if (failures.length > 0) reject(new Error(failures.join('; ')));
      else resolve();
    };

    specs.forEach((spec, index) => {
      const [program, ...args] = spec.argv;
      if (!program) throw new Error('empty command');
      const piped = index < specs.length - 1;
      const child = spawn(program, args, {
        stdio: [index > 0 ? 'pipe' : 'ignore', piped ? 'pipe' : 'ignore', 'pipe'],
        env: spec.env ?? process.env,
      });
      children.push(child);
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
      });
      const previous = children[index - 1];
      if (previous?.stdout && child.stdin) {
        // The reader dying early makes the writer see EPIPE; its own exit code reports that.
        child.stdin.on('error', () => {});
        previous.stdout.pipe(child.stdin);
      }
      let done = false;
      const finish = (problem?: string) => {
        if (done) return;
        done = true;
        if (problem) failures.push(problem);
        if (--pending === 0) settle();
      };
      child.once('error', (err) => finish(`cannot run ${program}: ${err.message}`));
      child.once('close', (code, killedBy) => {
        if (code === 0) return finish();
        const why = code !== null ? `exited with code ${code}` : `was killed by ${killedBy}`;
        const tail = stderr.trim();
        finish(`${program} ${why}${tail ? `: ${tail}` : ''}`);
      });
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs a program to completion and returns its stdout (short outputs: versions, mixer state). */
export function captureOutput(argv: readonly string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv;
    if (!program) return reject(new Error('empty command'));
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-STDERR_TAIL_CHARS)));
    child.once('error', (err) => reject(new Error(`cannot run ${program}: ${err.message}`)));
    child.once('close', (code, killedBy) => {
      if (code === 0) return resolve(stdout);
      const why = code !== null ? `exited with code ${code}` : `was killed by ${killedBy}`;
      reject(new Error(`${argv.join(' ')} ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}
