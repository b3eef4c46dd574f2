/**
 * The officer's side of a live session in the server's tests: 20 ms Opus packets of a tone or
 * of clicks, the audio WebSocket, and sending at the real pace of speech.
 */
import { Encoder } from '@evan/opus';
import WebSocket from 'ws';
import { LIVE_FRAME_SAMPLES } from '@loaxa/protocol';

function encode(count: number, fill: (pcm: Int16Array, n: number) => void): Uint8Array[] {
  const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  return Array.from({ length: count }, (_, n) => {
    const pcm = new Int16Array(LIVE_FRAME_SAMPLES);
    fill(pcm, n);
    return encoder.encode(pcm);
  });
}

/** 20 ms packets of a 440 Hz tone (sound: the silence watchdog leaves it alone). */
export function tonePackets(count: number): Uint8Array[] {
  return encode(count, (pcm, n) => {
    for (let i = 0; i < pcm.length; i++) {
      pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * LIVE_FRAME_SAMPLES + i)) / 48_000));
    }
  });
}

/** 20 ms packets of silence with a 1 ms full-scale click opening every `every`-th frame (not the first). */
export function clickPackets(count: number, every: number): Uint8Array[] {
  return encode(count, (pcm, n) => {
    if (n > 0 && n % every === 0) for (let i = 0; i < 48; i++) pcm[i] = i % 2 ? 30_000 : -30_000;
  });
}

/** The officer's audio connection to session `sessionId` on the server at `url`, with her session cookie. */
export function speak(url: string, sessionId: string, cookie: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/live/${sessionId}/audio`, { headers: { cookie } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Sends `list` at the real pace of speech, one packet per 20 ms; the server-clock time each was sent. */
export async function sendPaced(ws: WebSocket, list: Uint8Array[]): Promise<number[]> {
  const sentAt: number[] = [];
  const start = performance.now();
  for (const [n, packet] of list.entries()) {
    ws.send(packet);
    sentAt[n] = performance.timeOrigin + performance.now();
    const due = start + (n + 1) * 20 - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
  return sentAt;
}
