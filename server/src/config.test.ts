import { describe, expect, it } from 'vitest';
import { ConfigError, deviceMqttUrls, loadConfig, mqttUrls } from './config';

describe('loadConfig', () => {
  it('has defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, mqttPort: 1883, demo: true, logLevel: 'info', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(c.chime).toBe('on');
    expect(loadConfig({ LOAXA_CHIME: 'off' }).chime).toBe('off');
    expect(c.dataDir).toMatch(/data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ PORT: '70000' }, /PORT=70000/],
    [{ MQTT_PORT: '-1' }, /MQTT_PORT/],
    [{ LOAXA_DEMO: 'maybe' }, /LOAXA_DEMO="maybe"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ LOAXA_CHIME: 'quiet' }, /LOAXA_CHIME="quiet": .*\(on or off\)/],
    [{ LOAXA_ADMIN_PASSWORD: 'short' }, /LOAXA_ADMIN_PASSWORD/],
    [{ LOAXA_TIMEZONE: 'Mars/Olympus' }, /unknown IANA time zone/],
    [{ MQTT_URL: 'http://broker' }, /MQTT_URL="http:\/\/broker"/],
    [{ MQTT_USERNAME: 'loaxa' }, /MQTT_USERNAME: only used with an external broker/],
    [{ MQTT_URL: 'mqtt://b', MQTT_USERNAME: 'loaxa' }, /MQTT_PASSWORD: is required/],
    [{ MQTT_URL: 'mqtt://b', MOSQUITTO_PASSWORD_FILE: '/tmp/pw' }, /MOSQUITTO_ACL_FILE: is required/],
    [
      { MQTT_URL: 'mqtt://b', MOSQUITTO_PASSWORD_FILE: '/tmp/pw', MOSQUITTO_ACL_FILE: '/tmp/acl' },
      /MQTT_USERNAME: the server needs its own broker identity/,
    ],
    [
      {
        MQTT_URL: 'mqtt://b',
        MQTT_USERNAME: 'u',
        MQTT_PASSWORD: 'p',
        MOSQUITTO_PASSWORD_FILE: '/no/such/dir/pw',
        MOSQUITTO_ACL_FILE: '/tmp/acl',
      },
      /MOSQUITTO_PASSWORD_FILE="\/no\/such\/dir\/pw": its folder does not exist/,
    ],
    [{ MQTT_URL: 'mqtt://a:1883,mqtt://b:1883' }, /several broker URLs .*set NATS_URLS too/],
    [{ MQTT_URL: 'mqtt://a:1883,http://b' }, /MQTT_URL: "http:\/\/b" is not an mqtt/],
    [{ NATS_URLS: 'nats://a:4222' }, /NATS_URLS: set MQTT_URL/],
    [{ MQTT_URL: 'mqtt://a', NATS_URLS: 'http://a' }, /NATS_URLS=\["http:\/\/a"\]/],
    [{ NATS_AUTH_FILE: '/tmp/auth.conf' }, /NATS_AUTH_FILE: only used with a NATS cluster/],
    [
      { MQTT_URL: 'mqtt://a', NATS_URLS: 'nats://a:4222', NATS_AUTH_FILE: '/tmp/auth.conf' },
      /MQTT_USERNAME: the server needs its own broker identity to write it into NATS_AUTH_FILE/,
    ],
    [
      { MQTT_URL: 'mqtt://a', NATS_URLS: 'nats://a:4222', NATS_PID_FILES: '/run/n1.pid' },
      /NATS_PID_FILES: only used with NATS_AUTH_FILE/,
    ],
    [{ MQTT_DEVICE_URL: 'mqtt://a:1883' }, /MQTT_DEVICE_URL: only used with an external broker/],
    [
      { MQTT_URL: 'mqtt://b', MQTT_DEVICE_URL: 'mqtt://a:1883,http://c' },
      /MQTT_DEVICE_URL: "http:\/\/c" is not an mqtt/,
    ],
    [{ MQTT_URL: 'mqtt://b', MQTT_DEVICE_URL: 'mqtt://a:1883, nope' }, /MQTT_DEVICE_URL: "nope" is not an mqtt/],
    [{ MQTT_URL: 'mqtt://b', MQTT_DEVICE_URL: 'tcp://a:1883' }, /MQTT_DEVICE_URL: "tcp:\/\/a:1883" is not an mqtt/],
    [{ LOAXA_METRICS_ACCESS: 'everyone' }, /LOAXA_METRICS_ACCESS="everyone": .*one of token, loopback, open/],
    [{ LOAXA_METRICS_ACCESS: 'token' }, /LOAXA_METRICS_TOKEN: is required when LOAXA_METRICS_ACCESS=token/],
    [{ LOAXA_METRICS_TOKEN: 'short' }, /LOAXA_METRICS_TOKEN \(value not shown\): .*at least 16 characters/],
    [{ LOAXA_METRICS_TOKEN: 'has spaces in it, not a token' }, /LOAXA_METRICS_TOKEN \(value not shown\)/],
    [
      { LOAXA_METRICS_TOKEN: 'abcdefghijklmnop', LOAXA_METRICS_ACCESS: 'open' },
      /LOAXA_METRICS_TOKEN: only used with LOAXA_METRICS_ACCESS=token \(it is "open"\)/,
    ],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads an external broker with its Mosquitto files', () => {
    const c = loadConfig({
      MQTT_URL: 'mqtts://broker.example:8883',
      MQTT_USERNAME: 'loaxa-server',
      MQTT_PASSWORD: 'pw',
      MOSQUITTO_PASSWORD_FILE: '/tmp/passwd',
      MOSQUITTO_ACL_FILE: '/tmp/acl',
    });
    expect(c).toMatchObject({ mqttUrl: 'mqtts://broker.example:8883', mqttClientId: 'loaxa-server' });
  });

  it('reads a NATS cluster: every node in MQTT_URL and NATS_URLS, the auth file and pid files', () => {
    const c = loadConfig({
      MQTT_URL: 'mqtt://n1:1883, mqtt://n2:1883,mqtt://n3:1883',
      NATS_URLS: 'nats://n1:4222,nats://n2:4222,nats://n3:4222',
      MQTT_USERNAME: 'loaxa-server',
      MQTT_PASSWORD: 'pw',
      NATS_AUTH_FILE: '/tmp/loaxa-auth.conf',
      NATS_PID_FILES: '/run/nats/n1.pid,/run/nats/n2.pid,/run/nats/n3.pid',
    });
    expect(mqttUrls(c)).toEqual(['mqtt://n1:1883', 'mqtt://n2:1883', 'mqtt://n3:1883']);
    expect(c.natsUrls).toEqual(['nats://n1:4222', 'nats://n2:4222', 'nats://n3:4222']);
    expect(c.natsPidFiles).toHaveLength(3);
    expect(c.natsAuthFile).toBe('/tmp/loaxa-auth.conf');
  });

  it('gives devices MQTT_DEVICE_URL’s nodes (comma-separated), else MQTT_URL’s, each once', () => {
    const nats = { MQTT_URL: 'mqtt://10.0.0.1:1883,mqtt://10.0.0.2:1883', NATS_URLS: 'nats://10.0.0.1:4222' };
    expect(deviceMqttUrls(loadConfig(nats))).toEqual(['mqtt://10.0.0.1:1883', 'mqtt://10.0.0.2:1883']);
    const named = loadConfig({
      ...nats,
      MQTT_DEVICE_URL: 'mqtts://n1.example:8883, mqtts://n2.example:8883,mqtts://n1.example:8883,wss://n3.example/mqtt',
    });
    expect(deviceMqttUrls(named)).toEqual([
      'mqtts://n1.example:8883',
      'mqtts://n2.example:8883',
      'wss://n3.example/mqtt',
    ]);
    expect(
      deviceMqttUrls(loadConfig({ MQTT_URL: 'mqtt://b:1883', MQTT_DEVICE_URL: 'mqtt://radio.example:1883' })),
    ).toEqual(['mqtt://radio.example:1883']);
    expect(deviceMqttUrls(loadConfig({ MQTT_URL: 'mqtt://b:1883' }))).toEqual(['mqtt://b:1883']);
    expect(deviceMqttUrls(loadConfig({}))).toEqual([]);
  });

  it('keeps secrets out of its error messages', () => {
    for (const env of [{ LOAXA_METRICS_TOKEN: 'sekrit' }, { LOAXA_ADMIN_PASSWORD: 'sekrit' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).not.toThrow(/sekrit/);
    }
  });

  it('serves /metrics to this machine only by default, to the token holder once a token is set', () => {
    expect(loadConfig({}).metricsAccess).toBe('loopback');
    expect(loadConfig({ LOAXA_METRICS_ACCESS: 'open' }).metricsAccess).toBe('open');
    expect(loadConfig({ LOAXA_METRICS_TOKEN: 'abcdefghijklmnop' })).toMatchObject({
      metricsAccess: 'token',
      metricsToken: 'abcdefghijklmnop',
    });
  });

  it('reads LOAXA_DEMO=0 as off', () => {
    expect(loadConfig({ LOAXA_DEMO: '0' }).demo).toBe(false);
  });
});
