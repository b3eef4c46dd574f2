import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../config';
import { installErrorHandler } from '../http/errors';
import { isLoopback, metricsAccessHook } from './access';

const TOKEN = 'prometheus-scrape-token-0123456789';
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function appWith(config: Pick<Config, 'metricsAccess' | 'metricsToken'>): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  installErrorHandler(app);
  app.get('/metrics', { onRequest: metricsAccessHook(config) }, async () => 'loaxa_up 1\n');
  await app.ready();
  return app;
}

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('%s is this machine', (a) => {
    expect(isLoopback(a)).toBe(true);
  });
  it.each(['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', '1127.0.0.1', '', undefined])('%s is not', (a) => {
    expect(isLoopback(a)).toBe(false);
  });
});

describe('/metrics access', () => {
  it('loopback (the default without a token): this machine only, not through a proxy', async () => {
    const app = await appWith({ metricsAccess: 'loopback' });
    expect((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(200);
    const remote = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ message: expect.stringMatching(/LOAXA_METRICS_TOKEN/) });
    expect((await app.inject({ method: 'HEAD', url: '/metrics', remoteAddress: '203.0.113.9' })).statusCode).toBe(403);
    // A reverse proxy on this machine connects from loopback on behalf of anyone.
    const proxied = await app.inject({
      url: '/metrics',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.statusCode).toBe(403);
  });

  it('token: the right Bearer token from anywhere; none or a wrong one gets 401', async () => {
    const app = await appWith({ metricsAccess: 'token', metricsToken: TOKEN });
    const ok = await app.inject({
      url: '/metrics',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('loaxa_up 1\n');
    const none = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json()).toMatchObject({ field: 'authorization' });
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`]) {
      const wrong = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.9', headers: { authorization } });
      expect(wrong.statusCode, authorization).toBe(401);
    }
  });

  it('open: anyone', async () => {
    const app = await appWith({ metricsAccess: 'open' });
    expect((await app.inject({ url: '/metrics', remoteAddress: '203.0.113.9' })).statusCode).toBe(200);
  });
});
