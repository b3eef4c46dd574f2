/**
 * The cached configuration on each engine the server can use: saved settings
 * (settings/store.ts) and the abbreviation dictionary (tts/dictionary.ts) are
 * read from memory but loaded and written through the shared query layer. A
 * write of several settings is all or nothing; a dictionary change is in the
 * renderer's snapshot at once; both read back the same after a fresh load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDb } from '../src/db/sql';
import { Settings, SettingsError } from '../src/settings/settings';
import { SettingsStore } from '../src/settings/store';
import { AbbreviationDictionary, DictionaryError } from '../src/tts/dictionary';
import { engineCases } from './engine-cases';

/** A fresh database on each engine, and how to let it go. */
const engines = engineCases('the saved settings and abbreviation dictionary on PostgreSQL');

const OTHER = 'tan-lap';

describe.each(engines)('cached configuration on %s', (_engine, open) => {
  let target: SqlDb;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ target, close } = await open());
    await target.db.insertInto('communes').values({ id: OTHER, name: 'Xã Tân Lập', created_at: 0 }).execute();
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  describe('SettingsStore', () => {
    it('writes several keys in one transaction and reads them back after reopening', async () => {
      const store = await SettingsStore.open(target);
      expect(store.defaultCommuneId()).toBe('default');
      await store.write(
        'default',
        [
          { key: 'loudness', value: { integratedLufs: -20, truePeakDb: -1.5 } },
          { key: 'tts.engines', value: ['fpt', 'espeak'] },
          { key: 'public.contact', value: 'Văn phòng UBND xã, 0123 456 789' },
        ],
        'admin',
        1_000,
      );
      await store.write(OTHER, [{ key: 'loudness', value: { integratedLufs: -22 } }], 'b', 2_000);
      const check = (s: SettingsStore) => {
        expect(s.get('default', 'loudness')).toEqual({
          value: { integratedLufs: -20, truePeakDb: -1.5 },
          updatedBy: 'admin',
          updatedAt: 1_000,
        });
        expect(s.get('default', 'tts.engines')?.value).toEqual(['fpt', 'espeak']);
        expect(s.get('default', 'public.contact')?.value).toBe('Văn phòng UBND xã, 0123 456 789');
        expect(s.keys('default').sort()).toEqual(['loudness', 'public.contact', 'tts.engines']);
        expect(s.keys('default', 'tts.')).toEqual(['tts.engines']);
        expect(s.get(OTHER, 'loudness')).toEqual({ value: { integratedLufs: -22 }, updatedBy: 'b', updatedAt: 2_000 });
        expect(s.has(OTHER, 'tts.engines')).toBe(false);
      };
      check(store);
      check(await SettingsStore.open(target));

      // An upsert replaces; null removes.
      await store.write(
        'default',
        [
          { key: 'tts.engines', value: ['espeak'] },
          { key: 'public.contact', value: null },
        ],
        'admin',
        3_000,
      );
      for (const s of [store, await SettingsStore.open(target)]) {
        expect(s.get('default', 'tts.engines')).toEqual({ value: ['espeak'], updatedBy: 'admin', updatedAt: 3_000 });
        expect(s.has('default', 'public.contact')).toBe(false);
        expect(s.get('default', 'loudness')?.updatedAt).toBe(1_000);
      }
    });

    it('writes none of the keys when one is refused, by our code or by the database', async () => {
      const store = await SettingsStore.open(target);
      await store.write(OTHER, [{ key: 'rules', value: { maxSessionsPerDay: 3 } }], 'b', 5_000);
      const before = (s: SettingsStore) => {
        expect(s.keys(OTHER).sort()).toEqual(['loudness', 'rules']);
        expect(s.get(OTHER, 'rules')).toEqual({ value: { maxSessionsPerDay: 3 }, updatedBy: 'b', updatedAt: 5_000 });
      };

      // The third value has no JSON form: the removal and the upsert before it are rolled back.
      const bad = [
        { key: 'rules', value: null },
        { key: 'tts.engines', value: ['espeak'] },
        { key: 'alerts.rules', value: { limit: 10n } },
      ];
      await expect(store.write(OTHER, bad, 'b')).rejects.toThrow(TypeError);
      await expect(store.write(OTHER, [bad[1]!, { key: 'x', value: () => 1 }], 'b')).rejects.toThrow(
        /x is not a JSON value/,
      );
      before(store);
      before(await SettingsStore.open(target));

      // A commune the database does not know: its foreign key refuses the row.
      await expect(
        store.write('no-such-commune', [{ key: 'loudness', value: { integratedLufs: -18 } }], 'b'),
      ).rejects.toThrow();
      expect(store.keys('no-such-commune')).toEqual([]);
      expect((await SettingsStore.open(target)).keys('no-such-commune')).toEqual([]);
    });

    it('saves a Settings change through the store, and nothing when it is wrong', async () => {
      const settings = new Settings(await SettingsStore.open(target), {});
      const change = await settings.update(OTHER, { loudness: { truePeakDb: -2 }, engines: ['espeak'] }, 'b');
      expect(change.keys).toEqual(['loudness', 'tts.engines']);
      await expect(settings.update(OTHER, { engines: ['espeak', 'nope'] }, 'b')).rejects.toThrow(SettingsError);
      for (const s of [settings, new Settings(await SettingsStore.open(target), {})]) {
        expect(s.loudnessTarget(OTHER)).toEqual({ i: -22, tp: -2 });
        expect(s.view(OTHER).engines).toMatchObject({ order: ['espeak'], source: 'saved', updatedBy: 'b' });
      }
    });
  });

  describe('AbbreviationDictionary', () => {
    it('shows a put, a replacement and a removal to communeEntries at once, and to a fresh load', async () => {
      const dictionary = new AbbreviationDictionary(target);
      await dictionary.load();
      expect(dictionary.communeEntries(OTHER)).toEqual({});

      const added = await dictionary.put(OTHER, ' BSX ', 'bến  sông xã', 'b');
      expect(added.previous).toBeNull();
      expect(added.entry).toMatchObject({ abbreviation: 'BSX', expansion: 'bến sông xã', source: 'commune' });
      await dictionary.put(OTHER, 'UBND', 'ủy ban', 'b');
      const afterPut = dictionary.communeEntries(OTHER);
      expect(afterPut).toEqual({ BSX: 'bến sông xã', UBND: 'ủy ban' });
      expect(Object.isFrozen(afterPut)).toBe(true);
      // The same object until the next change (the normaliser compiles it once).
      expect(dictionary.communeEntries(OTHER)).toBe(afterPut);
      // Another commune's entries stay its own; naming none means the install's first commune.
      expect(dictionary.communeEntries('default')).toEqual({});
      expect(dictionary.communeEntries()).toBe(dictionary.communeEntries('default'));

      const replaced = await dictionary.put(OTHER, 'BSX', 'bến sông', 'c');
      expect(replaced.previous).toMatchObject({ expansion: 'bến sông xã', source: 'commune', updatedBy: 'b' });
      expect(replaced.entry).toMatchObject({ expansion: 'bến sông', updatedBy: 'c' });
      expect(dictionary.communeEntries(OTHER)).toEqual({ BSX: 'bến sông', UBND: 'ủy ban' });
      expect(dictionary.communeEntries(OTHER)).not.toBe(afterPut);
      expect(await dictionary.get(OTHER, 'BSX')).toMatchObject({ expansion: 'bến sông', updatedBy: 'c' });
      expect(await dictionary.get(OTHER, 'UBND')).toMatchObject({ source: 'commune', builtin: expect.any(String) });

      const fresh = new AbbreviationDictionary(target);
      await fresh.load();
      expect(fresh.communeEntries(OTHER)).toEqual({ BSX: 'bến sông', UBND: 'ủy ban' });

      expect(await dictionary.remove(OTHER, 'BSX')).toMatchObject({ abbreviation: 'BSX', expansion: 'bến sông' });
      expect(await dictionary.remove(OTHER, 'BSX')).toBeNull();
      expect(dictionary.communeEntries(OTHER)).toEqual({ UBND: 'ủy ban' });
      expect(await dictionary.get(OTHER, 'BSX')).toBeNull();
      const listed = await dictionary.list(OTHER);
      expect(listed.filter((e) => e.source === 'commune').map((e) => e.abbreviation)).toEqual(['UBND']);
      expect(listed.some((e) => e.abbreviation === 'UBND' && e.source === 'builtin')).toBe(false);

      const reloaded = new AbbreviationDictionary(target);
      await reloaded.load();
      expect(reloaded.communeEntries(OTHER)).toEqual({ UBND: 'ủy ban' });
      expect(reloaded.communeEntries('default')).toEqual({});
    });

    it('leaves the snapshot alone when a change is refused', async () => {
      const dictionary = new AbbreviationDictionary(target);
      await dictionary.load();
      const before = dictionary.communeEntries(OTHER);
      await expect(dictionary.put(OTHER, 'two words', 'x', 'b')).rejects.toThrow(DictionaryError);
      await expect(dictionary.put('no-such-commune', 'BSX', 'bến sông xã', 'b')).rejects.toThrow();
      expect(dictionary.communeEntries(OTHER)).toBe(before);
      expect(dictionary.communeEntries('no-such-commune')).toEqual({});
    });
  });
});
