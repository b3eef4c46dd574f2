/**
 * HTTPS, WSS and MQTTS with a certificate the operator gives (here a
 * self-signed one made by the test with openssl).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPath, requireTool } from '../../../scripts/test/require-tool';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers';

const opensslPresent = requireTool({
  tool: 'openssl',
  found: () => onPath('openssl'),
  install: 'apt-get install openssl',
  skips: 'TLS tests',
});

describe.skipIf(!opensslPresent)('TLS', () => {
  let server: TestServer;
  let ca: Buffer;
  let secret: string;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    ca = fs.readFileSync(cert);
    server = await startTestServer({ LOAXA_TLS_CERT: cert, LOAXA_TLS_KEY: key }, { ca });
    await server.services.registry.createZone('Thôn 1', 'default', 'thon-1');
    secret = (await server.services.registry.createDevice({ communeId: 'default', id: 'tls-1', zones: ['thon-1'] }))
      .secret;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the API over HTTPS only', async () => {
    expect(server.url).toMatch(/^https:\/\//);
    expect(server.mqttUrl).toMatch(/^mqtts:\/\//);
    const status = await new Promise<number>((resolve, reject) =>
      https.get(`${server.url}/api/v1/health`, { ca }, (res) => resolve(res.statusCode ?? 0)).on('error', reject),
    );
    expect(status).toBe(200);
    await expect(fetch(server.url.replace('https', 'http') + '/api/v1/health')).rejects.toThrow();
  });

  it('sets the session cookie Secure, HttpOnly and SameSite=Strict over HTTPS', async () => {
    const setCookie = await new Promise<string[]>((resolve, reject) => {
      const req = https.request(
        `${server.url}/api/v1/session`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, ca },
        (res) => {
          res.resume();
          resolve(res.headers['set-cookie'] ?? []);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
    });
    const session = setCookie.find((c) => c.startsWith('loaxa_session='));
    expect(session).toBeDefined();
    const attributes = session!.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toContain('secure');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=strict');
    expect(attributes).toContain('path=/');
  });

  it('accepts a device over MQTTS and over WSS, and refuses an untrusted certificate', async () => {
    for (const url of [server.mqttUrl, `${server.url.replace('https', 'wss')}/mqtt`]) {
      const client = await mqtt.connectAsync(url, {
        clientId: 'tls-1',
        username: 'tls-1',
        password: secret,
        ca,
        reconnectPeriod: 0,
      });
      expect(client.connected).toBe(true);
      await client.endAsync();
    }
    await expect(
      mqtt.connectAsync(server.mqttUrl, {
        clientId: 'tls-1',
        username: 'tls-1',
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 2000,
      }),
    ).rejects.toThrow(/self.signed|certificate/i);
  });

  it('refuses half a TLS configuration, naming the missing variable', async () => {
    const { loadConfig } = await import('../../src/config');
    expect(() => loadConfig({ LOAXA_TLS_CERT: '/etc/hostname' })).toThrow(/LOAXA_TLS_KEY: is required/);
    expect(() => loadConfig({ LOAXA_TLS_CERT: '/nope.pem', LOAXA_TLS_KEY: '/nope.key' })).toThrow(/no such file/);
  });
});
