import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { DEVICE_TOPIC_KINDS, topics } from '@loaxa/protocol';
import { deviceMayPublish, deviceMaySubscribe } from './access';
import {
  RELOAD_PROBE_USER,
  bcryptHash,
  devicePermissions,
  isNatsSafeId,
  mqttTopic,
  natsSubject,
  parseNatsAuthorization,
  renderNatsAuthorization,
} from './nats';

describe('NATS subjects of MQTT topics', () => {
  it.each([
    ['loaxa/v1/dev/spk-1/ack', 'loaxa.v1.dev.spk-1.ack'],
    ['loaxa/v1/dev/+/status', 'loaxa.v1.dev.*.status'],
    ['loaxa/v1/zone/#', 'loaxa.v1.zone.>'],
  ])('%s is %s', (topic, subject) => {
    expect(natsSubject(topic)).toBe(subject);
    if (!/[+#]/.test(topic)) expect(mqttTopic(subject)).toBe(topic);
  });

  it.each(['loaxa/v1/dev/a.b/ack', 'a b', '/lead', 'trail/', 'a//b', 'a/*/b', 'a/>'])(
    'refuses %j, which NATS cannot carry',
    (topic) => expect(() => natsSubject(topic)).toThrow(/no NATS subject form/),
  );

  it('accepts protocol ids without a dot only', () => {
    expect(isNatsSafeId('spk-01_a')).toBe(true);
    expect(isNatsSafeId('spk.01')).toBe(false);
    expect(isNatsSafeId('-spk')).toBe(false);
    expect(isNatsSafeId('"spk"')).toBe(false);
  });
});

describe('a device’s NATS permissions', () => {
  // The same decisions as access.ts (the embedded broker's hooks) and Mosquitto's ACL.
  const zones = ['thon-1'];
  const candidates = [
    ...DEVICE_TOPIC_KINDS.flatMap((kind) => [`loaxa/v1/dev/spk-1/${kind}`, `loaxa/v1/dev/spk-2/${kind}`]),
    topics.zoneCmd('thon-1'),
    topics.zoneLive('thon-1'),
    topics.zoneCmd('thon-2'),
    topics.zoneLive('thon-2'),
  ];
  const p = devicePermissions('spk-1', zones);

  it.each(candidates)('agrees with access.ts on %s', (topic) => {
    expect(p.publish.includes(natsSubject(topic))).toBe(deviceMayPublish('spk-1', topic));
    expect(p.subscribe.includes(natsSubject(topic))).toBe(deviceMaySubscribe('spk-1', topic, () => zones));
  });

  it('lets the node deliver QoS 1 subscriptions', () => {
    expect(p.subscribe).toContain('$MQTT.sub.>');
    expect(p.publish).not.toContain('$MQTT.sub.>');
  });
});

describe('the authorization include file', () => {
  const server = { user: 'loaxa-server', hash: bcryptHash('server password') };
  const probe = { user: RELOAD_PROBE_USER, hash: bcryptHash('probe') };

  it('gives every user an explicit permissions block and reads back each hash', () => {
    const secret = 'a-device-secret';
    const text = renderNatsAuthorization({
      server,
      probe,
      devices: [{ user: 'spk-1', hash: bcryptHash(secret), zones: ['thon-1'] }],
    });
    const users = text.split('\n').filter((l) => l.includes('user:'));
    expect(users).toHaveLength(3);
    for (const line of users) expect(line).toMatch(/permissions: \{ publish: \{ (allow|deny): \[.+\] \}, subscribe:/);
    expect(users[2]).toContain('allowed_connection_types: ["MQTT"]');
    const parsed = parseNatsAuthorization(text);
    expect([...parsed.keys()]).toEqual(['loaxa-server', RELOAD_PROBE_USER, 'spk-1']);
    // A cost-4 bcrypt hash in the form nats-server checks ($2a$/$2b$).
    expect(parsed.get('spk-1')).toMatch(/^\$2b\$04\$/);
    expect(bcrypt.compareSync(secret, parsed.get('spk-1')!)).toBe(true);
  });

  it('refuses ids and names that would break out of their quoted strings or subjects', () => {
    expect(() =>
      renderNatsAuthorization({ server, probe, devices: [{ user: 'spk.1', hash: 'h', zones: [] }] }),
    ).toThrow(/NATS cannot carry/);
    expect(() =>
      renderNatsAuthorization({ server, probe, devices: [{ user: 'spk-1', hash: 'h', zones: ['a"b'] }] }),
    ).toThrow(/NATS cannot carry/);
    expect(() =>
      renderNatsAuthorization({ server: { user: 'x" }, { user: "y', hash: 'h' }, probe, devices: [] }),
    ).toThrow(/server user/);
  });
});
