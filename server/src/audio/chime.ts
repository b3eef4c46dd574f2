/**
 * The project's own attention chime: three soft bell strikes rising C5–E5–A5,
 * synthesised by ffmpeg's aevalsrc (no recorded or third-party sound). Each
 * strike is a sine with a quieter inharmonic partial (×2.76, as in a small
 * bell) that dies faster, a 5 ms attack so it does not click, and an
 * exponential decay; a final fade brings it to silence at 1.6 s.
 */
import { decodeWav, type Pcm } from './pcm';
import { ffmpegFrom } from './run';

const STRIKES = [
  { at: 0, hz: 523.25 },
  { at: 0.28, hz: 659.25 },
  { at: 0.56, hz: 880.0 },
];
export const CHIME_DURATION_S = 1.6;

function strike(at: number, hz: number): string {
  const u = `(t-${at})`;
  return (
    `gte(t,${at})*min(1,${u}*200)*exp(-${u}*3.2)*` +
    `(0.22*sin(2*PI*${hz}*${u})+0.07*exp(-${u}*4)*sin(2*PI*${(hz * 2.76).toFixed(2)}*${u}))`
  );
}

export function chimeExpression(): string {
  return STRIKES.map((s) => strike(s.at, s.hz)).join('+');
}

function renderChime(sampleRate: number): Promise<Pcm> {
  const graph =
    `aevalsrc='${chimeExpression()}':s=${sampleRate}:d=${CHIME_DURATION_S}:c=mono,` +
    `afade=t=out:st=${CHIME_DURATION_S - 0.35}:d=0.35`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const out = ffmpegFrom(graph, 'lavfi')
      .audioCodec('pcm_s16le')
      .format('wav')
      .on('error', (err: Error) => reject(new Error(`ffmpeg failed to synthesise the chime: ${err.message}`)))
      .pipe();
    out.on('data', (c: Buffer) => chunks.push(c));
    out.on('end', () => {
      try {
        resolve(decodeWav(Buffer.concat(chunks)));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

const cache = new Map<number, Promise<Pcm>>();

/** The chime at `sampleRate` (the speech's, so it joins in PCM); made once per rate per process. */
export function chime(sampleRate: number): Promise<Pcm> {
  let made = cache.get(sampleRate);
  if (!made) {
    made = renderChime(sampleRate);
    made.catch(() => cache.delete(sampleRate));
    cache.set(sampleRate, made);
  }
  return made;
}
