import { describe, expect, it } from 'vitest';
import {
  decodeLiveFrame,
  encodeLiveFrame,
  LIVE_HEADER_BYTES,
  MAX_LIVE_FRAME_BYTES,
  MAX_LIVE_PACKET_BYTES,
  MAX_LIVE_REDUNDANCY,
  type LiveFrame,
} from './live';
import { parseTopic, topics } from './topics';

describe('live frames', () => {
  it('carry the key, sequence number, play-out time, end flag and Opus bytes through the wire', () => {
    const opus = Uint8Array.from([0xfc, 0xff, 0xfe, 1, 2, 3]);
    const playAt = 1_796_500_000_123.25;
    const wire = encodeLiveFrame({ key: 0xdeadbeef, seq: 4_000_000_000, playAt, end: false, opus });
    expect(wire.byteLength).toBe(LIVE_HEADER_BYTES + opus.byteLength);
    expect(wire.subarray(0, 2).toString('latin1')).toBe('LX');
    const back = decodeLiveFrame(wire)!;
    expect({ ...back, opus: [...back.opus] }).toEqual({
      key: 0xdeadbeef,
      seq: 4_000_000_000,
      playAt,
      end: false,
      opus: [...opus],
      redundant: [],
    });
    // With no copies it is still a version 1 frame, byte for byte: older loudspeakers play it.
    expect(wire.readUInt8(2)).toBe(1);
    const last = decodeLiveFrame(encodeLiveFrame({ key: 7, seq: 9, playAt, end: true, opus: new Uint8Array() }));
    expect(last).toMatchObject({ end: true, seq: 9 });
    expect(last!.opus.byteLength).toBe(0);
  });

  it('refuses what is not a frame', () => {
    const good = encodeLiveFrame({ key: 1, seq: 1, playAt: 1000, end: false, opus: new Uint8Array(10) });
    expect(decodeLiveFrame(good.subarray(0, LIVE_HEADER_BYTES - 1))).toBeNull();
    const wrongMagic = Buffer.from(good);
    wrongMagic.writeUInt16BE(0x4c59, 0);
    expect(decodeLiveFrame(wrongMagic)).toBeNull();
    const wrongVersion = Buffer.from(good);
    wrongVersion.writeUInt8(3, 2);
    expect(decodeLiveFrame(wrongVersion)).toBeNull();
    const notATime = Buffer.from(good);
    notATime.writeDoubleBE(Number.NaN, 12);
    expect(decodeLiveFrame(notATime)).toBeNull();
    const tooLong = Buffer.alloc(LIVE_HEADER_BYTES + MAX_LIVE_PACKET_BYTES + 1);
    tooLong.set(good.subarray(0, LIVE_HEADER_BYTES));
    expect(decodeLiveFrame(tooLong)).toBeNull();
    expect(() =>
      encodeLiveFrame({ key: 1, seq: 1, playAt: 1, end: false, opus: new Uint8Array(MAX_LIVE_PACKET_BYTES + 1) }),
    ).toThrow(/at most/);
  });

  describe('with copies of the packets before (version 2)', () => {
    const packet = (seq: number, length = 40 + (seq % 7)) =>
      Uint8Array.from({ length }, (_, i) => (seq * 31 + i) & 0xff);
    const plain = (frame: LiveFrame | null) =>
      frame && { ...frame, opus: [...frame.opus], redundant: frame.redundant?.map((p) => [...p]) };

    it('carry the frame’s own packet and the copies, newest first, through the wire', () => {
      const playAt = 1_796_500_000_123.25;
      const frame = { key: 0xdeadbeef, seq: 4_000_000_000, playAt, end: false, opus: packet(0) };
      const redundant = [packet(9, 61), packet(8, 1)];
      const wire = encodeLiveFrame({ ...frame, redundant });
      expect(wire.readUInt8(2)).toBe(2);
      // The header, the count, two u16 lengths, the copies and the packet: 5 bytes for the table.
      expect(wire.byteLength).toBe(LIVE_HEADER_BYTES + 1 + 2 * 2 + 61 + 1 + frame.opus.byteLength);
      expect(plain(decodeLiveFrame(wire))).toEqual(plain({ ...frame, redundant }));
    });

    it('keep the end flag, with or without audio of its own', () => {
      const playAt = 1_000_000;
      const withCopies = decodeLiveFrame(
        encodeLiveFrame({
          key: 7,
          seq: 9,
          playAt,
          end: true,
          opus: new Uint8Array(),
          redundant: [packet(8), packet(7)],
        }),
      );
      expect(withCopies).toMatchObject({ end: true, seq: 9 });
      expect(withCopies!.opus.byteLength).toBe(0);
      expect(plain(withCopies)!.redundant).toEqual([[...packet(8)], [...packet(7)]]);
      const lastWithAudio = decodeLiveFrame(
        encodeLiveFrame({ key: 7, seq: 9, playAt, end: true, opus: packet(9), redundant: [packet(8)] }),
      );
      expect(plain(lastWithAudio)).toMatchObject({ end: true, opus: [...packet(9)], redundant: [[...packet(8)]] });
    });

    it('take the most copies and the longest packets there may be', () => {
      const big = (seq: number) => packet(seq, MAX_LIVE_PACKET_BYTES);
      const frame = {
        key: 1,
        seq: 10,
        playAt: 1000,
        end: false,
        opus: big(10),
        redundant: [big(9), big(8), big(7)],
      };
      const wire = encodeLiveFrame(frame);
      expect(wire.byteLength).toBe(MAX_LIVE_FRAME_BYTES);
      expect(plain(decodeLiveFrame(wire))).toEqual(plain(frame));
    });

    it('refuse what is malformed', () => {
      const frame = { key: 1, seq: 5, playAt: 1000, end: false, opus: packet(5), redundant: [packet(4), packet(3)] };
      const good = encodeLiveFrame(frame);
      expect(decodeLiveFrame(good)).not.toBeNull();
      const COUNT = LIVE_HEADER_BYTES;
      const with_ = (edit: (b: Buffer) => void) => {
        const copy = Buffer.from(good);
        edit(copy);
        return decodeLiveFrame(copy);
      };
      // Cut inside the count, inside the length table, inside a copy.
      expect(decodeLiveFrame(good.subarray(0, COUNT))).toBeNull();
      expect(decodeLiveFrame(good.subarray(0, COUNT + 2))).toBeNull();
      expect(decodeLiveFrame(good.subarray(0, COUNT + 5 + 10))).toBeNull();
      // A length that runs past the end of the message.
      expect(with_((b) => b.writeUInt16BE(good.byteLength, COUNT + 1))).toBeNull();
      expect(with_((b) => b.writeUInt16BE(frame.opus.byteLength + 50, COUNT + 3))).toBeNull();
      // An empty copy, a copy longer than any packet, more copies than allowed, copies before frame 0.
      expect(with_((b) => b.writeUInt16BE(0, COUNT + 1))).toBeNull();
      const longCopy = Buffer.alloc(LIVE_HEADER_BYTES + 3 + MAX_LIVE_PACKET_BYTES + 1);
      good.copy(longCopy, 0, 0, LIVE_HEADER_BYTES);
      longCopy.writeUInt8(1, COUNT);
      longCopy.writeUInt16BE(MAX_LIVE_PACKET_BYTES + 1, COUNT + 1);
      expect(decodeLiveFrame(longCopy)).toBeNull();
      expect(with_((b) => b.writeUInt8(MAX_LIVE_REDUNDANCY + 1, COUNT))).toBeNull();
      expect(with_((b) => b.writeUInt8(255, COUNT))).toBeNull();
      expect(with_((b) => b.writeUInt32BE(1, 8))).toBeNull();
      // The frame's own packet too long, the whole message too long.
      const ownAt = good.byteLength - frame.opus.byteLength;
      const ownTooLong = Buffer.concat([good.subarray(0, ownAt), Buffer.alloc(MAX_LIVE_PACKET_BYTES + 1)]);
      expect(
        decodeLiveFrame(Buffer.concat([good.subarray(0, ownAt), Buffer.alloc(MAX_LIVE_PACKET_BYTES)])),
      ).not.toBeNull();
      expect(decodeLiveFrame(ownTooLong)).toBeNull();
      expect(decodeLiveFrame(Buffer.concat([good, Buffer.alloc(MAX_LIVE_FRAME_BYTES)]))).toBeNull();
      // What the encoder will not write.
      expect(() => encodeLiveFrame({ ...frame, redundant: [packet(4), packet(3), packet(2), packet(1)] })).toThrow(
        /at most 3 copies/,
      );
      expect(() => encodeLiveFrame({ ...frame, seq: 1 })).toThrow(/before frame 0/);
      expect(() => encodeLiveFrame({ ...frame, redundant: [new Uint8Array()] })).toThrow(/never empty/);
      expect(() => encodeLiveFrame({ ...frame, redundant: [packet(4, MAX_LIVE_PACKET_BYTES + 1)] })).toThrow(/at most/);
    });
  });

  it('has a zone live topic and device ping/pong/live topics the parser knows', () => {
    expect(parseTopic(topics.zoneLive('thon-1'))).toEqual({ scope: 'zone', zoneId: 'thon-1', kind: 'live' });
    expect(parseTopic(topics.devicePing('loa-1'))).toEqual({ scope: 'dev', deviceId: 'loa-1', kind: 'ping' });
    expect(parseTopic(topics.devicePong('loa-1'))?.kind).toBe('pong');
    expect(parseTopic(topics.deviceLive('loa-1'))?.kind).toBe('live');
    expect(parseTopic('loaxa/v1/zone/thon-1/plan')).toBeNull();
  });
});
