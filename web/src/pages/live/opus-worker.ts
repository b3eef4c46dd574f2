/**
 * The WASM Opus encoder's worker (capture.ts starts it where WebCodecs has no
 * Opus). Off the page's thread so that encoding (about 1 ms of each 20 ms
 * frame on a laptop, more on an old phone) never competes with the page, and
 * not in the capture worklet, whose audio thread has 2.7 ms per render quantum.
 * Loads libopus (an asset of its own, 331 KB, about 130 KB as served
 * compressed, fetched only by browsers that need it), says `ready`, then
 * answers each `frame` with its `packet`, in order. The package's plain build,
 * not its SIMD one: the browsers that come here are the older ones, often
 * without WebAssembly SIMD, and a mono 20 ms frame is cheap enough without it.
 * Bundled by Vite on its own (`?worker`), as a classic worker for older browsers.
 */
import wasmUrl from '@evan/opus/wasm/opus.wasm?url';
import { instantiateLibopus, WasmOpusEncoder } from './opus-encoder';

export type OpusWorkerRequest = { type: 'frame'; samples: Float32Array<ArrayBuffer> };
export type OpusWorkerReply =
  { type: 'ready' } | { type: 'packet'; packet: Uint8Array<ArrayBuffer> } | { type: 'error'; message: string };

// The DedicatedWorkerGlobalScope, which the DOM library the console is checked with does not describe.
const scope = globalThis as unknown as {
  postMessage(message: OpusWorkerReply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<OpusWorkerRequest>) => void) | null;
};

/** Compiled while downloading where the server says application/wasm; from the bytes otherwise. */
async function compile(): Promise<WebAssembly.Module> {
  const response = await fetch(wasmUrl);
  if (!response.ok) throw new Error(`the Opus encoder did not load (HTTP ${response.status})`);
  if (typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(response.clone());
    } catch {
      // A wrong content type: compiled from the bytes below.
    }
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

const message = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause));

const encoder = compile()
  .then(instantiateLibopus)
  .then((lib) => new WasmOpusEncoder(lib));
encoder.then(
  () => scope.postMessage({ type: 'ready' }),
  (cause: unknown) => scope.postMessage({ type: 'error', message: message(cause) }),
);

let failed = false;
// Frames that come while libopus loads wait for it; promise reactions keep their order.
scope.onmessage = (event) => {
  const request = event.data;
  if (request.type !== 'frame') return;
  void encoder.then(
    (opus) => {
      if (failed) return;
      try {
        const packet = opus.encode(request.samples);
        scope.postMessage({ type: 'packet', packet }, [packet.buffer]);
      } catch (cause) {
        failed = true;
        scope.postMessage({ type: 'error', message: message(cause) });
      }
    },
    () => {},
  );
};
