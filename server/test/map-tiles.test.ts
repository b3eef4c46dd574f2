/**
 * The console map's tile server: LOAXA_MAP_TILES_URL (a {z}/{x}/{y} template),
 * checked at start and told to the console by GET /api/v1/map; unset keeps
 * the public OpenStreetMap server (tileUrl null).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { startTestServer, type TestServer } from './helpers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('map tiles', () => {
  it('tells the console OpenStreetMap (null) when nothing is set', async () => {
    server = await startTestServer();
    expect(await server.api('GET', '/api/v1/map')).toEqual({ status: 200, body: { tileUrl: null } });
  });

  it('tells the console the commune’s own tile server', async () => {
    server = await startTestServer({ LOAXA_MAP_TILES_URL: ' https://tiles.xa.vn/osm/{z}/{x}/{y}.png ' });
    expect((await server.api('GET', '/api/v1/map')).body).toEqual({
      tileUrl: 'https://tiles.xa.vn/osm/{z}/{x}/{y}.png',
    });
  });

  it.each(['https://tiles.xa.vn/{z}/{x}/{y}.png', '/tiles/{z}/{x}/{y}.png', 'http://10.0.0.5:8080/{z}/{y}/{x}'])(
    'accepts %s',
    (url) => {
      expect(loadConfig({ LOAXA_MAP_TILES_URL: url }).mapTilesUrl).toBe(url);
    },
  );

  it.each(['tiles.xa.vn/{z}/{x}/{y}.png', 'https://tiles.xa.vn/{z}/{x}.png', 'ftp://tiles.xa.vn/{z}/{x}/{y}'])(
    'refuses %s, naming the variable',
    (url) => {
      expect(() => loadConfig({ LOAXA_MAP_TILES_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ LOAXA_MAP_TILES_URL: url })).toThrow(/LOAXA_MAP_TILES_URL=.*\{z\}, \{x\} and \{y\}/);
    },
  );
});
