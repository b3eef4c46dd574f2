import { describe, expect, it } from 'vitest';
import { faultsFromFlags } from './fault-flags';
import { connectClientId, selectDevices } from './faults';

describe('fault flags', () => {
  it('reads every fault', () => {
    expect(
      faultsFromFlags({
        offline: '0.1:2000:5000',
        drops: '0.05:3000',
        slow: '0.2:8000',
        fail: '0.1:2',
        corrupt: '0.1:1',
        skew: '0.5:1500',
        'disk-full': '0.1:2',
        reboot: '0.01:100:1000',
      }),
    ).toEqual({
      offline: { devices: 0.1, afterMs: 2000, forMs: 5000 },
      connectionDrops: { devices: 0.05, everyMs: 3000 },
      slowDownloads: { devices: 0.2, bytesPerSecond: 8000 },
      failingDownloads: { devices: 0.1, failures: 2 },
      corruptDownloads: { devices: 0.1, times: 1 },
      clockSkew: { devices: 0.5, maxMs: 1500 },
      diskFull: { devices: 0.1, failures: 2 },
      rebootWhilePlaying: { devices: 0.01, afterMs: 100, downMs: 1000 },
    });
  });

  it.each([
    [{ offline: '0.1:2000' }, /--offline: expected 3 non-negative numbers/],
    [{ drops: '2:1000' }, /--drops: the first number is a fraction/],
    [{ slow: 'x:1' }, /--slow: expected 2/],
  ])('names the bad flag in %j', (flags, error) => {
    expect(() => faultsFromFlags(flags)).toThrow(error);
  });
});

describe('selectDevices', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `d${i}`);
  it('spreads a fraction over the fleet', () => {
    expect([...selectDevices(0.3, ids)]).toEqual(['d0', 'd3', 'd6']);
    expect(selectDevices(0, ids).size).toBe(0);
    expect(selectDevices(1, ids).size).toBe(10);
  });
  it('takes explicit ids that exist', () => {
    expect([...selectDevices(['d1', 'nope'], ids)]).toEqual(['d1']);
  });
});

describe('connectClientId', () => {
  // CONNECT, MQTT 3.1.1, clean session, keepalive 30, client id "dev-7".
  const packet = Buffer.from([0x10, 17, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 30, 0, 5, 0x64, 0x65, 0x76, 0x2d, 0x37]);
  it('reads the client id of a CONNECT', () => expect(connectClientId(packet)).toBe('dev-7'));
  it('waits for the rest of a partial packet', () => expect(connectClientId(packet.subarray(0, 10))).toBeUndefined());
  it('refuses anything else', () => expect(connectClientId(Buffer.from([0x30, 0]))).toBeNull());
});
