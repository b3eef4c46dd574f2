import { describe, expect, it } from 'vitest';
import {
  ackDecoder,
  commandDecoder,
  encodeAscii,
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
