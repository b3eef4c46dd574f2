/**
 * Answers are gzip'd for a client that asks (a browser always does): a
 * province's device list shrinks to a fraction and reads back the same; a
 * client that does not ask gets it plain; the live event stream is never
 * compressed (a gzip stream would hold events back until a block fills).
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

let server: TestServer;

/** GET with exactly these headers (fetch would add Accept-Encoding and undo the gzip itself). */
function get(
  path: string,
  headers: Record<string, string>,
  firstChunkOnly = false,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers: { cookie: server.cookie, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (firstChunkOnly) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', (err) => (firstChunkOnly ? undefined : reject(err)));
  });
}

beforeAll(async () => {
  server = await startTestServer();
  const communeId = server.services.communes.defaultId();
  const zone = (await server.services.registry.createZone('Thôn Đông', communeId)).id;
  for (let i = 0; i < 300; i++) {
    await server.services.registry.createDevice({
      id: `loa-${String(i).padStart(3, '0')}`,
      name: `Cụm loa Thôn Đông số ${i}`,
      communeId,
      zones: [zone],
    });
  }
});

afterAll(async () => {
  await server?.close();
});

describe('compressed answers', () => {
  it('gzips the device list for a client that asks, and it reads back the same', async () => {
    const plain = await get('/api/v1/devices', {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const devices = JSON.parse(plain.body.toString('utf8')) as { id: string }[];
    expect(devices).toHaveLength(300);

    const zipped = await get('/api/v1/devices', { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['x-total-count']).toBe('300');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
    const unzipped = JSON.parse(zlib.gunzipSync(zipped.body).toString('utf8')) as { id: string; online: boolean }[];
    expect(unzipped.map((d) => d.id)).toEqual(devices.map((d) => d.id));
  });

  it('never compresses the live event stream', async () => {
    const stream = await get('/api/v1/events', { 'accept-encoding': 'gzip', accept: 'text/event-stream' }, true);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.body.toString('utf8')).toMatch(/^retry: /);
  });
});
