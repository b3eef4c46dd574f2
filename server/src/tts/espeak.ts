/**
 * Embedded offline TTS: espeak-ng compiled to WebAssembly (npm `text2wav`),
 * Vietnamese voice. Needs nothing beyond npm, so a fresh machine can speak.
 * We drive the emscripten module directly (instead of text2wav's wrapper) to
 * pass the text after `--`, capture its error output and enforce a timeout.
 */
import { createRequire } from 'node:module';
import type { SynthesisRequest, SynthesisResult, TtsAdapter, TtsVoice } from './adapter';

const require = createRequire(import.meta.url);

interface EmscriptenFs {
  root: { contents: Record<string, { contents: ArrayLike<number> }> };
  unmount(path: string): void;
}
interface EspeakModule {
  arguments: string[];
  print: (line: string) => void;
  printErr: (line: string) => void;
  postRun: () => void;
  onAbort: (reason: unknown) => void;
  FS?: EmscriptenFs;
}
type EspeakFactory = (module: EspeakModule) => unknown;

const VOICES: TtsVoice[] = [
  { id: 'vi', name: 'espeak-ng Tiếng Việt (miền Bắc)', language: 'vi' },
  { id: 'vi-VN-x-central', name: 'espeak-ng Tiếng Việt (miền Trung)', language: 'vi' },
  { id: 'vi-VN-x-south', name: 'espeak-ng Tiếng Việt (miền Nam)', language: 'vi' },
];

const BASE_WPM = 165;
const TIMEOUT_MS = 60_000;

export class EspeakAdapter implements TtsAdapter {
  readonly id = 'espeak';
  private factory: EspeakFactory | null = null;

  private load(): EspeakFactory {
    this.factory ??= require('text2wav/lib/espeak-ng') as EspeakFactory;
    return this.factory;
  }

  async voices(): Promise<TtsVoice[]> {
    return VOICES;
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const r = await this.synthesize({ text: 'a' });
      return { ok: r.wav.byteLength > 44 };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  synthesize(request: SynthesisRequest, signal?: AbortSignal): Promise<SynthesisResult> {
    const voice = request.voice ?? 'vi';
    if (!VOICES.some((v) => v.id === voice)) {
      return Promise.reject(new Error(`espeak: unknown voice ${JSON.stringify(voice)}`));
    }
    const text = request.text.trim();
    if (!text) return Promise.reject(new Error('espeak: text is empty'));
    const wpm = Math.round(Math.min(450, Math.max(80, BASE_WPM * (request.speed ?? 1))));
    const pitch = Math.round(Math.min(99, Math.max(0, request.pitch ?? 50)));
    const factory = this.load();

    return new Promise((resolve, reject) => {
      const errors: string[] = [];
      // Each emscripten instance adds process-wide error listeners; remove them when done.
      const watched = ['uncaughtException', 'unhandledRejection'] as const;
      const before = new Map(watched.map((e) => [e, new Set(process.listeners(e as 'uncaughtException'))]));
      const releaseListeners = () => {
        for (const e of watched) {
          for (const l of process.listeners(e as 'uncaughtException')) {
            if (!before.get(e)!.has(l)) process.removeListener(e as 'uncaughtException', l);
          }
        }
      };
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        releaseListeners();
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`espeak: no audio after ${TIMEOUT_MS} ms`))),
        TIMEOUT_MS,
      );
      const onAbort = () => finish(() => reject(new Error('espeak: aborted')));
      signal?.addEventListener('abort', onAbort);

      const module: EspeakModule = {
        arguments: ['-w', 'out.wav', '-v', voice, '-s', String(wpm), '-p', String(pitch), '--', text],
        print: () => {},
        // Emscripten reports its streaming-compile fallback here; keep real errors only.
        printErr: (line) => {
          if (!/wasm streaming compile failed|falling back to ArrayBuffer/.test(line)) errors.push(line);
        },
        onAbort: (reason) => finish(() => reject(new Error(`espeak aborted: ${String(reason)} ${errors.join(' ')}`))),
        postRun: () => {
          const file = module.FS?.root.contents['out.wav'];
          module.FS?.unmount('/usr/share');
          if (!file) {
            finish(() => reject(new Error(`espeak produced no audio${errors.length ? `: ${errors.join(' ')}` : ''}`)));
            return;
          }
          const wav = new Uint8Array(file.contents);
          finish(() => resolve({ wav, sampleRate: wav.length >= 28 ? Buffer.from(wav).readUInt32LE(24) : 22050 }));
        },
      };
      try {
        factory(module);
      } catch (err) {
        finish(() => reject(new Error(`espeak failed to start: ${(err as Error).message}`)));
      }
    });
  }
}
