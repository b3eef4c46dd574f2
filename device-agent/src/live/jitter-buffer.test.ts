import type { LiveFrame } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './jitter-buffer';

const KEY = 7;
const frame = (seq: number, extra: Partial<LiveFrame> = {}): LiveFrame => ({
  key: KEY,
  seq,
  playAt: 1_000 + seq * 20,
  end: false,
  opus: Uint8Array.of(seq & 0xff),
  ...extra,
});

describe('JitterBuffer', () => {
  it('accepts frames in any order and hands them out by slot', () => {
    const buffer = new JitterBuffer(KEY);
    for (const seq of [2, 0, 1]) expect(buffer.push(frame(seq))).toBe('accepted');
    expect(buffer.take(0)).toEqual({ kind: 'frame', frame: frame(0) });
    expect(buffer.take(1)).toEqual({ kind: 'frame', frame: frame(1) });
    expect(buffer.take(2)).toEqual({ kind: 'frame', frame: frame(2) });
    expect(buffer.size).toBe(0);
  });

  it.each<[string, (buffer: JitterBuffer) => ReturnType<JitterBuffer['push']>, string]>([
    ['a repeat', (b) => (b.push(frame(5)), b.push(frame(5))), 'duplicate'],
    ['another session', (b) => b.push(frame(5, { key: KEY + 1 })), 'foreign'],
    ['a frame whose slot was played', (b) => (b.take(5), b.push(frame(5))), 'late'],
    ['a frame whose slot was jumped over', (b) => (b.take(9), b.push(frame(6))), 'late'],
    ['a frame 5 s ahead of the next slot to play', (b) => (b.take(0), b.push(frame(251))), 'too-far'],
    ['a frame 5 s ahead of the first one held', (b) => (b.push(frame(10)), b.push(frame(260))), 'too-far'],
    ['(but takes one just under 5 s ahead)', (b) => (b.take(0), b.push(frame(250))), 'accepted'],
  ])('refuses %s', (_, act, expected) => {
    expect(act(new JitterBuffer(KEY))).toBe(expected);
  });

  it('points at the next frame for FEC when a slot is missing, and keeps that frame for its own slot', () => {
    const buffer = new JitterBuffer(KEY);
    buffer.push(frame(4));
    expect(buffer.take(3)).toEqual({ kind: 'fec', next: frame(4) });
    expect(buffer.take(4)).toEqual({ kind: 'frame', frame: frame(4) });
  });

  it('says missing when neither the frame nor the next is there, or the next has no audio', () => {
    const buffer = new JitterBuffer(KEY);
    buffer.push(frame(8));
    buffer.push(frame(11, { end: true, opus: new Uint8Array(0) }));
    expect(buffer.take(6)).toEqual({ kind: 'missing' });
    expect(buffer.take(10)).toEqual({ kind: 'missing' });
  });

  it('forgets frames of slots jumped over', () => {
    const buffer = new JitterBuffer(KEY);
    for (const seq of [1, 2, 3, 4]) buffer.push(frame(seq));
    buffer.take(3);
    expect(buffer.size).toBe(1);
    expect(buffer.lowestSeq).toBe(4);
  });
});
