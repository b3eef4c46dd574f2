import { describe, expect, it } from 'vitest';
import { decodeLiveFrame, encodeLiveFrame, LIVE_HEADER_BYTES, MAX_LIVE_PACKET_BYTES } from './live';
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
    });
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
    wrongVersion.writeUInt8(2, 2);
    expect(decodeLiveFrame(wrongVersion)).toBeNull();
    const notATime = Buffer.from(good);
    notATime.writeDoubleBE(Number.NaN, 12);
    expect(decodeLiveFrame(notATime)).toBeNull();
    expect(decodeLiveFrame(Buffer.alloc(LIVE_HEADER_BYTES + MAX_LIVE_PACKET_BYTES + 1))).toBeNull();
    expect(() =>
      encodeLiveFrame({ key: 1, seq: 1, playAt: 1, end: false, opus: new Uint8Array(MAX_LIVE_PACKET_BYTES + 1) }),
    ).toThrow(/at most/);
  });

  it('has a zone live topic and device ping/pong/live topics the parser knows', () => {
    expect(parseTopic(topics.zoneLive('thon-1'))).toEqual({ scope: 'zone', zoneId: 'thon-1', kind: 'live' });
    expect(parseTopic(topics.devicePing('loa-1'))).toEqual({ scope: 'dev', deviceId: 'loa-1', kind: 'ping' });
    expect(parseTopic(topics.devicePong('loa-1'))?.kind).toBe('pong');
    expect(parseTopic(topics.deviceLive('loa-1'))?.kind).toBe('live');
    expect(parseTopic('loaxa/v1/zone/thon-1/plan')).toBeNull();
  });
});
