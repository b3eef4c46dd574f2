/**
 * A commune server with a self-signed certificate (made here with openssl):
 * an agent given that certificate in `tls.caFile` connects over MQTTS, checks
 * its clock and downloads audio over HTTPS, and plays; without it, the agent
 * refuses the server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent';
import { loadConfig } from '../../src/config';
import { NullPlayer } from '../../src/player/null-player';
import { startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { onPath, requireTool } from '../../../scripts/test/require-tool';
import { startNode, type TestNode } from './in-process';

const opensslPresent = requireTool({
  tool: 'openssl',
  found: () => onPath('openssl'),
  install: 'apt-get install openssl',
  skips: 'agent TLS tests',
});

describe.skipIf(!opensslPresent)('agent trusting a self-signed server through tls.caFile', () => {
  let server: TestServer;
  let certFile: string;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-agent-tls-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
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
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    server = await startTestServer(
      { LOAXA_TLS_CERT: certFile, LOAXA_TLS_KEY: keyFile },
      { ca: fs.readFileSync(certFile) },
    );
  });
  afterAll(async () => {
    for (const node of nodes) await node.agent.stop();
    await server?.close();
  });

  it('connects over MQTTS, measures its clock and plays audio fetched over HTTPS', async () => {
    expect(server.mqttUrl).toMatch(/^mqtts:/);
    expect(server.url).toMatch(/^https:/);
    const node = await startNode(server, 'loa-tls', {
      config: { tls: { caFile: certFile }, clockCheckIntervalMs: 1_000, telemetryIntervalMs: 1_000 },
    });
    nodes.push(node);
    await waitFor('agent online over MQTTS', () => node.agent.online, 15_000);

    const at = Date.now() + 4_000;
    const post = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
      text: 'Thông báo qua kết nối bảo mật.',
      zones: ['thon-1'],
      at: new Date(at).toISOString(),
    });
    expect(post.status).toBe(201);
    const played = await waitFor('a play', () => node.plays()[0], 20_000);
    expect(played.occurrenceId).toBe(post.body.occurrenceId);
    expect(Math.abs(played.startedAt - at)).toBeLessThanOrEqual(100);
    // The clock check went over HTTPS with the same CA.
    await waitFor('clock offset over HTTPS', () => node.agent.snapshot().clockOffsetMs !== null, 10_000);
  }, 40_000);

  it('without the CA the agent refuses the server: no connection, no download', async () => {
    const { secret } = await server.services.registry.createDevice({
      id: 'loa-untrusting',
      zones: ['thon-1'],
      communeId: 'default',
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-untrusting-'));
    const errors: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void errors.push(line) });
    const agent = createAgent(
      {
        deviceId: 'loa-untrusting',
        secret,
        serverUrl: server.url,
        mqttUrl: server.mqttUrl,
        dataDir,
        player: { type: 'null', log: path.join(dataDir, 'play.log') },
      },
      { player: new NullPlayer(path.join(dataDir, 'play.log')), logger, link: { connectTimeoutMs: 2_000 } },
    );
    await agent.start();
    try {
      await waitFor('a certificate error', () => errors.some((e) => /self.signed|certificate/i.test(e)), 10_000);
      expect(agent.snapshot().connected).toBe(false);
    } finally {
      await agent.stop();
    }
  }, 20_000);

  it('names tls.caFile when the file is missing or not a certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-cafile-'));
    const configFile = path.join(dir, 'agent.json');
    const base = {
      deviceId: 'loa-1',
      serverUrl: 'https://xa.example.vn',
      mqttUrl: 'mqtts://xa.example.vn:8883',
      secret: 's',
      player: { type: 'sim' },
    };
    fs.writeFileSync(configFile, JSON.stringify({ ...base, tls: { caFile: path.join(dir, 'nope.pem') } }));
    await expect(loadConfig(configFile)).rejects.toThrow(/tls\.caFile: cannot read .*nope\.pem \(ENOENT\)/);
    fs.writeFileSync(path.join(dir, 'junk.pem'), 'hello');
    fs.writeFileSync(configFile, JSON.stringify({ ...base, tls: { caFile: path.join(dir, 'junk.pem') } }));
    await expect(loadConfig(configFile)).rejects.toThrow(/tls\.caFile: .*junk\.pem is not a PEM certificate/);
    fs.writeFileSync(configFile, JSON.stringify({ ...base, tls: { caFile: '' } }));
    await expect(loadConfig(configFile)).rejects.toThrow(/tls\.caFile: must be the path of a PEM certificate file/);
  });
});
