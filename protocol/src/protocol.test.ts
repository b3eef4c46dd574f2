import { describe, expect, it } from 'vitest';
import {
  ackDecoder,
  commandDecoder,
  attachedBytes,
  encodeAscii,
  encodeFramed,
  MAX_INLINE_BYTES,
  parseTopic,
  planDecoder,
  stageRank,
  topics,
  deviceAuthorizationHeader,
  parseBasicAuthorization,
} from './index';

const sha = 'a'.repeat(64);

describe('topics', () => {
  it('builds and parses device and zone topics', () => {
    expect(topics.deviceAck('loa-01')).toBe('loaxa/v1/dev/loa-01/ack');
    expect(parseTopic(topics.deviceAck('loa-01'))).toEqual({ scope: 'dev', deviceId: 'loa-01', kind: 'ack' });
    expect(parseTopic(topics.zoneCmd('thon-1'))).toEqual({ scope: 'zone', zoneId: 'thon-1', kind: 'cmd' });
  });

  it.each(['a/b', 'a+', '#', '', 'x'.repeat(65)])('refuses the id %j in a topic', (id) => {
    expect(() => topics.deviceCmd(id)).toThrow(/invalid device id/);
  });

  it.each(['loaxa/v2/dev/a/ack', 'loaxa/v1/dev/a/other', 'loaxa/v1/zone/a/plan', 'loaxa/v1/dev/+/ack', 'x'])(
    'does not parse %s',
    (t) => expect(parseTopic(t)).toBeNull(),
  );
});

describe('payload decoders', () => {
  it('accepts a valid plan', () => {
    const plan = {
      v: 1,
      planVersion: 3,
      generatedAt: 1,
      horizonEnd: 2,
      zones: ['thon-1'],
      items: [
        {
          occurrenceId: 'occ_1',
          startAt: 5,
          priority: 'normal',
          assets: [{ sha256: sha, url: `/media/${sha}.ogg`, bytes: 10, durationMs: 100, format: 'ogg' }],
        },
      ],
    };
    expect(planDecoder.decode(JSON.stringify(plan))).toEqual({ ok: true, value: plan });
  });

  it('encodeAscii writes only ASCII and reads back as the same command, from a Buffer or a Uint8Array view', () => {
    const command = {
      v: 1 as const,
      commandId: 'cmd_1',
      issuedAt: 1,
      expiresAt: 2,
      action: 'play-now' as const,
      occurrenceId: 'occ_1',
      priority: 'emergency' as const,
      title: 'Khẩn cấp: nước lũ đang lên — “ngay” 🚨',
      assets: [
        { sha256: sha, url: `/media/${sha}.ogg`, bytes: 3, durationMs: 100, format: 'ogg' as const, data: 'AAEC' },
      ],
    };
    const text = encodeAscii(command);
    expect(/^[\x20-\x7e]*$/.test(text)).toBe(true);
    const bytes = Buffer.from(`xx${text}`).subarray(2);
    expect(commandDecoder.decode(bytes)).toEqual({ ok: true, value: command });
    expect(commandDecoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toEqual({
      ok: true,
      value: command,
    });
  });

  describe('framed play-now commands', () => {
    const audio = Buffer.from([0, 1, 2, 0, 255, 0x7b, 0x22]); // NUL and JSON-looking bytes in the audio
    const otherSha = 'b'.repeat(64);
    const command = {
      v: 1 as const,
      commandId: 'cmd_2',
      issuedAt: 1,
      expiresAt: 2,
      action: 'play-now' as const,
      occurrenceId: 'occ_2',
      priority: 'emergency' as const,
      title: 'Khẩn cấp: nước lũ',
      assets: [
        {
          sha256: sha,
          url: `/media/${sha}.ogg`,
          bytes: audio.length,
          durationMs: 100,
          format: 'ogg' as const,
          data: audio.toString('base64'),
        },
        { kind: 'stream' as const, url: 'http://radio.example/vov1', durationMs: 5000 },
        {
          sha256: otherSha,
          url: `/media/${otherSha}.ogg`,
          bytes: 2,
          durationMs: 50,
          format: 'ogg' as const,
          data: 'qrs=',
        },
      ],
    };

    it('carries the files as raw bytes after an ASCII header and a NUL byte, and reads them back', () => {
      const framed = encodeFramed(command);
      const end = framed.indexOf(0);
      expect(/^[\x20-\x7e]*$/.test(framed.toString('latin1', 0, end))).toBe(true);
      // 7 + 2 bytes of audio, not their base64 text
      expect(framed.byteLength).toBe(end + 1 + audio.length + 2);
      const decoded = commandDecoder.decode(framed);
      expect(decoded.ok).toBe(true);
      if (!decoded.ok || decoded.value.action !== 'play-now') return;
      const [first, stream, second] = decoded.value.assets;
      expect(first).toEqual({
        sha256: sha,
        url: `/media/${sha}.ogg`,
        bytes: 7,
        durationMs: 100,
        format: 'ogg',
        attached: true,
      });
      expect(stream).toEqual(command.assets[1]);
      expect(attachedBytes(first as never)).toEqual(audio);
      expect(attachedBytes(second as never)).toEqual(Buffer.from('qrs=', 'base64'));
      // A copy of the asset holds no bytes: they go with the command object.
      expect(attachedBytes({ ...(first as object) } as never)).toBeUndefined();
      expect(decoded.value.title).toBe(command.title);
      // Another writer may put UTF-8 in the header instead of \u escapes: the same title comes out.
      const utf8Header = Buffer.from(JSON.stringify(JSON.parse(framed.toString('latin1', 0, end))), 'utf8');
      expect(utf8Header.some((b) => b >= 0x80)).toBe(true); // raw UTF-8, not \u escapes
      const fromUtf8 = commandDecoder.decode(Buffer.concat([utf8Header, framed.subarray(end)]));
      expect(fromUtf8.ok && fromUtf8.value.action === 'play-now' && fromUtf8.value.title).toBe(command.title);
      // From a Uint8Array view too.
      const view = new Uint8Array(framed.buffer, framed.byteOffset, framed.byteLength);
      const again = commandDecoder.decode(view);
      expect(again.ok && again.value.action === 'play-now' && attachedBytes(again.value.assets[0] as never)).toEqual(
        audio,
      );
    });

    it('refuses bytes that do not add up, a frame that is not a play-now, and `attached` in plain JSON', () => {
      const framed = encodeFramed(command);
      expect(commandDecoder.decode(framed.subarray(0, framed.length - 1))).toEqual({
        ok: false,
        error: 'payload: 8 bytes follow the JSON, its attached assets name 9',
      });
      expect(commandDecoder.decode(Buffer.concat([framed, Buffer.of(1)]))).toEqual({
        ok: false,
        error: 'payload: 10 bytes follow the JSON, its attached assets name 9',
      });
      const stop = Buffer.from(
        `${JSON.stringify({ v: 1, commandId: 'c', issuedAt: 1, expiresAt: 2, action: 'stop' })}\0`,
      );
      expect(commandDecoder.decode(stop)).toEqual({ ok: false, error: 'action: a framed command must be a play-now' });
      expect(commandDecoder.decode(Buffer.from('{"v":1,\0'))).toEqual({
        ok: false,
        error: 'payload is not valid JSON up to its NUL byte',
      });
      const end = framed.indexOf(0);
      const header = JSON.parse(framed.toString('latin1', 0, end));
      expect(commandDecoder.decode(JSON.stringify(header))).toEqual({
        ok: false,
        error: 'assets.0.attached: only in a framed command (its bytes follow the JSON)',
      });
      const both = { ...header, assets: [{ ...header.assets[0], data: 'AAEC' }] };
      expect(commandDecoder.decode(Buffer.concat([Buffer.from(JSON.stringify(both)), Buffer.of(0), audio]))).toEqual({
        ok: false,
        error: 'assets.0.data: not with attached bytes',
      });
      const big = { ...header, assets: [{ ...header.assets[0], bytes: MAX_INLINE_BYTES + 1 }] };
      const bigFrame = Buffer.concat([
        Buffer.from(JSON.stringify(big)),
        Buffer.of(0),
        Buffer.alloc(MAX_INLINE_BYTES + 1),
      ]);
      expect(commandDecoder.decode(bigFrame)).toEqual({
        ok: false,
        error: `assets.0.bytes: at most ${MAX_INLINE_BYTES} when attached`,
      });
      expect(commandDecoder.decode(framed, 10).ok).toBe(false);
      // The header is checked like any command: the field that is wrong is named.
      const badPriority = { ...header, priority: 'urgent' };
      const r = commandDecoder.decode(
        Buffer.concat([Buffer.from(JSON.stringify(badPriority)), Buffer.of(0), audio, Buffer.from('qrs=', 'base64')]),
      );
      expect(r.ok === false && r.error).toMatch(/^priority: /);
    });
  });

  it('names the field that is wrong', () => {
    const r = commandDecoder.decode(
      JSON.stringify({ v: 1, commandId: 'c1', issuedAt: 1, expiresAt: 2, action: 'volume', level: 140 }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^level: /);
    const a = ackDecoder.decode(JSON.stringify({ v: 1, occurrenceId: 'o', stage: 'done', at: 1 }));
    expect(a).toEqual({ ok: false, error: expect.stringMatching(/^stage: /) });
  });

  it('rejects non-JSON, oversize and ambiguous acks', () => {
    expect(ackDecoder.decode('{nope')).toEqual({ ok: false, error: 'payload is not valid JSON' });
    expect(ackDecoder.decode('x'.repeat(5000)).ok).toBe(false);
    const both = { v: 1, occurrenceId: 'o', commandId: 'c', stage: 'ready', at: 1 };
    expect(ackDecoder.decode(JSON.stringify(both)).ok).toBe(false);
    const neither = { v: 1, stage: 'ready', at: 1 };
    expect(ackDecoder.decode(JSON.stringify(neither)).ok).toBe(false);
  });

  it('rejects unknown fields', () => {
    const r = ackDecoder.decode(JSON.stringify({ v: 1, occurrenceId: 'o', stage: 'ready', at: 1, extra: true }));
    expect(r.ok).toBe(false);
  });
});

describe('stages and auth helpers', () => {
  it('orders stages', () => {
    expect(stageRank('finished')).toBeGreaterThan(stageRank('started'));
    expect(stageRank('ready')).toBeGreaterThan(stageRank('received'));
    expect(stageRank('pending')).toBe(0);
  });
  it('round-trips basic auth', () => {
    expect(parseBasicAuthorization(deviceAuthorizationHeader('loa-1', 's:ecret'))).toEqual({
      user: 'loa-1',
      secret: 's:ecret',
    });
    expect(parseBasicAuthorization('Bearer x')).toBeNull();
  });
});
