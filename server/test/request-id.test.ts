/**
 * Request ids: each request gets one (a sane incoming X-Request-Id is kept),
 * it comes back in the header and in JSON errors, and every log line written
 * while serving the request carries it, including the broadcast service's
 * "broadcast created" line, which is written with the root logger.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { startTestServer, type TestServer } from './helpers';

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
    done();
  },
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { logger: createLogger('info', false, sink) });
  await server.services.registry.createZone('Thôn 1', 'default', 'thon-1');
  await server.services.registry.createDevice({ communeId: 'default', id: 'rid-1', zones: ['thon-1'] });
});
afterAll(async () => {
  await server?.close();
});

const linesOf = (reqId: string) => lines.filter((l) => l.reqId === reqId);

describe('request ids', () => {
  it('puts the same id in the header, the error body and the log lines', async () => {
    const res = await fetch(`${server.url}/api/v1/zones`, {
      method: 'POST',
      headers: { cookie: server.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '' }),
    });
    expect(res.status).toBe(400);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^req-[0-9a-z]+-[0-9a-f]{12}$/);
    const body = (await res.json()) as { requestId: string; field: string };
    expect(body.requestId).toBe(id);
    expect(body.field).toBe('name');
    await new Promise((r) => setTimeout(r, 50));
    const logged = linesOf(id!);
    expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    // One reqId per line, never a repeated key.
    for (const l of logged) expect(JSON.stringify(l).match(/"reqId"/g)).toHaveLength(1);
  });

  it('keeps a sane incoming X-Request-Id and replaces an insane one', async () => {
    const kept = await fetch(`${server.url}/api/v1/nowhere`, { headers: { 'x-request-id': 'proxy-7f3a.42' } });
    expect(kept.status).toBe(404);
    expect(kept.headers.get('x-request-id')).toBe('proxy-7f3a.42');
    expect(((await kept.json()) as { requestId: string }).requestId).toBe('proxy-7f3a.42');
    for (const bad of ['has space', 'x'.repeat(101), '"quoted"', '-leading-dash', 'new\\nline']) {
      const res = await fetch(`${server.url}/api/v1/health`, { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(/^req-/);
    }
    const unauthenticated = await fetch(`${server.url}/api/v1/devices`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { requestId: string }).requestId).toBe(
      unauthenticated.headers.get('x-request-id'),
    );
  });

  it('tags the broadcast service’s log line with the request that created the broadcast', async () => {
    const reqId = 'bc-test-0001';
    const res = await fetch(`${server.url}/api/v1/broadcasts`, {
      method: 'POST',
      headers: { cookie: server.cookie, 'content-type': 'application/json', 'x-request-id': reqId },
      body: JSON.stringify({ text: 'Thông báo thử mã yêu cầu.', zones: ['thon-1'] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(reqId);
    await new Promise((r) => setTimeout(r, 50));
    const created = lines.find((l) => l.msg === 'broadcast created');
    expect(created, 'a "broadcast created" line').toBeDefined();
    expect(created!.reqId).toBe(reqId);
    // Lines outside any request carry no id.
    expect(lines.find((l) => l.msg === 'using ffmpeg')?.reqId).toBeUndefined();
  });
});
