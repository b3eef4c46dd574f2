import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { openDatabase } from '../db/database';
import { sqliteSql } from '../db/sql';
import { DeviceRegistry } from '../devices/registry';
import { EventHub } from '../events/hub';
import { CommuneService } from '../tenancy/communes';
import { deviceMayPublish, deviceMaySubscribe } from './access';
import { mosquittoHash, mosquittoHashMatches, parsePasswordFile, renderAclFile, renderPasswordFile } from './mosquitto';

/** Mosquitto's ACL file semantics, small: `user` blocks and `pattern` lines (%u), read/write/readwrite, + and #. */
function aclAllows(acl: string, user: string, access: 'read' | 'write', topic: string): boolean {
  let current: string | null = null;
  const matches = (filter: string) => {
    const f = filter.split('/');
    const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return true;
      if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
    }
    return f.length === t.length;
  };
  for (const line of acl.split('\n')) {
    const [kind, a, filter] = line.trim().split(/\s+/);
    if (kind === 'user') current = a!;
    const grants = (x?: string) => x === access || x === 'readwrite';
    if (kind === 'topic' && current === user && grants(a) && matches(filter!)) return true;
    if (kind === 'pattern' && grants(a) && matches(filter!.replaceAll('%u', user))) return true;
  }
  return false;
}

describe('mosquitto password file', () => {
  it('checks a line written by mosquitto_passwd 2.0 (dev1 / secret1)', () => {
    const line =
      'dev1:$7$101$QbVNU5JbRRqdL2Dd$yAixl6VtytIUGRrTa4YWzV23yaSvyWX0GwlCSZLlul0JoPOvOtUjfJPf30TTdFgygp8Tjj9JD+H6SQqQIE7G8A==';
    const hash = parsePasswordFile(line).get('dev1')!;
    expect(mosquittoHashMatches('secret1', hash)).toBe(true);
    expect(mosquittoHashMatches('secret2', hash)).toBe(false);
  });

  it('writes hashes in the same format, salted per line', () => {
    const a = mosquittoHash('s3cret');
    expect(a).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(mosquittoHash('s3cret')).not.toBe(a);
    expect(mosquittoHashMatches('s3cret', a)).toBe(true);
    const file = renderPasswordFile(new Map([['d-1', a]]));
    expect(parsePasswordFile(file)).toEqual(new Map([['d-1', a]]));
  });
});

describe('mosquitto ACL file', () => {
  const acl = renderAclFile({
    serverUser: 'loaxa-server',
    devices: [
      { id: 'a', zones: ['thon-1'] },
      { id: 'b', zones: ['thon-2'] },
    ],
    generation: 'g1',
  });
  const zonesOfA = () => ['thon-1'];
  const concrete = [
    ...(['a', 'b'] as const).flatMap((d) => [
      topics.deviceStatus(d),
      topics.deviceTelemetry(d),
      topics.deviceAck(d),
      topics.devicePlan(d),
      topics.deviceCmd(d),
    ]),
    topics.zoneCmd('thon-1'),
    topics.zoneCmd('thon-2'),
    'other/topic',
  ];

  it.each(concrete)('grants device a the same as the embedded broker on %s', (topic) => {
    expect(aclAllows(acl, 'a', 'write', topic)).toBe(deviceMayPublish('a', topic));
    expect(aclAllows(acl, 'a', 'read', topic)).toBe(deviceMaySubscribe('a', topic, zonesOfA));
  });

  it('lets the server read what devices publish and write what they hear, and its sync topic', () => {
    expect(aclAllows(acl, 'loaxa-server', 'read', topics.deviceAck('b'))).toBe(true);
    expect(aclAllows(acl, 'loaxa-server', 'write', topics.deviceAck('b'))).toBe(false);
    expect(aclAllows(acl, 'loaxa-server', 'write', topics.devicePlan('b'))).toBe(true);
    expect(aclAllows(acl, 'loaxa-server', 'write', topics.zoneCmd('thon-9'))).toBe(true);
    expect(aclAllows(acl, 'loaxa-server', 'read', 'loaxa-acl-sync/g1')).toBe(true);
    expect(aclAllows(acl, 'loaxa-server', 'read', 'loaxa-acl-sync/g0')).toBe(false);
  });
});

describe('mosquitto ACL file of a province', () => {
  it("grants each device its own commune's zones only, from the registry", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-acl-'));
    const db = openDatabase(dir);
    try {
      const sqlDb = sqliteSql(db);
      const other = (await (await CommuneService.open(sqlDb)).create('Xã Bên Kia')).id;
      const registry = new DeviceRegistry(sqlDb, new EventHub());
      await registry.createZone('Thôn 1', 'default', 'thon-1');
      await registry.createZone('Thôn 1', other, 'bk-thon-1');
      await registry.createDevice({ communeId: 'default', id: 'a', zones: ['thon-1'] });
      await registry.createDevice({ communeId: other, id: 'b', zones: ['bk-thon-1'] });
      const acl = renderAclFile({
        serverUser: 'loaxa-server',
        devices: await registry.listDevices(),
        generation: 'g1',
      });
      expect(aclAllows(acl, 'a', 'read', topics.zoneCmd('thon-1'))).toBe(true);
      expect(aclAllows(acl, 'a', 'read', topics.zoneCmd('bk-thon-1'))).toBe(false);
      expect(aclAllows(acl, 'b', 'read', topics.zoneCmd('bk-thon-1'))).toBe(true);
      expect(aclAllows(acl, 'b', 'read', topics.zoneCmd('thon-1'))).toBe(false);
      expect(aclAllows(acl, 'loaxa-server', 'write', topics.zoneCmd('bk-thon-1'))).toBe(true);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
