/**
 * Streaming Ogg Opus muxer (RFC 7845 over RFC 3533) for recording a live
 * broadcast: the officer's browser already sends Opus packets, so the file is
 * the packets themselves framed in Ogg pages, without re-encoding.
 *
 * No npm package fits: prism-media and ogg-opus-decoder only demux or decode,
 * `ogg`/`ogg-packet` are native libogg bindings, opus-recorder muxes inside a
 * browser worker around its own encoder. The muxing itself is small.
 *
 * Each finished page goes to the file at once (through an async write queue,
 * never sync I/O), so a crash loses at most the page being filled, about 1 s.
 * A file cut short that way has no end-of-stream flag but still plays.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';

const OPUS_RATE = 48_000;
/** A page is closed after this many packets or this much audio: the most a crash can lose. */
const MAX_PACKETS_PER_PAGE = 50;
const MAX_SAMPLES_PER_PAGE = OPUS_RATE;
/** Ogg's lacing table has one byte for its length. */
const MAX_SEGMENTS_PER_PAGE = 255;
/** RFC 7845 §4.1: only gaps made of whole 2.5 ms frames can be repaired. */
const SMALLEST_FRAME = 120;

const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;

/** libopus' encoder lookahead at 48 kHz for the voip and audio applications. */
export const DEFAULT_PRE_SKIP = 312;

export interface OggOpusOptions {
  channels?: 1 | 2;
  /** Samples at 48 kHz the player drops from the start: the encoder's lookahead. */
  preSkip?: number;
  vendor?: string;
  /** Vorbis comments, e.g. `{ TITLE: 'Bản tin sáng' }`. */
  comments?: Record<string, string>;
}

export interface OggOpusSummary {
  /** Playable length: the final granule position less the pre-skip. */
  durationMs: number;
  /** Bytes written to the file. */
  bytes: number;
}

interface OpenPage {
  packets: Uint8Array[];
  segments: number;
  samples: number;
  /** The comment header's page takes no audio: RFC 7845 §3 starts audio on a fresh page. */
  sealed: boolean;
}

export class OggOpusWriter {
  private readonly serial = randomInt(2 ** 32);
  private sequence = 0;
  /** Samples of every packet completed so far, pre-skip included (RFC 7845 §4). */
  private granule = 0;
  /**
   * The page being filled. A full page is written when the next packet arrives
   * rather than at once, so that close() always has a page with data on which to
   * set the end-of-stream flag (some demuxers choke on an empty last page).
   */
  private page: OpenPage;
  /** Config and stereo bits of the last packet, so a concealment packet matches it (RFC 7845 §4.1). */
  private lastToc: number;
  private queue: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;
  private bytes = 0;

  private constructor(
    private readonly file: fs.FileHandle,
    channels: 1 | 2,
    private readonly preSkip: number,
  ) {
    // Default concealment TOC: CELT fullband 20 ms (config 31), code 0.
    this.lastToc = (31 << 3) | (channels === 2 ? 0x04 : 0);
    this.page = { packets: [], segments: 0, samples: 0, sealed: false };
  }

  /** Writes to `path` (created or truncated) and queues the two header pages. */
  static async create(path: string, options: OggOpusOptions = {}): Promise<OggOpusWriter> {
    const channels = options.channels ?? 1;
    const preSkip = options.preSkip ?? DEFAULT_PRE_SKIP;
    if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) {
      throw new RangeError(`preSkip must be an integer in 0..65535 (got ${preSkip})`);
    }
    const head = opusHead(channels, preSkip);
    const tags = opusTags(options.vendor ?? 'loaxa', options.comments ?? {});
    const file = await fs.open(path, 'w');
    const writer = new OggOpusWriter(file, channels, preSkip);
    // RFC 7845 §3: the identification header alone on the first page, flagged BOS.
    writer.emit([head], 0, FLAG_BOS);
    writer.page = { packets: [tags], segments: segmentCount(tags.length), samples: 0, sealed: true };
    return writer;
  }

  /**
   * Adds one Opus packet. Its duration is read from its TOC byte; `samples`,
   * when given, must agree, since a wrong count would shift the whole timeline.
   */
  write(packet: Uint8Array, samples?: number): void {
    this.assertOpen();
    const duration = opusPacketSamples(packet);
    if (samples !== undefined && samples !== duration) {
      throw new RangeError(`packet holds ${duration} samples at 48 kHz, not ${samples}`);
    }
    this.append(packet, duration);
    this.lastToc = packet[0]! & 0xfc;
  }

  /**
   * Marks `samples` (at 48 kHz, whole 2.5 ms frames) of lost or untransmitted
   * audio. RFC 7845 §4.1 forbids advancing the granule position past packets
   * that are not on the page, so the gap is filled with TOC-only packets: one
   * zero-length frame each (RFC 6716 §3.2.1), which makes the decoder run its
   * packet loss concealment for exactly that long.
   */
  skip(samples: number): void {
    this.assertOpen();
    if (!Number.isInteger(samples) || samples < 0 || samples % SMALLEST_FRAME !== 0) {
      throw new RangeError(`skip needs a whole number of 2.5 ms frames at 48 kHz (got ${samples} samples)`);
    }
    let left = samples;
    // Same mode, bandwidth and frame size as the last packet, as §4.1 advises.
    const frame = frameSamples(this.lastToc);
    while (left >= frame) {
      this.append(Uint8Array.of(this.lastToc), frame);
      left -= frame;
    }
    // A remainder shorter than that frame: CELT fullband 10, 5, 2.5 ms (configs 30, 29, 28).
    const stereo = this.lastToc & 0x04;
    for (const [config, size] of [
      [30, 480],
      [29, 240],
      [28, 120],
    ] as const) {
      while (left >= size) {
        this.append(Uint8Array.of((config << 3) | stereo), size);
        left -= size;
      }
    }
  }

  /** Writes the last page with the end-of-stream flag, waits for every write and closes the file. */
  async close(): Promise<OggOpusSummary> {
    if (this.closed) throw new Error('OggOpusWriter is closed');
    this.closed = true;
    if (!this.failure) this.emitPage(FLAG_EOS);
    await this.queue;
    // Closed even after a failed write, so a full disk does not also leak the descriptor.
    await this.file.close();
    if (this.failure) throw this.failure;
    return { durationMs: (Math.max(0, this.granule - this.preSkip) * 1000) / OPUS_RATE, bytes: this.bytes };
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('OggOpusWriter is closed');
  }

  private append(packet: Uint8Array, samples: number): void {
    const segments = segmentCount(packet.length);
    if (segments > MAX_SEGMENTS_PER_PAGE) {
      // Not reachable with valid Opus (at most 61 440 bytes); spared from page continuation.
      throw new RangeError(`packet of ${packet.length} bytes is larger than any Opus packet`);
    }
    const page = this.page;
    const full =
      page.sealed ||
      page.packets.length >= MAX_PACKETS_PER_PAGE ||
      page.samples >= MAX_SAMPLES_PER_PAGE ||
      page.segments + segments > MAX_SEGMENTS_PER_PAGE;
    if (full && page.packets.length > 0) this.emitPage(0);
    this.page.packets.push(packet);
    this.page.segments += segments;
    this.page.samples += samples;
    this.granule += samples;
  }

  /** Queues the open page; its granule position is the sample count at its last packet's end. */
  private emitPage(flags: number): void {
    const { packets } = this.page;
    this.page = { packets: [], segments: 0, samples: 0, sealed: false };
    this.emit(packets, this.granule, flags);
  }

  private emit(packets: Uint8Array[], granule: number, flags: number): void {
    const page = oggPage(packets, granule, this.serial, this.sequence++, flags);
    this.bytes += page.length;
    this.queue = this.queue.then(() => this.writeFully(page));
  }

  private async writeFully(page: Buffer): Promise<void> {
    if (this.failure) return;
    try {
      let offset = 0;
      while (offset < page.length) {
        const { bytesWritten } = await this.file.write(page, offset, page.length - offset);
        offset += bytesWritten;
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }
}

/** RFC 7845 §5.1 identification header; channel mapping family 0 covers mono and stereo. */
function opusHead(channels: 1 | 2, preSkip: number): Uint8Array {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'ascii');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(channels, 9);
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(OPUS_RATE, 12); // input sample rate: informational only
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // mapping family
  return head;
}

/** RFC 7845 §5.2 comment header: vendor string and `KEY=value` Vorbis comments, all UTF-8. */
function opusTags(vendor: string, comments: Record<string, string>): Uint8Array {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'ascii'), lengthPrefixed(vendor)];
  const entries = Object.entries(comments);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(entries.length);
  parts.push(count);
  for (const [key, value] of entries) {
    if (!/^[\x20-\x3c\x3e-\x7d]+$/.test(key)) throw new RangeError(`invalid comment field name "${key}"`);
    parts.push(lengthPrefixed(`${key}=${value}`));
  }
  return Buffer.concat(parts);
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Lacing values a packet needs: 255s, then one value below 255 (0 when the length is a multiple of 255). */
function segmentCount(length: number): number {
  return Math.floor(length / 255) + 1;
}

/** One Ogg page (RFC 3533 §6) holding whole packets. */
function oggPage(packets: Uint8Array[], granule: number, serial: number, sequence: number, flags: number): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    for (let left = packet.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
  }
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'ascii');
  header.writeUInt8(0, 4); // stream structure version
  header.writeUInt8(flags, 5);
  header.writeBigInt64LE(BigInt(granule), 6);
  header.writeUInt32LE(serial, 14);
  header.writeUInt32LE(sequence, 18);
  // CRC at 22..25 stays zero while the checksum is computed.
  header.writeUInt8(lacing.length, 26);
  lacing.forEach((value, i) => header.writeUInt8(value, 27 + i));
  const page = Buffer.concat([header, ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, MSB first (unreflected), initial value 0, no final XOR. */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

/** Samples at 48 kHz in one frame of the TOC's configuration (RFC 6716 §3.1, Table 2). */
function frameSamples(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!; // SILK 10/20/40/60 ms
  if (config < 16) return config & 1 ? 960 : 480; // Hybrid 10/20 ms
  return [120, 240, 480, 960][config & 3]!; // CELT 2.5/5/10/20 ms
}

/** Samples at 48 kHz in a whole Opus packet (RFC 6716 §3.1–3.2): frame size times frame count. */
export function opusPacketSamples(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) throw new RangeError('empty Opus packet');
  const code = toc & 3;
  let frames = code === 0 ? 1 : 2;
  if (code === 3) {
    const count = packet[1];
    if (count === undefined || (count & 0x3f) === 0) throw new RangeError('Opus code 3 packet without a frame count');
    frames = count & 0x3f;
  }
  const samples = frames * frameSamples(toc);
  if (samples > 5760) throw new RangeError(`Opus packet of ${samples} samples exceeds 120 ms`);
  return samples;
}
