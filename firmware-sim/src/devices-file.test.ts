import { describe, expect, it } from 'vitest';
import { parseDevicesFile } from './devices-file';

describe('parseDevicesFile', () => {
  it('reads an array of devices', () => {
    expect(parseDevicesFile('[{"deviceId":"a","secret":"s"},{"deviceId":"b","secret":"t","clockSkewMs":-20}]')).toEqual(
      [
        { deviceId: 'a', secret: 's' },
        { deviceId: 'b', secret: 't', clockSkewMs: -20 },
      ],
    );
  });

  it("reads each device's own brokers, in its order", () => {
    expect(
      parseDevicesFile(
        '[{"deviceId":"a","secret":"s","brokers":["mqtt://127.0.0.1:1884","mqtt://127.0.0.1:1883"]},{"deviceId":"b","secret":"t"}]',
      ),
    ).toEqual([
      { deviceId: 'a', secret: 's', brokers: ['mqtt://127.0.0.1:1884', 'mqtt://127.0.0.1:1883'] },
      { deviceId: 'b', secret: 't' },
    ]);
  });

  it.each([
    ['{', /not valid JSON/],
    ['{}', /must be a JSON array/],
    ['[1]', /\[0\]: must be an object/],
    ['[{"deviceId":"a/b","secret":"s"}]', /\[0\]\.deviceId: /],
    ['[{"deviceId":"a","secret":""}]', /\[0\]\.secret: /],
    ['[{"deviceId":"a","secret":"s","clockSkewMs":1.5}]', /\[0\]\.clockSkewMs: /],
    ['[{"deviceId":"a","secret":"s","zone":"x"}]', /\[0\]\.zone: is not a known field/],
    ['[{"deviceId":"a","secret":"s","brokers":"mqtt://h:1883"}]', /\[0\]\.brokers: /],
    ['[{"deviceId":"a","secret":"s","brokers":[]}]', /\[0\]\.brokers: /],
    ['[{"deviceId":"a","secret":"s","brokers":["mqtt://h:1883",7]}]', /\[0\]\.brokers: /],
    ['[{"deviceId":"a","secret":"s","brokers":["http://h:1883"]}]', /\[0\]\.brokers: /],
    ['[{"deviceId":"a","secret":"s","brokers":["not a url"]}]', /\[0\]\.brokers: /],
    ['[{"deviceId":"a","secret":"s"},{"deviceId":"a","secret":"t"}]', /\[1\]\.deviceId: a appears twice/],
  ])('rejects %s', (text, error) => {
    expect(() => parseDevicesFile(text, 'devices.json')).toThrow(error);
  });
});
