/// <reference lib="dom" />
/**
 * The officer of the live bench: a real chromium whose fake microphone plays
 * a WAV of clicks, and in the page the capture the console uses (getUserMedia
 * → AudioContext at 48 kHz → an AudioWorklet cutting 20 ms chunks → WebCodecs
 * Opus → one WebSocket message per packet). The worklet also finds the clicks
 * as they enter it: their "mouth" times, mapped from the audio clock to wall
 * time by the earliest arrival of the chunks' messages (the lower envelope of
 * message delay). The fake device has no acoustic delay, so that is the mouth.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../web/test/e2e/devices-page-timing';
import { resolveFfmpeg } from '../../server/src/audio/ffmpeg';

export const CLICK_EVERY_MS = 500;
const WAV_SECONDS = 10;

/**
 * 48 kHz mono: a −40 dBFS 300 Hz hum (so every played frame has sound, and a silent slot is
 * zeros) with a 3 ms 1 kHz click (−2 dBFS) every 500 ms, from t = 0; 10 s, looped by chromium.
 */
export function writeClickWav(file: string): { ffmpeg: string } {
  const ffmpeg = resolveFfmpeg();
  const expr = `0.01*sin(2*PI*300*t)+if(lt(mod(t,0.5),0.003),0.8*sin(2*PI*1000*mod(t,0.5)),0)`;
  const result = spawnSync(
    ffmpeg.path,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `aevalsrc='${expr}':s=48000:d=${WAV_SECONDS}`,
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      file,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg could not make the click WAV: ${result.stderr}`);
  return { ffmpeg: `${ffmpeg.path} (${ffmpeg.source})` };
}

const WORKLET = `
class BenchCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunk = new Float32Array(960);
    this.filled = 0;
    this.lastLoud = -1e12;
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const x = channel[i];
      const frame = currentFrame + i;
      if (x > 0.3 || x < -0.3) {
        // A click: loud after at least 100 ms below the threshold.
        if (frame - this.lastLoud > 4800) this.port.postMessage({ click: frame });
        this.lastLoud = frame;
      }
      this.chunk[this.filled++] = x;
      if (this.filled === 960) {
        this.port.postMessage({ chunk: this.chunk, end: frame + 1 }, [this.chunk.buffer]);
        this.chunk = new Float32Array(960);
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor('bench-capture', BenchCapture);
`;

export interface Capture {
  sampleRate: number;
  /** Audio-clock frame of each click, as it entered the worklet. */
  clickFrames: number[];
  /** [end frame, wall-time arrival ms] of each chunk's message. */
  chunks: [number, number][];
  packets: number;
  sent: number;
  encoderErrors: string[];
  /** Wall time of the last send, and the gaps between sends (ms) since the counts were read. */
  lastSendAt: number;
  gaps: number[];
}

export interface Officer {
  browser: Browser;
  page: Page;
  /** Starts a session on air through the API, from the page (its cookie). */
  goLive(body: { zones: string[]; latencyMs: number; title: string }): Promise<{
    id: string;
    occurrenceId: string;
    revision: number;
  }>;
  /** Opens the session's audio WebSocket; packets flow into it from now. */
  speak(sessionId: string): Promise<void>;
  /** Ends the session (POST stop), then closes the socket. */
  /** Stops the session: 'stopped', or how it had already ended (e.g. 'dropped'). */
  stop(sessionId: string, revision: number): Promise<string>;
  /** The clicks' mouth times so far (wall ms), and what the capture did. */
  mouthTimes(): Promise<{
    clicks: number[];
    capture: Pick<Capture, 'sampleRate' | 'packets' | 'sent' | 'encoderErrors'>;
    /** Gaps between the packets sent since the last call, ms. */
    sendGaps: { count: number; p50: number; p99: number; max: number; over60: number };
  }>;
  close(): Promise<void>;
}

/** Launches chromium on the server's origin, signs in, and starts capturing (not yet sending). */
export async function startOfficer(options: {
  serverUrl: string;
  password: string;
  wav: string;
  timeoutMs: number;
}): Promise<Officer> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: options.timeoutMs,
    args: [
      ...CHROMIUM_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${path.resolve(options.wav)}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const page = await browser.newPage();
  // tsx compiles with keepNames: the functions handed to page.evaluate call esbuild's __name helper.
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  page.setDefaultTimeout(options.timeoutMs);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Any page of the origin: the API calls and the WebSocket are then same-origin, with its cookie.
  await page.goto(`${options.serverUrl}/api/v1/health`);
  const signedIn = await page.evaluate(async (password) => {
    const res = await fetch('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    return `${res.status} ${res.ok ? '' : await res.text()}`;
  }, options.password);
  if (!signedIn.startsWith('200')) throw new Error(`sign-in from the page failed: ${signedIn}`);

  const started = await page.evaluate(async (workletSource) => {
    const w = window as unknown as Record<string, unknown>;
    if (typeof AudioEncoder === 'undefined') return 'no WebCodecs AudioEncoder in this chromium';
    const config: AudioEncoderConfig = {
      codec: 'opus',
      sampleRate: 48_000,
      numberOfChannels: 1,
      bitrate: 24_000,
      opus: { frameDuration: 20_000, useinbandfec: true, packetlossperc: 10 },
    };
    const support = await AudioEncoder.isConfigSupported(config);
    if (!support.supported) return 'chromium’s AudioEncoder refuses Opus 48 kHz mono 20 ms';
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
    const context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
    const url = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
    await context.audioWorklet.addModule(url);
    const capture: Capture = {
      sampleRate: context.sampleRate,
      clickFrames: [],
      chunks: [],
      packets: 0,
      sent: 0,
      encoderErrors: [],
      lastSendAt: 0,
      gaps: [],
    };
    w.benchCapture = capture;
    w.benchSocket = null;
    const encoder = new AudioEncoder({
      output: (chunk) => {
        const packet = new Uint8Array(chunk.byteLength);
        chunk.copyTo(packet);
        capture.packets++;
        const ws = w.benchSocket as WebSocket | null;
        if (ws && ws.readyState === WebSocket.OPEN) {
          ws.send(packet);
          capture.sent++;
          const now = performance.now();
          if (capture.lastSendAt) capture.gaps.push(now - capture.lastSendAt);
          capture.lastSendAt = now;
        }
      },
      error: (e) => capture.encoderErrors.push(String(e)),
    });
    encoder.configure(config);
    const node = new AudioWorkletNode(context, 'bench-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: 'explicit',
    });
    node.port.onmessage = (
      event: MessageEvent<{ click?: number; chunk?: Float32Array<ArrayBuffer>; end?: number }>,
    ) => {
      const arrived = performance.timeOrigin + performance.now();
      const { click, chunk, end } = event.data;
      if (click !== undefined) capture.clickFrames.push(click);
      if (!chunk || end === undefined) return;
      capture.chunks.push([end, arrived]);
      const data = new AudioData({
        format: 'f32',
        sampleRate: 48_000,
        numberOfFrames: 960,
        numberOfChannels: 1,
        timestamp: Math.round(((end - 960) / 48_000) * 1e6),
        data: chunk,
      });
      encoder.encode(data);
      data.close();
    };
    context.createMediaStreamSource(stream).connect(node);
    node.connect(context.destination);
    if (context.state !== 'running') await context.resume();
    return 'ok';
  }, WORKLET);
  if (started !== 'ok') throw new Error(`capture did not start: ${started} ${pageErrors.join('; ')}`);

  const api = async <T>(method: string, url: string, body: unknown): Promise<T> => {
    const reply = await page.evaluate(
      async ([method, url, body]) => {
        const res = await fetch(url as string, {
          method: method as string,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, text: await res.text() };
      },
      [method, url, body] as const,
    );
    if (reply.status >= 300) throw new Error(`${method} ${url}: ${reply.status} ${reply.text}`);
    return JSON.parse(reply.text) as T;
  };

  return {
    browser,
    page,
    goLive: (body) => api('POST', '/api/v1/live', body),
    async speak(sessionId) {
      const opened = await page.evaluate(async (id) => {
        const w = window as unknown as Record<string, unknown>;
        const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/v1/live/${id}/audio`);
        ws.binaryType = 'arraybuffer';
        return await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('timed out'), 10_000);
          ws.onopen = () => {
            clearTimeout(timer);
            w.benchSocket = ws;
            resolve('ok');
          };
          ws.onerror = () => {
            clearTimeout(timer);
            resolve('refused');
          };
        });
      }, sessionId);
      if (opened !== 'ok') throw new Error(`the audio WebSocket of ${sessionId}: ${opened}`);
    },
    async stop(sessionId, revision) {
      let ended = 'stopped';
      await api('POST', `/api/v1/live/${sessionId}/stop`, { revision }).catch((err: Error) => {
        // 409 with the current state: the server had ended it already (the reason is the finding).
        const current = /: 409 (.*)$/s.exec(err.message)?.[1];
        if (!current) throw err;
        ended = (JSON.parse(current) as { current?: { endReason?: string } }).current?.endReason ?? 'unknown';
      });
      await page.evaluate(() => {
        const w = window as unknown as Record<string, unknown>;
        (w.benchSocket as WebSocket | null)?.close();
        w.benchSocket = null;
      });
      return ended;
    },
    async mouthTimes() {
      const capture = await page.evaluate(() => {
        const c = (window as unknown as { benchCapture: Capture }).benchCapture;
        const gaps = c.gaps.splice(0);
        c.lastSendAt = 0;
        return { ...c, gaps, clickFrames: [...c.clickFrames], chunks: [...c.chunks] };
      });
      const { clickFrames, chunks, gaps, sampleRate, packets, sent, encoderErrors } = capture;
      gaps.sort((a, b) => a - b);
      const at = (p: number) =>
        Math.round((gaps[Math.min(gaps.length - 1, Math.ceil((p / 100) * gaps.length) - 1)] ?? NaN) * 10) / 10;
      const sendGaps = {
        count: gaps.length,
        p50: at(50),
        p99: at(99),
        max: at(100),
        over60: gaps.filter((g) => g > 60).length,
      };
      const msPerFrame = 1000 / capture.sampleRate;
      // Wall time of audio frame f: f·msPerFrame + the smallest (arrival − end·msPerFrame) of the chunks
      // within 5 s of it (their messages left the worklet as the chunk's last sample entered it).
      const clicks = clickFrames.map((frame) => {
        let offset = Infinity;
        for (const [end, arrived] of chunks) {
          if (Math.abs(end - frame) > capture.sampleRate * 5) continue;
          offset = Math.min(offset, arrived - end * msPerFrame);
        }
        return frame * msPerFrame + offset;
      });
      return {
        clicks: clicks.filter(Number.isFinite),
        capture: { sampleRate, packets, sent, encoderErrors },
        sendGaps,
      };
    },
    close: () => browser.close(),
  };
}
