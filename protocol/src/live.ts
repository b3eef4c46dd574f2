/**
 * Live frames: one Opus packet (20 ms, 48 kHz mono) per MQTT QoS 0 message,
 * with what a loudspeaker needs to play it in step with its neighbours. Binary,
 * big-endian, a 20-byte header:
 *
 *   0  u16  magic 0x4C58 ("LX")
 *   2  u8   version (1)
 *   3  u8   flags: bit 0 = the session's last frame (its payload may be empty)
 *   4  u32  key: the session's (LiveAsset.key); frames of another session are ignored
 *   8  u32  seq: frame number in the session, from 0, one per 20 ms
 *  12  f64  playAt: when its first sample sounds, ms since the epoch on the server's clock
 *  20  …    the Opus packet (may carry in-band FEC for the frame before)
 */
export const LIVE_MAGIC = 0x4c58;
export const LIVE_FRAME_VERSION = 1;
export const LIVE_HEADER_BYTES = 20;
export const LIVE_SAMPLE_RATE = 48_000;
export const LIVE_FRAME_MS = 20;
export const LIVE_FRAME_SAMPLES = (LIVE_SAMPLE_RATE * LIVE_FRAME_MS) / 1000;
/** An Opus packet of 20 ms at any sensible bitrate is far below this (510 kbit/s → 1275 B). */
export const MAX_LIVE_PACKET_BYTES = 1500;
/** The server ends a session whose officer sent nothing for this long (her connection dropped). */
export const LIVE_SILENCE_END_MS = 2_000;
/**
 * A loudspeaker that hears no frame for this long ends the session quietly. Longer than the
 * server's 2 s: a session ends by its end frame and stop command; this is for a server that went
 * away, and a 4G outage of a few seconds must not end the session for the loudspeaker (it plays
 * again from the frames that come after).
 */
export const LIVE_LINK_LOST_END_MS = 10_000;

export interface LiveFrame {
  key: number;
  seq: number;
  playAt: number;
  end: boolean;
  opus: Uint8Array;
}

export function encodeLiveFrame(frame: LiveFrame): Buffer {
  if (frame.opus.byteLength > MAX_LIVE_PACKET_BYTES) {
    throw new Error(`a live frame carries at most ${MAX_LIVE_PACKET_BYTES} bytes of Opus`);
  }
  const out = Buffer.allocUnsafe(LIVE_HEADER_BYTES + frame.opus.byteLength);
  out.writeUInt16BE(LIVE_MAGIC, 0);
  out.writeUInt8(LIVE_FRAME_VERSION, 2);
  out.writeUInt8(frame.end ? 1 : 0, 3);
  out.writeUInt32BE(frame.key >>> 0, 4);
  out.writeUInt32BE(frame.seq >>> 0, 8);
  out.writeDoubleBE(frame.playAt, 12);
  out.set(frame.opus, LIVE_HEADER_BYTES);
  return out;
}

/** The frame, or null for anything that is not one (wrong magic or version, cut short, too long). */
export function decodeLiveFrame(data: Uint8Array): LiveFrame | null {
  if (data.byteLength < LIVE_HEADER_BYTES || data.byteLength > LIVE_HEADER_BYTES + MAX_LIVE_PACKET_BYTES) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0) !== LIVE_MAGIC || view.getUint8(2) !== LIVE_FRAME_VERSION) return null;
  const playAt = view.getFloat64(12);
  if (!Number.isFinite(playAt) || playAt <= 0) return null;
  return {
    key: view.getUint32(4),
    seq: view.getUint32(8),
    playAt,
    end: (view.getUint8(3) & 1) === 1,
    opus: data.subarray(LIVE_HEADER_BYTES),
  };
}
