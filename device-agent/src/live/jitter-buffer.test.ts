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

  describe('with copies of the packets before (redundancy)', () => {
    const copy = (seq: number): LiveFrame => ({ ...frame(seq), opus: Uint8Array.of(seq & 0xff) });
    /** Frame `seq` as the server sends it: with copies of the `copies` packets before it. */
    const carrying = (seq: number, copies = 2): LiveFrame =>
      frame(seq, {
        redundant: Array.from({ length: Math.min(copies, seq) }, (_, i) => Uint8Array.of((seq - i - 1) & 0xff)),
      });

    it('fills the slots of lost messages from the copies a later one carries, at their own times', () => {
      const buffer = new JitterBuffer(KEY);
      expect(buffer.push(carrying(0))).toBe('accepted');
      // 1 and 2 lost: 3 carries both.
      expect(buffer.push(carrying(3))).toBe('accepted');
      expect(buffer.take(0)).toEqual({ kind: 'frame', frame: carrying(0) });
      expect(buffer.take(1)).toEqual({ kind: 'redundant', frame: copy(1) });
      expect(buffer.take(2)).toEqual({ kind: 'redundant', frame: copy(2) });
      expect(buffer.take(3)).toEqual({ kind: 'frame', frame: carrying(3) });
    });

    it('holds a frame once, whether its message or a copy comes first, and says duplicate only of a message', () => {
      const buffer = new JitterBuffer(KEY);
      expect(buffer.push(carrying(5))).toBe('accepted');
      // Its copies in 6 and 7 change nothing: the frame is there already.
      expect(buffer.push(carrying(6))).toBe('accepted');
      expect(buffer.push(carrying(7))).toBe('accepted');
      // 5, 6 and 7, and the copies of 3 and 4 that 5 carried.
      expect(buffer.size).toBe(5);
      // 9 overtakes 8: 8 is held from its copy, then its own message replaces it (no duplicate).
      expect(buffer.push(carrying(9))).toBe('accepted');
      expect(buffer.push(carrying(8))).toBe('accepted');
      expect(buffer.push(carrying(8))).toBe('duplicate');
      for (const seq of [5, 6, 7, 8, 9]) expect(buffer.take(seq)).toEqual({ kind: 'frame', frame: carrying(seq) });
      expect(buffer.size).toBe(0);
    });

    it('drops copies of slots played or jumped over, and copies from before frame 0', () => {
      const buffer = new JitterBuffer(KEY);
      buffer.take(10);
      expect(buffer.push(carrying(12))).toBe('accepted');
      // 11 is still to come; 10 was played.
      expect(buffer.size).toBe(2);
      expect(buffer.lowestSeq).toBe(11);
      const early = new JitterBuffer(KEY);
      early.push(frame(1, { redundant: [Uint8Array.of(0), Uint8Array.of(9)] }));
      expect(early.lowestSeq).toBe(0);
      expect(early.size).toBe(2);
    });

    it('uses a copy as the next frame for FEC when three messages in a row are lost', () => {
      const buffer = new JitterBuffer(KEY);
      // 4, 5 and 6 lost: 7 carries 6 and 5; 4 is rebuilt from 5's in-band FEC.
      buffer.push(carrying(7));
      expect(buffer.take(4)).toEqual({ kind: 'fec', next: copy(5) });
      expect(buffer.take(5)).toEqual({ kind: 'redundant', frame: copy(5) });
    });
  });

  it('forgets frames of slots jumped over', () => {
    const buffer = new JitterBuffer(KEY);
    for (const seq of [1, 2, 3, 4]) buffer.push(frame(seq));
    buffer.take(3);
    expect(buffer.size).toBe(1);
    expect(buffer.lowestSeq).toBe(4);
  });
});
