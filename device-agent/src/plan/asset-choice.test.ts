import { describe, expect, it } from 'vitest';
import type { Asset, CommandPayload, FileAsset, PlanPayload, StreamAsset } from '@loaxa/protocol';
import { chooseAsset, chooseCommandAssets, choosePlanAssets } from './asset-choice';

const OGG_SHA = 'a'.repeat(64);
const MP3_SHA = 'b'.repeat(64);
const withMp3: FileAsset = {
  sha256: OGG_SHA,
  url: `/media/${OGG_SHA}.ogg`,
  bytes: 1000,
  durationMs: 4200,
  format: 'ogg',
  mp3: { sha256: MP3_SHA, url: `/media/${MP3_SHA}.mp3`, bytes: 2500 },
  data: Buffer.from('ogg bytes').toString('base64'),
};
const mp3File: FileAsset = {
  sha256: MP3_SHA,
  url: `/media/${MP3_SHA}.mp3`,
  bytes: 2500,
  durationMs: 4200,
  format: 'mp3',
};
const oggOnly: FileAsset = {
  sha256: OGG_SHA,
  url: `/media/${OGG_SHA}.ogg`,
  bytes: 1000,
  durationMs: 4200,
  format: 'ogg',
};
const stream: StreamAsset = { kind: 'stream', url: 'http://radio.example/vov1', durationMs: 60_000 };

describe('chooseAsset', () => {
  it.each<[string, Asset, 'ogg' | 'mp3', Asset]>([
    ['an MP3 node takes the MP3 copy, without the inline Ogg bytes', withMp3, 'mp3', mp3File],
    ['an MP3 node plays Ogg when there is no copy', oggOnly, 'mp3', oggOnly],
    ['an Ogg node keeps the Ogg file', withMp3, 'ogg', withMp3],
    ['an MP3 file stays as it is', mp3File, 'mp3', mp3File],
    ['a stream stays as it is', stream, 'mp3', stream],
  ])('%s', (_name, asset, format, expected) => {
    expect(chooseAsset(asset, format)).toEqual(expected);
  });
});

describe('choosePlanAssets and chooseCommandAssets', () => {
  const plan: PlanPayload = {
    v: 1,
    planVersion: 3,
    generatedAt: 1,
    horizonEnd: 2,
    zones: ['thon-1'],
    items: [{ occurrenceId: 'occ-1', startAt: 10, priority: 'normal', assets: [withMp3, stream, oggOnly] }],
  };
  const playNow: CommandPayload = {
    v: 1,
    commandId: 'cmd-1',
    issuedAt: 1,
    expiresAt: 2,
    action: 'play-now',
    occurrenceId: 'occ-2',
    priority: 'emergency',
    assets: [withMp3],
  };

  it('replaces every item asset for an MP3 node and leaves the received plan untouched', () => {
    const before = structuredClone(plan);
    expect(choosePlanAssets(plan, 'mp3').items[0]!.assets).toEqual([mp3File, stream, oggOnly]);
    expect(plan).toEqual(before);
    expect(choosePlanAssets(plan, 'ogg')).toBe(plan);
  });

  it('replaces the assets of a play-now only', () => {
    expect(chooseCommandAssets(playNow, 'mp3')).toEqual({ ...playNow, assets: [mp3File] });
    expect(chooseCommandAssets(playNow, 'ogg')).toBe(playNow);
    const stop: CommandPayload = { v: 1, commandId: 'cmd-3', issuedAt: 1, expiresAt: 2, action: 'stop' };
    expect(chooseCommandAssets(stop, 'mp3')).toBe(stop);
  });
});
