import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('has defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, mqttPort: 1883, demo: true, logLevel: 'info', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(c.dataDir).toMatch(/data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ PORT: '70000' }, /PORT=70000/],
    [{ MQTT_PORT: '-1' }, /MQTT_PORT/],
    [{ LOAXA_DEMO: 'maybe' }, /LOAXA_DEMO="maybe"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ LOAXA_ADMIN_PASSWORD: 'short' }, /LOAXA_ADMIN_PASSWORD/],
    [{ LOAXA_TIMEZONE: 'Mars/Olympus' }, /unknown IANA time zone/],
  ])('names the bad variable in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads LOAXA_DEMO=0 as off', () => {
    expect(loadConfig({ LOAXA_DEMO: '0' }).demo).toBe(false);
  });
});
