import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Encoder } from '@evan/opus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../audio/ffmpeg';
import { OggOpusWriter } from './ogg-opus';

const run = promisify(execFile);
const RATE = 48_000;
const FRAME = 960; // 20 ms
const OPUS_GET_LOOKAHEAD = 4027;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-ogg-opus-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 20 ms Opus packets of a sine, as the officer's browser would send them; 128 kb/s so packets need two lacing values. */
function encodeSine(seconds: number, hz = 440): { packets: Uint8Array[]; preSkip: number } {
  const encoder = new Encoder({ channels: 1, sample_rate: RATE, application: 'voip' });
  encoder.bitrate = 128_000;
  const packets: Uint8Array[] = [];
  for (let start = 0; start < seconds * RATE; start += FRAME) {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(10_000 * Math.sin((2 * Math.PI * hz * (start + i)) / RATE));
    packets.push(Uint8Array.from(encoder.encode(pcm)));
  }
  return { packets, preSkip: encoder.ctl(OPUS_GET_LOOKAHEAD) };
}

async function decodeToPcm(file: string): Promise<Int16Array> {
  const { stdout, stderr } = await run(
    resolveFfmpeg().path,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(RATE), '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  // -v error: any complaint about a page, a CRC or a packet shows up here.
  expect(stderr.toString()).toBe('');
  return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
}

/** Upward zero crossings per second over the middle of the signal, away from start-up and end. */
function zeroCrossingHz(pcm: Int16Array, fromSample: number, toSample: number): number {
  let crossings = 0;
  for (let i = fromSample + 1; i < toSample; i++) if (pcm[i - 1]! < 0 && pcm[i]! >= 0) crossings++;
  return (crossings * RATE) / (toSample - fromSample);
}

// ---- An independent minimal Ogg reader: shares no code with the writer. ----

interface ParsedPage {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  crcOk: boolean;
  /** Packets that end on this page. */
  packets: Uint8Array[];
}

/** Bit-at-a-time CRC as RFC 3533 describes it: polynomial 0x04C11DB7, unreflected, init 0. */
function bitwiseCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    crc >>>= 0;
  }
  return crc;
}

function readOgg(bytes: Buffer): ParsedPage[] {
  const pages: ParsedPage[] = [];
  let pending: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    expect(bytes.toString('ascii', offset, offset + 4)).toBe('OggS');
    expect(bytes[offset + 4]).toBe(0);
    const count = bytes[offset + 26]!;
    const lacing = [...bytes.subarray(offset + 27, offset + 27 + count)];
    const bodyStart = offset + 27 + count;
    const end = bodyStart + lacing.reduce((a, b) => a + b, 0);
    const raw = Buffer.from(bytes.subarray(offset, end));
    const storedCrc = raw.readUInt32LE(22);
    raw.fill(0, 22, 26);
    const packets: Uint8Array[] = [];
    let at = bodyStart;
    for (const value of lacing) {
      pending.push(bytes.subarray(at, at + value));
      at += value;
      if (value < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    pages.push({
      flags: bytes[offset + 5]!,
      granule: bytes.readBigInt64LE(offset + 6),
      serial: bytes.readUInt32LE(offset + 14),
      sequence: bytes.readUInt32LE(offset + 18),
      crcOk: bitwiseCrc(raw) === storedCrc,
      packets,
    });
    offset = end;
  }
  expect(pending).toEqual([]);
  return pages;
}

async function mux(
  file: string,
  packets: Uint8Array[],
  preSkip: number,
  gapAfter?: { packet: number; samples: number },
): Promise<{ durationMs: number; bytes: number }> {
  const writer = await OggOpusWriter.create(file, { preSkip, comments: { TITLE: 'Thử phát trực tiếp' } });
  packets.forEach((packet, i) => {
    writer.write(packet, FRAME);
    if (gapAfter && i === gapAfter.packet) writer.skip(gapAfter.samples);
  });
  return writer.close();
}

describe('OggOpusWriter', () => {
  const { packets, preSkip } = encodeSine(3);

  it('records 3 s of 440 Hz that ffmpeg decodes to 3 s of 440 Hz, mono 48 kHz Opus', async () => {
    const file = path.join(dir, 'sine.opus');
    const summary = await mux(file, packets, preSkip);
    expect(packets).toHaveLength(150);
    expect(summary.bytes).toBe(fs.statSync(file).size);
    expect(summary.durationMs).toBeCloseTo(((150 * FRAME - preSkip) * 1000) / RATE, 6);

    const pcm = await decodeToPcm(file);
    expect(Math.abs(pcm.length / RATE - 3)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(zeroCrossingHz(pcm, 0.2 * RATE, pcm.length - 0.2 * RATE) - 440)).toBeLessThan(3);

    const { stderr } = await run(resolveFfmpeg().path, ['-hide_banner', '-nostdin', '-i', file, '-f', 'null', '-']);
    expect(stderr).toMatch(/Input #0, ogg/);
    expect(stderr).toMatch(/Audio: opus, 48000 Hz, mono/);
  });

  it('writes pages that an independent reader accepts: CRC, sequence, BOS/EOS, headers, granules', async () => {
    const file = path.join(dir, 'pages.opus');
    await mux(file, packets, preSkip);
    const pages = readOgg(fs.readFileSync(file));

    for (const [i, page] of pages.entries()) {
      expect(page.crcOk, `CRC of page ${i}`).toBe(true);
      expect(page.sequence).toBe(i);
      expect(page.serial).toBe(pages[0]!.serial);
      expect(page.flags & 0x01, 'no packet continues across pages').toBe(0);
      expect(page.flags & 0x02 ? 'BOS' : '').toBe(i === 0 ? 'BOS' : '');
      expect(page.flags & 0x04 ? 'EOS' : '').toBe(i === pages.length - 1 ? 'EOS' : '');
    }

    const [headPage, tagsPage, ...audioPages] = pages;
    expect(headPage!.packets).toHaveLength(1);
    expect(headPage!.granule).toBe(0n);
    const head = Buffer.from(headPage!.packets[0]!);
    expect(head.toString('ascii', 0, 8)).toBe('OpusHead');
    expect(head.length).toBe(19);
    expect([head[8], head[9], head.readUInt16LE(10), head.readUInt32LE(12), head.readInt16LE(16), head[18]]).toEqual([
      1,
      1,
      preSkip,
      RATE,
      0,
      0,
    ]);

    expect(tagsPage!.packets).toHaveLength(1);
    expect(tagsPage!.granule).toBe(0n);
    const tags = Buffer.from(tagsPage!.packets[0]!);
    expect(tags.toString('ascii', 0, 8)).toBe('OpusTags');
    const vendorLength = tags.readUInt32LE(8);
    expect(tags.toString('utf8', 12, 12 + vendorLength)).toBe('loaxa');
    expect(tags.readUInt32LE(12 + vendorLength)).toBe(1);
    const commentLength = tags.readUInt32LE(16 + vendorLength);
    expect(tags.toString('utf8', 20 + vendorLength, 20 + vendorLength + commentLength)).toBe(
      'TITLE=Thử phát trực tiếp',
    );

    // Granule of an audio page = samples of all packets completed up to its end (pre-skip included).
    let completed = 0;
    let previous = 0n;
    for (const page of audioPages) {
      expect(page.packets.length).toBeGreaterThan(0);
      expect(page.packets.length).toBeLessThanOrEqual(50);
      completed += page.packets.length;
      expect(page.granule).toBe(BigInt(completed * FRAME));
      expect(page.granule).toBeGreaterThanOrEqual(previous);
      previous = page.granule;
    }
    expect(audioPages.flatMap((page) => page.packets)).toEqual(packets.map((p) => Buffer.from(p)));
    // RFC 7845 §4: the pre-skip is part of the granule count, not added to it, so 3 s of packets
    // end at 144 000 and play for 3 s less the pre-skip.
    expect(audioPages.at(-1)!.granule).toBe(BigInt(3 * RATE));
  });

  it('keeps the timeline across a 200 ms gap, as concealment packets', async () => {
    const file = path.join(dir, 'gap.opus');
    const summary = await mux(file, packets, preSkip, { packet: 74, samples: 0.2 * RATE });
    expect(summary.durationMs).toBeCloseTo(((160 * FRAME - preSkip) * 1000) / RATE, 6);

    const pcm = await decodeToPcm(file);
    expect(Math.abs(pcm.length / RATE - 3.2)).toBeLessThanOrEqual(0.02);
    // The tone after the gap is where it was sent, 200 ms later than without the gap.
    expect(Math.abs(zeroCrossingHz(pcm, 2.4 * RATE, 3.0 * RATE) - 440)).toBeLessThan(3);

    const pages = readOgg(fs.readFileSync(file));
    const audio = pages.slice(2).flatMap((page) => page.packets);
    expect(audio).toHaveLength(160);
    // Ten TOC-only packets (one zero-length frame each) of the last packet's configuration.
    expect(audio.slice(75, 85)).toEqual(Array.from({ length: 10 }, () => Buffer.of(packets[74]![0]! & 0xfc)));
    expect(pages.at(-1)!.granule).toBe(BigInt(160 * FRAME));
  });

  it('writes each finished page before close, so a crash loses at most about a second', async () => {
    const file = path.join(dir, 'crash.opus');
    const writer = await OggOpusWriter.create(file, { preSkip });
    for (const packet of packets.slice(0, 100)) writer.write(packet);
    // Headers and the first full second are on disk while the second one is still open.
    await expect.poll(() => readOgg(fs.readFileSync(file)).map((page) => page.granule)).toEqual([0n, 0n, 48_000n]);
    await writer.close();
    expect(readOgg(fs.readFileSync(file)).map((page) => page.granule)).toEqual([0n, 0n, 48_000n, 96_000n]);
  });

  it('laces packets of 255-multiple lengths and splits pages before 255 lacing values', async () => {
    const file = path.join(dir, 'lacing.opus');
    const writer = await OggOpusWriter.create(file);
    // CELT 20 ms packets (TOC 0xf8) of 1275 bytes need lacing 255 ×5 then 0: six values each.
    const big = Array.from({ length: 100 }, (_, i) => Uint8Array.from({ length: 1275 }, (_, j) => (j ? i + j : 0xf8)));
    for (const packet of big) writer.write(packet);
    await writer.close();
    const pages = readOgg(fs.readFileSync(file));
    expect(pages.every((page) => page.crcOk)).toBe(true);
    // 42 packets take 252 of a page's 255 lacing values; the 43rd starts the next page.
    expect(pages.slice(2).map((page) => page.packets.length)).toEqual([42, 42, 16]);
    expect(pages.slice(2).flatMap((page) => page.packets)).toEqual(big.map((p) => Buffer.from(p)));
    expect(pages.at(-1)!.granule).toBe(100n * 960n);
  });

  it('refuses what would corrupt the timeline or the file', async () => {
    const writer = await OggOpusWriter.create(path.join(dir, 'refuse.opus'));
    expect(() => writer.write(new Uint8Array(0))).toThrow(RangeError);
    expect(() => writer.write(packets[0]!, 480)).toThrow(/960 samples/);
    expect(() => writer.skip(100)).toThrow(/2.5 ms/);
    writer.skip(960 + 120); // a 20 ms frame, then 2.5 ms in a CELT packet
    const summary = await writer.close();
    expect(summary.durationMs).toBeCloseTo(((1080 - 312) * 1000) / RATE, 6);
    expect(() => writer.write(packets[0]!)).toThrow(/closed/);
    await expect(writer.close()).rejects.toThrow(/closed/);
  });

  it('has a reader that notices a corrupted byte', async () => {
    const file = path.join(dir, 'corrupt.opus');
    await mux(file, packets.slice(0, 10), preSkip);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x10;
    expect(readOgg(bytes).at(-1)!.crcOk).toBe(false);
  });
});
