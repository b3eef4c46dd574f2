import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readServerAddress, serverAddressFile, writeServerAddress } from './server-address';

const dirs: string[] = [];
function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-address-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const ADDRESS = { url: 'http://127.0.0.1:18080', mqttUrl: 'mqtt://127.0.0.1:11883' };

describe('server address file', () => {
  it('is written owner-only and read back while its process lives', () => {
    const dir = dataDir();
    writeServerAddress(dir, ADDRESS);
    expect(fs.statSync(serverAddressFile(dir)).mode & 0o777).toBe(0o600);
    expect(readServerAddress(dir)).toEqual({ found: { ...ADDRESS, pid: process.pid, startedAt: expect.any(String) } });
  });

  it('is stale when its pid no longer runs', () => {
    const dir = dataDir();
    writeServerAddress(dir, ADDRESS);
    expect(readServerAddress(dir, () => false)).toEqual({ stale: expect.objectContaining({ pid: process.pid }) });
  });

  it('is absent when missing or unreadable', () => {
    const dir = dataDir();
    expect(readServerAddress(dir)).toEqual({ none: true });
    fs.writeFileSync(serverAddressFile(dir), '{"url": 5');
    expect(readServerAddress(dir)).toEqual({ none: true });
    fs.writeFileSync(serverAddressFile(dir), JSON.stringify({ ...ADDRESS, pid: 'x' }));
    expect(readServerAddress(dir)).toEqual({ none: true });
  });

  it('is removed on stop only while it is still this server’s', () => {
    const dir = dataDir();
    const first = writeServerAddress(dir, ADDRESS);
    first.remove();
    expect(fs.existsSync(serverAddressFile(dir))).toBe(false);

    const older = writeServerAddress(dir, ADDRESS);
    // Another server took the data directory over since: its address stays.
    writeServerAddress(dir, { ...ADDRESS, url: 'http://127.0.0.1:19090' });
    older.remove();
    expect(readServerAddress(dir)).toMatchObject({ found: { url: 'http://127.0.0.1:19090' } });
  });
});
