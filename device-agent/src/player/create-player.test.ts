import type { Asset } from '@loaxa/protocol';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { createPlayer } from './create-player';

const base = {
  deviceId: 'loa-01',
  serverUrl: 'http://127.0.0.1:8080',
  mqttUrl: 'mqtt://127.0.0.1:1883',
  secret: 's',
};
const asset: Asset = { sha256: 'c'.repeat(64), url: '/m', bytes: 1, durationMs: 20, format: 'ogg' };

describe('createPlayer', () => {
  it.each([
    [{ player: { type: 'sim' } }, []],
    [{ player: { type: 'alsa' } }, []],
    [{ player: { type: 'sim' }, amp: { type: 'none' }, mixer: { type: 'none' } }, []],
    [{ player: { type: 'sim' }, amp: { type: 'gpioset', line: 17 } }, ['amp']],
    [{ player: { type: 'alsa' }, mixer: { type: 'amixer' } }, ['mixer']],
  ])('%j exposes controls %j', (output, controls) => {
    const player = createPlayer(parseConfig({ ...base, ...output }));
    expect(Object.keys(player.controls).sort()).toEqual(controls);
  });

  it('a sim chain plays and closes', async () => {
    const player = createPlayer(parseConfig({ ...base, player: { type: 'sim' } }));
    const result = await player.play({ occurrenceId: 'o', assets: [asset] }, new AbortController().signal);
    expect(result.endedAt - result.startedAt).toBeGreaterThanOrEqual(15);
    await player.close();
  });
});
