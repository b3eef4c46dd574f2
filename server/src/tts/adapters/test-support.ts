/**
 * Test support (imported by *.test.ts only): a local fake vendor HTTP server
 * and real audio made once with ffmpeg.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveFfmpeg } from '../../audio/ffmpeg';
import { decodeWav } from '../../audio/pcm';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type FakeHandler = (req: RecordedRequest, res: http.ServerResponse) => unknown;

export interface FakeVendor {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose path (without query) equals `path`. */
  hits(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeVendor(handler: FakeHandler): Promise<FakeVendor> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hits: (path) => requests.filter((r) => r.url.split('?')[0] === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function sendBytes(res: http.ServerResponse, contentType: string, bytes: Uint8Array): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.byteLength });
  res.end(Buffer.from(bytes));
}

let audio: { wav: Buffer; mp3: Buffer; stereoWav: Buffer } | null = null;

/** Half a second of a 440 Hz tone as mono 16-bit 22.05 kHz WAV, 16 kHz MP3 and stereo 24 kHz WAV. */
export function testAudio(): { wav: Buffer; mp3: Buffer; stereoWav: Buffer } {
  if (!audio) {
    const ff = resolveFfmpeg().path;
    const make = (args: string[]) =>
      execFileSync(ff, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:duration=0.5',
        ...args,
        'pipe:1',
      ]);
    audio = {
      wav: make(['-ac', '1', '-ar', '22050', '-c:a', 'pcm_s16le', '-f', 'wav']),
      mp3: make(['-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32k', '-f', 'mp3']),
      stereoWav: make(['-ac', '2', '-ar', '24000', '-c:a', 'pcm_s16le', '-f', 'wav']),
    };
  }
  return audio;
}

/** Duration of a mono 16-bit WAV in ms (throws if it is not one). */
export function wavMs(wav: Uint8Array): number {
  const pcm = decodeWav(wav);
  return (pcm.samples.length / pcm.sampleRate) * 1000;
}

/** Fast retry/poll settings for tests. */
export const FAST = { timeoutMs: 2_000, retries: 2, backoffMs: 10, pollIntervalMs: 20, pollTimeoutMs: 2_000 } as const;
