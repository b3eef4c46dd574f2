/**
 * /metrics on the real server: by default only this machine may read it; with
 * LOAXA_METRICS_TOKEN a scraper anywhere reads it with the Bearer token.
 * (fastify.inject's remoteAddress stands in for a client on another machine.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

const TOKEN = 'scrape-me-0123456789abcdef';
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function server(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startTestServer(env);
  servers.push(s);
  return s;
}

describe('/metrics access on the running server', () => {
  it('answers loopback clients and refuses others without a token configured', async () => {
    const s = await server();
    const local = await fetch(`${s.url}/metrics`);
    expect(local.status).toBe(200);
    expect(await local.text()).toMatch(/loaxa_devices/);
    const remote = await s.app.inject({ url: '/metrics', remoteAddress: '198.51.100.7' });
    expect(remote.statusCode).toBe(403);
    expect(remote.body).not.toMatch(/loaxa_devices/);
  });

  it('with LOAXA_METRICS_TOKEN, answers the Bearer token from anywhere and nobody without it', async () => {
    const s = await server({ LOAXA_METRICS_TOKEN: TOKEN });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const remote = await s.app.inject({
      url: '/metrics',
      remoteAddress: '198.51.100.7',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(remote.statusCode).toBe(200);
    expect(remote.body).toMatch(/loaxa_devices/);
    const local = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(local.status).toBe(200);
  });
});
