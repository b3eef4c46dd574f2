/**
 * Live frames: one Opus packet (20 ms, 48 kHz mono) per MQTT QoS 0 message,
 * with what a loudspeaker needs to play it in step with its neighbours, and
 * copies of the packets just before it (redundancy as in RFC 2198, so one lost
 * message costs no audio). Binary, big-endian, a 20-byte header:
 *
 *   0  u16  magic 0x4C58 ("LX")
 *   2  u8   version: 1 (no copies) or 2 (with copies)
 *   3  u8   flags: bit 0 = the session's last frame (its own packet may be empty)
 *   4  u32  key: the session's (LiveAsset.key); frames of another session are ignored
 *   8  u32  seq: frame number in the session, from 0, one per 20 ms
 *  12  f64  playAt: when its first sample sounds, ms since the epoch on the server's clock
 *
 * Version 1, then:
 *
 *  20  …    the Opus packet (may carry in-band FEC for the frame before)
 *
 * Version 2, then:
 *
 *  20  u8   n: copies carried, 0 to MAX_LIVE_REDUNDANCY (and at most seq: none before frame 0)
 *  21  u16  × n: their lengths (each 1 to MAX_LIVE_PACKET_BYTES), of seq − 1, seq − 2, … in order
 *   …  the n copies in that order: the i-th (from 1) is the packet of frame seq − i, played at
 *      playAt − i · 20 ms (the server keeps its frames 20 ms apart but moves its timeline
 *      now and then; the newest frame's is the one that counts)
 *   …  the rest of the message: the frame's own Opus packet (≤ MAX_LIVE_PACKET_BYTES)
 *
 * An encoder writes version 1 when a frame carries no copies, so older loudspeakers
 * (which know only version 1) still play a stream sent without redundancy.
 */
export const LIVE_MAGIC = 0x4c58;
/** The version of a frame that carries copies of the packets before it; 1 carries none. */
export const LIVE_FRAME_VERSION = 2;
export const LIVE_HEADER_BYTES = 20;
/** The version of a frame with no copies, as the first senders wrote it. */
const PLAIN_VERSION = 1;
export const LIVE_SAMPLE_RATE = 48_000;
export const LIVE_FRAME_MS = 20;
export const LIVE_FRAME_SAMPLES = (LIVE_SAMPLE_RATE * LIVE_FRAME_MS) / 1000;
/** An Opus packet of 20 ms at any sensible bitrate is far below this (510 kbit/s → 1275 B). */
export const MAX_LIVE_PACKET_BYTES = 1500;
/** Most copies of earlier packets one frame may carry (the server sends 2). */
export const MAX_LIVE_REDUNDANCY = 3;
/** The longest live message: the header, the copies' count and lengths, and 1 + MAX_LIVE_REDUNDANCY packets. */
export const MAX_LIVE_FRAME_BYTES =
  LIVE_HEADER_BYTES + 1 + 2 * MAX_LIVE_REDUNDANCY + (1 + MAX_LIVE_REDUNDANCY) * MAX_LIVE_PACKET_BYTES;
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
  /**
   * Copies of the session's packets before this one, newest first: [i − 1] is the packet
   * of frame seq − i (which plays at playAt − i · 20 ms). Absent or empty: none.
   */
  redundant?: readonly Uint8Array[];
}

export function encodeLiveFrame(frame: LiveFrame): Buffer {
  const copies = frame.redundant ?? [];
  for (const packet of [frame.opus, ...copies]) {
    if (packet.byteLength > MAX_LIVE_PACKET_BYTES) {
      throw new Error(`a live frame carries at most ${MAX_LIVE_PACKET_BYTES} bytes of Opus per packet`);
    }
  }
  if (copies.length > MAX_LIVE_REDUNDANCY) {
    throw new Error(`a live frame carries at most ${MAX_LIVE_REDUNDANCY} copies of the packets before it`);
  }
  if (copies.length > frame.seq) throw new Error('a live frame carries no copies of frames before frame 0');
  if (copies.some((packet) => packet.byteLength === 0)) throw new Error('a copy in a live frame is never empty');
  const table = copies.length > 0 ? 1 + 2 * copies.length : 0;
  const copyBytes = copies.reduce((sum, packet) => sum + packet.byteLength, 0);
  const out = Buffer.allocUnsafe(LIVE_HEADER_BYTES + table + copyBytes + frame.opus.byteLength);
  out.writeUInt16BE(LIVE_MAGIC, 0);
  out.writeUInt8(copies.length > 0 ? LIVE_FRAME_VERSION : PLAIN_VERSION, 2);
  out.writeUInt8(frame.end ? 1 : 0, 3);
  out.writeUInt32BE(frame.key >>> 0, 4);
  out.writeUInt32BE(frame.seq >>> 0, 8);
  out.writeDoubleBE(frame.playAt, 12);
  let at = LIVE_HEADER_BYTES;
  if (copies.length > 0) {
    at = out.writeUInt8(copies.length, at);
    for (const packet of copies) at = out.writeUInt16BE(packet.byteLength, at);
    for (const packet of copies) {
      out.set(packet, at);
      at += packet.byteLength;
    }
  }
  out.set(frame.opus, at);
  return out;
}

/**
 * The frame, or null for anything that is not one (wrong magic or version, cut short, too
 * long, copies that overrun the message or are more than MAX_LIVE_REDUNDANCY). The packets
 * are views into `data`. `redundant` is always there (empty for version 1).
 */
export function decodeLiveFrame(data: Uint8Array): LiveFrame | null {
  if (data.byteLength < LIVE_HEADER_BYTES || data.byteLength > MAX_LIVE_FRAME_BYTES) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0) !== LIVE_MAGIC) return null;
  const version = view.getUint8(2);
  if (version !== PLAIN_VERSION && version !== LIVE_FRAME_VERSION) return null;
  const playAt = view.getFloat64(12);
  if (!Number.isFinite(playAt) || playAt <= 0) return null;
  const seq = view.getUint32(8);
  const redundant: Uint8Array[] = [];
  let at = LIVE_HEADER_BYTES;
  if (version === LIVE_FRAME_VERSION) {
    if (data.byteLength < at + 1) return null;
    const count = view.getUint8(at++);
    if (count > MAX_LIVE_REDUNDANCY || count > seq || data.byteLength < at + 2 * count) return null;
    const lengths: number[] = [];
    for (let i = 0; i < count; i++, at += 2) lengths.push(view.getUint16(at));
    for (const length of lengths) {
      if (length === 0 || length > MAX_LIVE_PACKET_BYTES || at + length > data.byteLength) return null;
      redundant.push(data.subarray(at, at + length));
      at += length;
    }
  }
  const opus = data.subarray(at);
  if (opus.byteLength > MAX_LIVE_PACKET_BYTES) return null;
  return { key: view.getUint32(4), seq, playAt, end: (view.getUint8(3) & 1) === 1, opus, redundant };
}
