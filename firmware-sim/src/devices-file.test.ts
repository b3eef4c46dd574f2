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

  it.each([
    ['{', /not valid JSON/],
    ['{}', /must be a JSON array/],
    ['[1]', /\[0\]: must be an object/],
    ['[{"deviceId":"a/b","secret":"s"}]', /\[0\]\.deviceId: /],
    ['[{"deviceId":"a","secret":""}]', /\[0\]\.secret: /],
    ['[{"deviceId":"a","secret":"s","clockSkewMs":1.5}]', /\[0\]\.clockSkewMs: /],
    ['[{"deviceId":"a","secret":"s","zone":"x"}]', /\[0\]\.zone: is not a known field/],
    ['[{"deviceId":"a","secret":"s"},{"deviceId":"a","secret":"t"}]', /\[1\]\.deviceId: a appears twice/],
  ])('rejects %s', (text, error) => {
    expect(() => parseDevicesFile(text, 'devices.json')).toThrow(error);
  });
});
