/**
 * Offline neural TTS with the Piper CLI, used when the operator supplies a
 * voice model (e.g. vi_VN-vais1000-medium.onnx with its .onnx.json beside it).
 *
 * Documented CLI (https://github.com/rhasspy/piper README, OHF-Voice/piper1-gpl docs/CLI.md):
 *   echo 'text' | piper --model <voice.onnx> --output_file <out.wav>
 *   --config <voice.onnx.json> (default: the model path + ".json"), --speaker <id>,
 *   --length_scale <n> (phoneme length: 1 normal, < 1 faster). Text is read from stdin.
 * The model loads on every call (a second or two on a Pi); fine for notices, which are cached.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from '../adapter';
import { toWav } from './audio';
import { TtsError } from './errors';
import { boundedText } from './http';

export interface PiperConfig {
  /** Path to the voice's .onnx file. */
  modelPath: string;
  /** Path to the voice's .onnx.json; default modelPath + ".json". */
  configPath?: string;
  /** The piper executable: a path, or a name looked up on PATH. Default "piper". */
  binPath?: string;
  /** Speaker id for multi-speaker models. */
  speaker?: number;
  timeoutMs?: number;
}

const VENDOR = 'Piper';

function isExecutableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The executable's absolute path, or null when neither the path nor PATH has it. */
export function resolveExecutable(bin: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (bin.includes('/') || bin.includes(path.sep)) return isExecutableFile(bin) ? path.resolve(bin) : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export class PiperAdapter implements TtsAdapter {
  readonly id = 'piper';

  constructor(private readonly config: PiperConfig) {}

  private configPath(): string {
    return this.config.configPath ?? `${this.config.modelPath}.json`;
  }

  /** Checks the model, its config and the binary; throws a TtsError naming what is missing. */
  check(): { bin: string } {
    const model = this.config.modelPath;
    if (!model) throw new TtsError(VENDOR, 'no model path configured');
    if (!fs.existsSync(model) || !fs.statSync(model).isFile()) {
      throw new TtsError(VENDOR, `model file not found: ${model}`);
    }
    if (!fs.existsSync(this.configPath())) {
      throw new TtsError(
        VENDOR,
        `model config not found: ${this.configPath()} (Piper needs the voice's .onnx.json beside the model)`,
      );
    }
    const binName = this.config.binPath ?? 'piper';
    const bin = resolveExecutable(binName);
    if (!bin) {
      throw new TtsError(
        VENDOR,
        `piper binary not found: ${binName}${binName.includes('/') ? ' is not an executable file' : ' is not on PATH'} (set LOAXA_TTS_PIPER_BIN)`,
      );
    }
    return { bin };
  }

  async voices(): Promise<TtsVoice[]> {
    let language = 'vi';
    try {
      const json = JSON.parse(fs.readFileSync(this.configPath(), 'utf8')) as { language?: { code?: string } };
      language = json.language?.code ?? language;
    } catch {
      // unreadable config: synthesize reports it; the list still names the model
    }
    return [
      {
        id: path.basename(this.config.modelPath, '.onnx'),
        name: `Piper ${path.basename(this.config.modelPath)}`,
        language,
      },
    ];
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const { bin } = this.check();
      return { ok: true, detail: `${bin} with ${this.config.modelPath}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const text = boundedText(VENDOR, request.text);
    const { bin } = this.check();
    const out = path.join(os.tmpdir(), `loaxa-piper-${crypto.randomUUID()}.wav`);
    const speed = Math.max(0.5, Math.min(2, request.speed ?? 1));
    const args = [
      '--model',
      this.config.modelPath,
      '--config',
      this.configPath(),
      '--output_file',
      out,
      '--length_scale',
      (1 / speed).toFixed(3),
    ];
    if (this.config.speaker !== undefined) args.push('--speaker', String(this.config.speaker));
    const timeoutMs = this.config.timeoutMs ?? 60_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        const child = spawn(bin, args, {
          stdio: ['pipe', 'ignore', 'pipe'],
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const stderr: Buffer[] = [];
        child.stderr.on('data', (d: Buffer) => stderr.push(d));
        child.on('error', (err: NodeJS.ErrnoException) => {
          if (err.name === 'AbortError') {
            reject(
              new TtsError(VENDOR, signal?.aborted ? 'aborted' : `no audio within ${timeoutMs} ms (timeout)`, {
                retryable: !signal?.aborted,
              }),
            );
          } else {
            reject(new TtsError(VENDOR, `could not run ${bin}: ${err.code ?? err.message}`, { cause: err }));
          }
        });
        child.on('close', (code) => {
          if (code === 0) return resolve();
          const detail = Buffer.concat(stderr).toString().trim().split('\n').slice(-3).join(' ');
          reject(new TtsError(VENDOR, `exited with ${code}${detail ? `: ${detail}` : ''}`));
        });
        child.stdin.on('error', () => {});
        child.stdin.end(`${text}\n`);
      });
      if (!fs.existsSync(out)) throw new TtsError(VENDOR, 'finished without writing audio');
      return await toWav(VENDOR, new Uint8Array(fs.readFileSync(out)), { signal });
    } finally {
      fs.rmSync(out, { force: true });
    }
  }
}
