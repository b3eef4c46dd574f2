/** NoticeRenderer over a real SQLite store, espeak-ng WASM and ffmpeg. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { sqliteSql } from '../db/sql';
import { MediaStore } from '../media/store';
import { Settings } from '../settings/settings';
import { SettingsStore } from '../settings/store';
import { CommuneService } from '../tenancy/communes';
import type { TtsAdapter } from './adapter';
import { AbbreviationDictionary } from './dictionary';
import { EspeakAdapter } from './espeak';
import { NoticeRenderer } from './render';

const TEXT = 'Ủy ban nhân dân xã thông báo: ngày mai có mưa lớn. Bà con chú ý giữ an toàn cho người và tài sản.';
let dir: string;
let db: Db;
let renderer: NoticeRenderer;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-render-'));
  db = openDatabase(dir);
  renderer = new NoticeRenderer(sqliteSql(db), new MediaStore(dir, sqliteSql(db)), new EspeakAdapter());
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('NoticeRenderer', () => {
  it('renders the way BroadcastService calls it, then serves the cache with the same loudness', async () => {
    const first = await renderer.render({ text: TEXT, voice: 'vi', speed: 1 });
    expect(first).toMatchObject({ format: 'ogg', engine: 'espeak', cached: false });
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.bytes).toBe(
      fs.statSync(path.join(dir, 'media', first.sha256.slice(0, 2), `${first.sha256}.ogg`)).size,
    );
    // Default: chime in and out (2 × 1.6 s + 2 × 0.4 s) around about 5 s of speech.
    expect(first.durationMs).toBeGreaterThan(8000);
    expect(Math.abs(first.loudness.integratedLufs - -16)).toBeLessThanOrEqual(1);
    expect(first.loudness.truePeakDbtp).toBeLessThanOrEqual(-1.0);

    const again = await renderer.render({ text: TEXT, voice: 'vi', speed: 1 });
    expect(again).toMatchObject({ sha256: first.sha256, durationMs: first.durationMs, cached: true });
    expect(again.loudness.integratedLufs).toBeCloseTo(first.loudness.integratedLufs, 1);
  });

  it('keys the cache on the layout and format options', async () => {
    const base = await renderer.render({ text: TEXT });
    const noChime = await renderer.render({ text: TEXT, chime: false });
    const mp3 = await renderer.render({ text: TEXT, chime: false, format: 'mp3' });
    expect(noChime.cached).toBe(false);
    expect(noChime.sha256).not.toBe(base.sha256);
    expect(noChime.durationMs).toBeLessThan(base.durationMs - 3500);
    expect(mp3).toMatchObject({ format: 'mp3', cached: false });
    expect(Math.abs(mp3.durationMs - noChime.durationMs)).toBeLessThanOrEqual(5);
  });

  it('refuses out-of-range options before rendering', async () => {
    await expect(renderer.render({ text: TEXT, repeat: 0 })).rejects.toThrow(/repeat/);
    await expect(renderer.render({ text: TEXT, loudnessTarget: { i: -16, tp: 3 } })).rejects.toThrow(/tp/);
  });

  it('renders a notice with its commune’s dictionary, loudness target and engines', async () => {
    const other = (await (await CommuneService.open(sqliteSql(db))).create('Xã Bên Sông')).id;
    const dictionary = new AbbreviationDictionary(sqliteSql(db));
    await dictionary.load();
    const settings = new Settings(await SettingsStore.open(sqliteSql(db)), {});
    const espeak = new EspeakAdapter();
    // The same engine under another id: only the chain's id differs.
    const otherChain: TtsAdapter = {
      id: 'espeak-b',
      synthesize: (request, signal) => espeak.synthesize(request, signal),
      voices: () => espeak.voices(),
      health: () => espeak.health(),
    };
    const perCommune = new NoticeRenderer(sqliteSql(db), new MediaStore(dir, sqliteSql(db)), espeak, {
      abbreviations: (communeId) => dictionary.communeEntries(communeId),
      loudnessTarget: (communeId) => settings.loudnessTarget(communeId),
      ttsFor: (communeId) => (communeId === other ? otherChain : espeak),
    });
    const text = 'Họp BSX lúc 7 giờ.';
    const notice = { text, chime: false };
    await dictionary.put(other, 'BSX', 'bến sông xã', 'test');

    expect(await perCommune.spokenText(text, other)).toBe('Họp bến sông xã lúc bảy giờ.');
    expect(await perCommune.spokenText(text)).toBe('Họp BSX lúc bảy giờ.');
    expect(await perCommune.spokenText(text, 'default')).toBe(await perCommune.spokenText(text));
    const keyOther = await perCommune.cacheKey(notice, other);
    expect(keyOther).not.toBe(await perCommune.cacheKey(notice));

    // Each input the commune's settings change makes a key of its own.
    await dictionary.remove(other, 'BSX');
    const withoutEntry = await perCommune.cacheKey(notice, other);
    expect(withoutEntry).not.toBe(keyOther);
    await settings.update(other, { loudness: { integratedLufs: -20 } }, 'test');
    expect(await perCommune.cacheKey(notice, other)).not.toBe(withoutEntry);
    await dictionary.put(other, 'BSX', 'bến sông xã', 'test');

    const rendered = await perCommune.render(notice, other);
    expect(rendered).toMatchObject({ engine: 'espeak-b', cached: false });
    expect(Math.abs(rendered.loudness.integratedLufs - -20)).toBeLessThanOrEqual(1);
    const inDefault = await perCommune.render(notice);
    expect(inDefault.sha256).not.toBe(rendered.sha256);
    expect(Math.abs(inDefault.loudness.integratedLufs - -16)).toBeLessThanOrEqual(1);
    expect((await perCommune.render(notice, other)).sha256).toBe(rendered.sha256);
  });
});
