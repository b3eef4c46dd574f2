import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from './config';

const good = {
  deviceId: 'loa-thon1-01',
  serverUrl: 'http://127.0.0.1:8080',
  mqttUrl: 'mqtt://127.0.0.1:1883',
  secret: 's3cret',
  player: { type: 'null', log: '/tmp/plays.jsonl' },
};

describe('validateConfig', () => {
  it('accepts a good config and fills defaults', () => {
    expect(validateConfig(good)).toEqual({
      ok: true,
      config: {
        ...good,
        dataDir: '/var/lib/loaxa',
        audioFormat: 'ogg',
        telemetryIntervalMs: 30_000,
        ackSpreadMs: 1_000,
        clockCheckIntervalMs: 60_000,
        clockWarnMs: 1_000,
      },
    });
  });

  it.each([
    { mqttUrl: 'ws://10.0.0.1:8080/mqtt', player: { type: 'sim' } },
    { mqttUrl: 'mqtts://broker.example:8883', agentVersion: '1.2.3', dataDir: '/data' },
    { serverUrl: 'https://xa.example.vn/', telemetryIntervalMs: 5_000 },
    { player: { type: 'alsa', device: 'plughw:CARD=Headphones', command: 'aplay', ffmpegPath: '/usr/bin/ffmpeg' } },
    { amp: { type: 'none' }, mixer: { type: 'none' } },
    { amp: { type: 'gpioset', chip: 'gpiochip4', line: 17, activeLow: true, preRollMs: 0, holdMs: 60_000 } },
    { mixer: { type: 'amixer', card: 'Headphones', control: 'PCM' } },
    { signalCommand: ['/usr/local/bin/signal-dbm', '--modem', '0'] },
    { audioFormat: 'mp3' },
    { audioFormat: 'ogg' },
    { ackSpreadMs: 0 },
    { ackSpreadMs: 10_000 },
    { mqttUrls: ['mqtt://10.0.0.2:1883'] },
    { mqttUrls: ['mqtts://n2.example:8883', 'ws://10.0.0.3:8080/mqtt', 'wss://n4.example/mqtt'] },
    { mqttUrls: ['mqtt://127.0.0.1:1883'] }, // the same as mqttUrl: ignored by the link
    { mqttUrls: Array.from({ length: 8 }, (_, i) => `mqtt://10.0.0.${i + 2}:1883`) },
  ])('accepts variant %j', (change) => {
    expect(validateConfig({ ...good, ...change }).ok).toBe(true);
  });

  it.each([
    ['deviceId', { deviceId: 'loa/01' }],
    ['deviceId', { deviceId: undefined }],
    ['serverUrl', { serverUrl: 'ftp://server' }],
    ['serverUrl', { serverUrl: 'not a url' }],
    ['serverUrl', { serverUrl: 8080 }],
    ['mqttUrl', { mqttUrl: 'http://127.0.0.1:1883' }],
    ['mqttUrl', { mqttUrl: undefined }],
    ['secret', { secret: '' }],
    ['dataDir', { dataDir: '' }],
    ['player', { player: undefined }],
    ['player', { player: 'null' }],
    ['player.type', { player: { type: 'pulse' } }],
    ['player.command', { player: { type: 'alsa', command: 'mpv' } }],
    ['player.device', { player: { type: 'alsa', device: '' } }],
    ['player.path', { player: { type: 'alsa', path: '' } }],
    ['amp', { amp: 'on' }],
    ['amp.type', { amp: { type: 'relay' } }],
    ['amp.line', { amp: { type: 'gpioset' } }],
    ['amp.line', { amp: { type: 'gpioset', line: 'GPIO17' } }],
    ['amp.preRollMs', { amp: { type: 'gpioset', line: 17, preRollMs: -1 } }],
    ['amp.holdMs', { amp: { type: 'gpioset', line: 17, holdMs: 1.5 } }],
    ['amp.activeLow', { amp: { type: 'gpioset', line: 17, activeLow: 'yes' } }],
    ['amp.pin', { amp: { type: 'gpioset', line: 17, pin: 11 } }],
    ['ackSpreadMs', { ackSpreadMs: -1 }],
    ['ackSpreadMs', { ackSpreadMs: 10_001 }],
    ['ackSpreadMs', { ackSpreadMs: 2.5 }],
    ['mixer.type', { mixer: { type: 'pulseaudio' } }],
    ['mixer.card', { mixer: { type: 'amixer', card: -1 } }],
    ['mixer.control', { mixer: { type: 'amixer', control: '' } }],
    ['signalCommand', { signalCommand: [] }],
    ['signalCommand', { signalCommand: 'mmcli -m 0' }],
    ['player.log', { player: { type: 'null' } }],
    ['player.volume', { player: { type: 'sim', volume: 3 } }],
    ['agentVersion', { agentVersion: 'x'.repeat(41) }],
    ['telemetryIntervalMs', { telemetryIntervalMs: 10 }],
    ['telemetryIntervalMs', { telemetryIntervalMs: 1.5e3 + 0.5 }],
    ['colour', { colour: 'red' }],
    ['audioFormat', { audioFormat: 'wav' }],
    ['audioFormat', { audioFormat: 'MP3' }],
    ['audioFormat', { audioFormat: null }],
    ['mqttUrls', { mqttUrls: [] }],
    ['mqttUrls', { mqttUrls: 'mqtt://10.0.0.2:1883' }],
    ['mqttUrls', { mqttUrls: Array.from({ length: 9 }, (_, i) => `mqtt://10.0.0.${i + 2}:1883`) }],
    ['mqttUrls.0', { mqttUrls: ['http://10.0.0.2:1883'] }],
    ['mqttUrls.1', { mqttUrls: ['mqtt://10.0.0.2:1883', 'not a url'] }],
    ['mqttUrls.1', { mqttUrls: ['mqtt://10.0.0.2:1883', 1883] }],
    ['mqttUrls.2', { mqttUrls: ['mqtt://10.0.0.2:1883', 'mqtt://10.0.0.3:1883', 'mqtt://'] }],
  ])('names %s when it is bad (%j)', (field, change) => {
    const result = validateConfig({ ...good, ...change });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
  });

  it('fills the defaults of the alsa player, gpioset relay and amixer mixer', () => {
    const result = validateConfig({
      ...good,
      player: { type: 'alsa' },
      amp: { type: 'gpioset', line: 17 },
      mixer: { type: 'amixer' },
    });
    expect(result.ok && [result.config.player, result.config.amp, result.config.mixer]).toEqual([
      { type: 'alsa', device: 'default', command: 'ffmpeg' },
      { type: 'gpioset', chip: 'gpiochip0', line: 17, preRollMs: 2_000, holdMs: 5_000 },
      { type: 'amixer', card: 0, control: 'PCM' },
    ]);
  });

  it('reports every bad field at once', () => {
    const result = validateConfig({ ...good, deviceId: '', secret: 3, mqttUrl: 'x' });
    expect(result.ok ? [] : result.errors.map((e) => e.split(':')[0]).sort()).toEqual([
      'deviceId',
      'mqttUrl',
      'secret',
    ]);
  });

  it('keeps the other broker nodes, and names each bad one with what it should be', () => {
    const nodes = ['mqtt://10.0.0.2:1883', 'mqtt://10.0.0.3:1883'];
    const result = validateConfig({ ...good, mqttUrls: nodes });
    expect(result.ok && result.config.mqttUrls).toEqual(nodes);
    expect(validateConfig({ ...good, mqttUrls: ['ftp://n2', 'mqtt://n3:1883', 'https://n4'] })).toEqual({
      ok: false,
      errors: [
        'mqttUrls.0: must be an mqtt://, mqtts://, ws:// or wss:// URL',
        'mqttUrls.2: must be an mqtt://, mqtts://, ws:// or wss:// URL',
      ],
    });
    expect(validateConfig({ ...good, mqttUrls: [] })).toEqual({
      ok: false,
      errors: ['mqttUrls: must be a list of 1–8 mqtt://, mqtts://, ws:// or wss:// URLs (the other broker nodes)'],
    });
  });

  it('says what a bad audioFormat should be', () => {
    expect(validateConfig({ ...good, audioFormat: 'aac' })).toEqual({
      ok: false,
      errors: ['audioFormat: must be "ogg" or "mp3" (default "ogg")'],
    });
  });

  it('rejects a non-object', () => {
    expect(validateConfig([])).toEqual({ ok: false, errors: ['(root): must be a JSON object'] });
  });
});

describe('loadConfig', () => {
  it('reads a file and names the file and field on error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loaxa-config-'));
    const path = join(dir, 'agent.json');
    await writeFile(path, JSON.stringify(good));
    expect((await loadConfig(path)).deviceId).toBe('loa-thon1-01');
    await writeFile(path, JSON.stringify({ ...good, secret: '' }));
    const error = await loadConfig(path).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(path);
    expect((error as ConfigError).errors).toEqual(['secret: must be a non-empty string']);
    await writeFile(path, '{ nope');
    await expect(loadConfig(path)).rejects.toThrow(/not valid JSON/);
  });
});
