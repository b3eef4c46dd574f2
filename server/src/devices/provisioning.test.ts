import { describe, expect, it } from 'vitest';
import { agentConfigFor, brokerOrderFor } from './provisioning';

const NODES = ['mqtt://10.0.0.1:1883', 'mqtt://10.0.0.2:1883', 'mqtt://10.0.0.3:1883'];
const base = { secret: 's3cret', serverUrl: 'http://10.0.0.9:8080', mqttPort: 1883 };
const ids = Array.from({ length: 300 }, (_, i) => `loa-thon${i % 7}-${String(i).padStart(3, '0')}`);
const nodesOf = (deviceId: string, mqttUrls = NODES) => {
  const config = agentConfigFor({ ...base, deviceId, mqttUrls });
  return [config.mqttUrl, ...(config.mqttUrls ?? [])];
};
const count = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
};

describe('agentConfigFor: the broker nodes', () => {
  it('with one broker URL (or the embedded broker) writes mqttUrl alone, as before', () => {
    const one = agentConfigFor({ ...base, deviceId: 'loa-01', mqttUrls: ['mqtts://radio.example:8883'] });
    expect(one.mqttUrl).toBe('mqtts://radio.example:8883');
    expect('mqttUrls' in one).toBe(false);
    const embedded = agentConfigFor({ ...base, deviceId: 'loa-01' });
    expect(embedded.mqttUrl).toBe('mqtt://10.0.0.9:1883');
    expect('mqttUrls' in embedded).toBe(false);
    expect(agentConfigFor({ ...base, deviceId: 'loa-01', mqttUrls: [] }).mqttUrl).toBe('mqtt://10.0.0.9:1883');
    expect('mqttUrls' in agentConfigFor({ ...base, deviceId: 'loa-01', mqttUrls: [NODES[0]!, NODES[0]!] })).toBe(false);
  });

  it('gives every device all the nodes: mqttUrl first, the others in mqttUrls', () => {
    for (const id of ids.slice(0, 30)) {
      const config = agentConfigFor({ ...base, deviceId: id, mqttUrls: NODES });
      expect(config.mqttUrls).toHaveLength(2);
      expect([config.mqttUrl, ...config.mqttUrls!].sort()).toEqual([...NODES].sort());
      expect(nodesOf(id)).toEqual(nodesOf(id)); // the same device always gets the same order
    }
  });

  it('starts devices on different nodes, about a third on each', () => {
    const firsts = ids.map((id) => nodesOf(id)[0]!);
    const [a, b] = [ids[0]!, ids.find((id) => nodesOf(id)[0] !== firsts[0])!];
    expect(nodesOf(a)[0]).not.toBe(nodesOf(b)[0]);
    const counts = count(firsts);
    expect([...counts.keys()].sort()).toEqual([...NODES].sort());
    for (const node of NODES) expect(counts.get(node)).toBeGreaterThan(ids.length / 3 - 30);
  });

  it('sends the devices of a node that dies to different survivors', () => {
    for (const dead of NODES) {
      const onDead = ids.filter((id) => nodesOf(id)[0] === dead);
      const next = count(onDead.map((id) => nodesOf(id)[1]!));
      const survivors = NODES.filter((n) => n !== dead);
      expect([...next.keys()].sort()).toEqual(survivors.sort());
      for (const node of survivors) expect(next.get(node)).toBeGreaterThan(onDead.length / 2 - 20);
    }
  });

  it('keeps a device’s first node when the list is given in another order', () => {
    for (const id of ids.slice(0, 30))
      expect(brokerOrderFor(id, [...NODES].reverse())).toEqual(brokerOrderFor(id, NODES));
  });
});
