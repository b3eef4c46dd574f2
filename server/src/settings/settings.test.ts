import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { Settings, SettingsError } from './settings';
import { SettingsStore } from './store';

const open: { db: Db; dir: string }[] = [];
afterEach(() => {
  for (const { db, dir } of open.splice(0)) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function settingsOver(env: NodeJS.ProcessEnv): { settings: Settings; db: Db } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-settings-'));
  const db = openDatabase(dir);
  open.push({ db, dir });
  return { settings: new Settings(new SettingsStore(db), env), db };
}

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (err) {
    if (err instanceof SettingsError) return err.field;
    throw err;
  }
  throw new Error('no SettingsError');
}

describe('Settings', () => {
  it('takes the environment as default, lets a saved value win, and returns to the environment when cleared', () => {
    const { settings } = settingsOver({
      LOAXA_TTS_ENGINES: 'fpt,espeak',
      LOAXA_TTS_FPT_API_KEY: 'env-key',
      LOAXA_TTS_AZURE_REGION: 'southeastasia',
    });
    expect(settings.ttsConfig().engines.map((e) => e.id)).toEqual(['fpt', 'espeak']);
    expect(settings.view().engines).toMatchObject({ order: ['fpt', 'espeak'], source: 'environment' });
    expect(settings.view().credentials.fpt.apiKey).toEqual({
      set: true,
      source: 'environment',
      updatedAt: null,
      updatedBy: null,
    });

    settings.update({ engines: ['espeak'], credentials: { fpt: { apiKey: 'saved-key' } } }, 'admin');
    expect(settings.ttsConfig().engines).toEqual([{ id: 'espeak' }]);
    expect(settings.engineConfig('fpt')).toEqual({ config: { id: 'fpt', apiKey: 'saved-key' } });
    expect(settings.view().credentials.fpt.apiKey).toMatchObject({ set: true, source: 'saved', updatedBy: 'admin' });
    expect(settings.view().credentials.azure.region).toMatchObject({ value: 'southeastasia', source: 'environment' });

    settings.update({ engines: null, credentials: { fpt: { apiKey: null } } }, 'admin');
    expect(settings.ttsConfig().engines).toEqual([{ id: 'fpt', apiKey: 'env-key' }, { id: 'espeak' }]);
    expect(settings.view().engines.source).toBe('environment');
  });

  it('never shows a key, and reports a secret change as set or cleared', () => {
    const { settings } = settingsOver({});
    const change = settings.update(
      { engines: ['google', 'espeak'], credentials: { google: { apiKey: ' g-secret-123 ' } } },
      'admin',
    );
    expect(change.detail).toEqual({ engines: ['google', 'espeak'], 'credentials.google.apiKey': 'set' });
    expect(JSON.stringify(settings.view())).not.toContain('g-secret-123');
    expect(settings.engineConfig('google')).toEqual({ config: { id: 'google', apiKey: 'g-secret-123' } });
  });

  it('keeps the loudness target between the limits, merging a partial change', () => {
    const { settings } = settingsOver({});
    expect(settings.loudnessTarget()).toEqual({ i: -16, tp: -1.5 });
    settings.update({ loudness: { integratedLufs: -20 } }, 'admin');
    expect(settings.loudnessTarget()).toEqual({ i: -20, tp: -1.5 });
    expect(settings.view().loudness).toMatchObject({ integratedLufs: -20, truePeakDb: -1.5, source: 'saved' });
    settings.update({ loudness: null }, 'admin');
    expect(settings.view().loudness).toMatchObject({ integratedLufs: -16, source: 'default' });
  });

  it('refuses an order it cannot build, naming what to fix, and saves nothing', () => {
    const { settings } = settingsOver({ LOAXA_TTS_ENGINES: 'fpt,espeak', LOAXA_TTS_FPT_API_KEY: 'k' });
    expect(fieldOf(() => settings.update({ engines: ['nope'] }, 'a'))).toBe('engines.0');
    expect(fieldOf(() => settings.update({ engines: ['espeak', 'espeak'] }, 'a'))).toBe('engines.1');
    expect(fieldOf(() => settings.update({ engines: ['zalo', 'espeak'] }, 'a'))).toBe('credentials.zalo.apiKey');
    expect(fieldOf(() => settings.update({ engines: ['azure'], credentials: { azure: { apiKey: 'k' } } }, 'a'))).toBe(
      'credentials.azure.region',
    );
    expect(fieldOf(() => settings.update({ engines: ['piper'] }, 'a'))).toBe('engines.0');
    expect(fieldOf(() => settings.update({ credentials: { vbee: { apiKey: '  ' } } }, 'a'))).toBe(
      'credentials.vbee.apiKey',
    );
    // fpt is in the order: its key cannot be cleared unless the environment gives one.
    settings.update({ credentials: { fpt: { apiKey: 'saved' } } }, 'a');
    expect(() => settings.update({ credentials: { fpt: { apiKey: null } } }, 'a')).not.toThrow();
    expect(settings.view().engines.order).toEqual(['fpt', 'espeak']);
    expect(settings.view().credentials.zalo.apiKey.set).toBe(false);
  });

  it('falls back to the environment at start when saved settings no longer fit it', () => {
    const { settings, db } = settingsOver({ LOAXA_TTS_FPT_API_KEY: 'k' });
    settings.update({ engines: ['fpt', 'espeak'] }, 'admin');
    const later = new Settings(new SettingsStore(db), {});
    const { config, ignored } = later.startupTtsConfig();
    expect(config.engines).toEqual([{ id: 'espeak' }]);
    expect(ignored[0]).toMatch(/apiKey: is required/);
  });

  it('keeps the database file, which holds the keys, readable by its owner only', () => {
    const { db } = settingsOver({});
    expect(fs.statSync(db.name).mode & 0o777).toBe(0o600);
  });
});
