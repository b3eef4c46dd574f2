import { describe, expect, it } from 'vitest';
import { topics } from '@loaxa/protocol';
import { deviceMayPublish, deviceMaySubscribe } from './access';

const zonesOfA = () => ['thon-1'];

describe('device access rules', () => {
  it.each([
    [topics.deviceStatus('a'), true],
    [topics.deviceTelemetry('a'), true],
    [topics.deviceAck('a'), true],
    [topics.devicePlan('a'), false],
    [topics.deviceCmd('a'), false],
    [topics.deviceAck('b'), false],
    [topics.zoneCmd('thon-1'), false],
    [topics.devicePing('a'), true],
    [topics.devicePing('b'), false],
    [topics.devicePong('a'), false],
    [topics.zoneLive('thon-1'), false],
    [topics.deviceLive('a'), false],
    ['loaxa/v1/dev/a/ack/extra', false],
    ['$SYS/broker', false],
    ['other/topic', false],
  ])('device a may publish to %s: %s', (topic, allowed) => {
    expect(deviceMayPublish('a', topic)).toBe(allowed);
  });

  it.each([
    [topics.devicePlan('a'), true],
    [topics.deviceCmd('a'), true],
    [topics.zoneCmd('thon-1'), true],
    [topics.zoneCmd('thon-2'), false],
    [topics.zoneLive('thon-1'), true],
    [topics.zoneLive('thon-2'), false],
    [topics.devicePong('a'), true],
    [topics.devicePong('b'), false],
    [topics.deviceLive('a'), true],
    [topics.deviceLive('b'), false],
    [topics.devicePlan('b'), false],
    [topics.deviceAck('a'), false],
    ['loaxa/v1/dev/+/plan', false],
    ['loaxa/v1/zone/+/cmd', false],
    ['#', false],
    ['loaxa/v1/dev/a/#', false],
  ])('device a may subscribe to %s: %s', (filter, allowed) => {
    expect(deviceMaySubscribe('a', filter, zonesOfA)).toBe(allowed);
  });
});
