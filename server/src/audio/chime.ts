/**
 * The project's own attention chime: three soft bell strikes rising C5–E5–A5,
 * synthesised by ffmpeg's aevalsrc (no recorded or third-party sound). Each
 * strike is a sine with a quieter inharmonic partial (×2.76, as in a small
 * bell) that dies faster, a 5 ms attack so it does not click, and an
 * exponential decay; a final fade brings it to silence at 1.6 s.
 *
 * Disaster alerts have their own tones, one per risk level (Decision 18/2021,
 * levels 1–5), so a villager knows how grave it is before a word is said:
 * level N is N urgent "hi-lo" pulses (a bright tone with its third harmonic,
 * which carries on horn loudspeakers), higher in pitch as the level rises.
 * The all-clear is two long, calm rising notes.
 */
import { decodeWav, type Pcm } from './pcm';
import { ffmpegFrom } from './run';

const STRIKES = [
  { at: 0, hz: 523.25 },
  { at: 0.28, hz: 659.25 },
  { at: 0.56, hz: 880.0 },
];
export const CHIME_DURATION_S = 1.6;

/** The notice chime, an alert's tone by risk level, or the all-clear after a cancelled alert. */
export type ChimeKind = 'notice' | 'alert-1' | 'alert-2' | 'alert-3' | 'alert-4' | 'alert-5' | 'all-clear';
export const CHIME_KINDS: readonly ChimeKind[] = [
  'notice',
  'alert-1',
  'alert-2',
  'alert-3',
  'alert-4',
  'alert-5',
  'all-clear',
];

/** The tone of an alert of risk level `level` (clamped to 1–5). */
export function alertTone(level: number): ChimeKind {
  return `alert-${Math.min(5, Math.max(1, Math.round(level)))}` as ChimeKind;
}

/** One pulse of an alert tone: `hz` for its first half, ¾ of it for the second, 5 ms edges. */
const PULSE_S = 0.36;
const PULSE_PERIOD_S = 0.52;
function pulse(at: number, hz: number): string {
  const u = `(t-${at})`;
  const half = PULSE_S / 2;
  const tone = (f: number) => `(0.3*sin(2*PI*${f.toFixed(2)}*${u})+0.1*sin(2*PI*${(f * 3).toFixed(2)}*${u}))`;
  return (
    `gte(t,${at})*lt(t,${(at + PULSE_S).toFixed(3)})*min(1,${u}*200)*min(1,(${PULSE_S}-${u})*200)*` +
    `if(lt(${u},${half}),${tone(hz)},${tone(hz * 0.75)})`
  );
}

/** The aevalsrc expression and duration of a tone. */
export function toneOf(kind: ChimeKind): { expression: string; durationS: number } {
  if (kind === 'notice') return { expression: chimeExpression(), durationS: CHIME_DURATION_S };
  if (kind === 'all-clear') {
    // C5 then G5, each 0.7 s with a soft attack and release.
    const note = (at: number, hz: number) =>
      `gte(t,${at})*lt(t,${at + 0.7})*min(1,(t-${at})*20)*min(1,(${at + 0.7}-t)*20)*` +
      `0.25*sin(2*PI*${hz}*(t-${at}))`;
    return { expression: `${note(0, 523.25)}+${note(0.8, 783.99)}`, durationS: 1.6 };
  }
  const level = Number(kind.slice('alert-'.length));
  const hz = 700 + 80 * level;
  const pulses = Array.from({ length: level }, (_, i) => pulse(Number((i * PULSE_PERIOD_S).toFixed(3)), hz));
  return { expression: pulses.join('+'), durationS: Number(((level - 1) * PULSE_PERIOD_S + PULSE_S + 0.1).toFixed(3)) };
}

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

function renderChime(sampleRate: number, kind: ChimeKind): Promise<Pcm> {
  const { expression, durationS } = toneOf(kind);
  const fade = kind === 'notice' ? `,afade=t=out:st=${CHIME_DURATION_S - 0.35}:d=0.35` : '';
  const graph = `aevalsrc='${expression}':s=${sampleRate}:d=${durationS}:c=mono${fade}`;
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

const cache = new Map<string, Promise<Pcm>>();

/** The chime (or tone) at `sampleRate` (the speech's, so it joins in PCM); made once per rate and kind per process. */
export function chime(sampleRate: number, kind: ChimeKind = 'notice'): Promise<Pcm> {
  const key = `${kind}@${sampleRate}`;
  let made = cache.get(key);
  if (!made) {
    made = renderChime(sampleRate, kind);
    made.catch(() => cache.delete(key));
    cache.set(key, made);
  }
  return made;
}
