import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { sqliteSql } from '../db/sql';
import { CommuneService } from '../tenancy/communes';
import { Settings, SettingsError } from './settings';
import { SettingsStore } from './store';

const open: { db: Db; dir: string }[] = [];
afterEach(() => {
  for (const { db, dir } of open.splice(0)) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function settingsOver(env: NodeJS.ProcessEnv): Promise<{ settings: Settings; db: Db }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-settings-'));
  const db = openDatabase(dir);
  open.push({ db, dir });
  return { settings: new Settings(await SettingsStore.open(sqliteSql(db)), env), db };
}

async function fieldOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (err) {
    if (err instanceof SettingsError) return err.field;
    throw err;
  }
  throw new Error('no SettingsError');
}

describe('Settings', () => {
  it('takes the environment as default, lets a saved value win, and returns to the environment when cleared', async () => {
    const { settings } = await settingsOver({
      LOAXA_TTS_ENGINES: 'fpt,espeak',
      LOAXA_TTS_FPT_API_KEY: 'env-key',
      LOAXA_TTS_AZURE_REGION: 'southeastasia',
    });
    expect(settings.ttsConfig().engines.map((e) => e.id)).toEqual(['fpt', 'espeak']);
    expect(settings.view('default').engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'environment' });
    expect(settings.view('default').credentials.fpt.apiKey).toEqual({
      set: true,
      source: 'environment',
      updatedAt: null,
      updatedBy: null,
    });

    await settings.update('default', { engines: ['espeak'], credentials: { fpt: { apiKey: 'saved-key' } } }, 'admin');
    expect(settings.ttsConfig().engines).toEqual([{ id: 'espeak' }]);
    expect(settings.engineConfig('default', 'fpt')).toEqual({ config: { id: 'fpt', apiKey: 'saved-key' } });
    expect(settings.view('default').credentials.fpt.apiKey).toMatchObject({
      set: true,
      source: 'saved',
      updatedBy: 'admin',
    });
    expect(settings.view('default').credentials.azure.region).toMatchObject({
      value: 'southeastasia',
      source: 'environment',
    });

    await settings.update('default', { engines: null, credentials: { fpt: { apiKey: null } } }, 'admin');
    expect(settings.ttsConfig().engines).toEqual([{ id: 'fpt', apiKey: 'env-key' }, { id: 'espeak' }]);
    expect(settings.view('default').engines.source).toBe('environment');
  });

  it('never shows a key, and reports a secret change as set or cleared', async () => {
    const { settings } = await settingsOver({});
    const change = await settings.update(
      'default',
      { engines: ['google', 'espeak'], credentials: { google: { apiKey: ' g-secret-123 ' } } },
      'admin',
    );
    expect(change.detail).toEqual({ engines: ['google', 'espeak'], 'credentials.google.apiKey': 'set' });
    expect(JSON.stringify(settings.view('default'))).not.toContain('g-secret-123');
    expect(settings.engineConfig('default', 'google')).toEqual({ config: { id: 'google', apiKey: 'g-secret-123' } });
  });

  it('keeps the loudness target between the limits, merging a partial change', async () => {
    const { settings } = await settingsOver({});
    expect(settings.loudnessTarget()).toEqual({ i: -16, tp: -1.5 });
    await settings.update('default', { loudness: { integratedLufs: -20 } }, 'admin');
    expect(settings.loudnessTarget()).toEqual({ i: -20, tp: -1.5 });
    expect(settings.view('default').loudness).toMatchObject({ integratedLufs: -20, truePeakDb: -1.5, source: 'saved' });
    await settings.update('default', { loudness: null }, 'admin');
    expect(settings.view('default').loudness).toMatchObject({ integratedLufs: -16, source: 'default' });
  });

  it('refuses an order it cannot build, naming what to fix, and saves nothing', async () => {
    const { settings } = await settingsOver({ LOAXA_TTS_ENGINES: 'fpt,espeak', LOAXA_TTS_FPT_API_KEY: 'k' });
    expect(await fieldOf(() => settings.update('default', { engines: ['nope'] }, 'a'))).toBe('engines.0');
    expect(await fieldOf(() => settings.update('default', { engines: ['espeak', 'espeak'] }, 'a'))).toBe('engines.1');
    expect(await fieldOf(() => settings.update('default', { engines: ['zalo', 'espeak'] }, 'a'))).toBe(
      'credentials.zalo.apiKey',
    );
    expect(
      await fieldOf(() =>
        settings.update('default', { engines: ['azure'], credentials: { azure: { apiKey: 'k' } } }, 'a'),
      ),
    ).toBe('credentials.azure.region');
    expect(await fieldOf(() => settings.update('default', { engines: ['piper'] }, 'a'))).toBe('engines.0');
    expect(await fieldOf(() => settings.update('default', { credentials: { vbee: { apiKey: '  ' } } }, 'a'))).toBe(
      'credentials.vbee.apiKey',
    );
    // fpt is in the order: its key cannot be cleared unless the environment gives one.
    await settings.update('default', { credentials: { fpt: { apiKey: 'saved' } } }, 'a');
    await expect(settings.update('default', { credentials: { fpt: { apiKey: null } } }, 'a')).resolves.toBeDefined();
    expect(settings.view('default').engines.order).toEqual(['fpt', 'espeak']);
    expect(settings.view('default').credentials.zalo.apiKey.set).toBe(false);
  });

  it('falls back to the environment at start when saved settings no longer fit it', async () => {
    const { settings, db } = await settingsOver({ LOAXA_TTS_FPT_API_KEY: 'k' });
    await settings.update('default', { engines: ['fpt', 'espeak'] }, 'admin');
    const later = new Settings(await SettingsStore.open(sqliteSql(db)), {});
    const { config, ignored } = later.startupTtsConfig();
    expect(config.engines).toEqual([{ id: 'espeak' }]);
    expect(ignored[0]).toMatch(/apiKey: is required/);
  });

  it('keeps each commune’s settings to itself; a commune without its own takes the environment', async () => {
    const { settings, db } = await settingsOver({ LOAXA_TTS_FPT_API_KEY: 'env-key' });
    const other = (await (await CommuneService.open(sqliteSql(db))).create('Xã Bên')).id;
    const changes: [string[], string][] = [];
    settings.onChange((keys, communeId) => changes.push([keys, communeId]));

    await settings.update(other, { loudness: { integratedLufs: -22 }, engines: ['fpt', 'espeak'] }, 'b');
    expect(changes).toEqual([[['loudness', 'tts.engines'], other]]);
    expect(settings.loudnessTarget(other)).toEqual({ i: -22, tp: -1.5 });
    expect(settings.ttsConfig(other).engines.map((e) => e.id)).toEqual(['fpt', 'espeak']);
    // The default commune (and a caller naming none) is untouched.
    expect(settings.loudnessTarget()).toEqual({ i: -16, tp: -1.5 });
    expect(settings.ttsConfig().engines).toEqual([{ id: 'espeak' }]);
    expect(settings.view('default').engines).toMatchObject({ order: ['espeak'], source: 'default' });
    expect(settings.view(other).engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'saved', updatedBy: 'b' });

    await settings.update('default', { credentials: { fpt: { apiKey: 'default-key' } } }, 'a');
    expect(settings.engineConfig('default', 'fpt')).toEqual({ config: { id: 'fpt', apiKey: 'default-key' } });
    expect(settings.engineConfig(other, 'fpt')).toEqual({ config: { id: 'fpt', apiKey: 'env-key' } });
    expect(settings.view(other).credentials.fpt.apiKey).toMatchObject({ source: 'environment' });

    // A commune's saved settings that no longer fit the environment fall back for it alone.
    const later = new Settings(await SettingsStore.open(sqliteSql(db)), {});
    expect(later.startupTtsConfig(other)).toMatchObject({ config: { engines: [{ id: 'espeak' }] } });
    expect(later.startupTtsConfig(other).ignored[0]).toMatch(/apiKey: is required/);
    expect(later.startupTtsConfig('default')).toEqual({ config: { engines: [{ id: 'espeak' }] }, ignored: [] });
  });

  it('keeps the database file, which holds the keys, readable by its owner only', async () => {
    const { db } = await settingsOver({});
    expect(fs.statSync(db.name).mode & 0o777).toBe(0o600);
  });
});
