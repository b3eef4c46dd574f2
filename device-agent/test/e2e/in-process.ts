/**
 * The real server (in this process, on free ports) with real agents beside it:
 * for journeys that need to look inside both, e.g. the agent's cache directory
 * and the server's device table at the same moment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAgent, type Agent } from '../../src/agent';
import type { Clock } from '../../src/clock/clock';
import type { AgentConfigInput } from '../../src/config';
import { NullPlayer, type PlayLogLine } from '../../src/player/null-player';
import type { TestServer } from '../../../server/test/helpers';

export interface TestNode {
  agent: Agent;
  dataDir: string;
  playLog: string;
  /** Lines of the null player's log so far. */
  plays(): PlayLogLine[];
}

/** Creates the device on the server (in `zone`, created if missing) and starts its agent. */
export async function startNode(
  server: TestServer,
  deviceId: string,
  options: { zone?: string; clock?: Clock; config?: Partial<AgentConfigInput>; ca?: boolean } = {},
): Promise<TestNode> {
  const zone = options.zone ?? 'thon-1';
  if (!(await server.services.registry.listZones()).some((z) => z.id === zone)) {
    await server.services.registry.createZone(`Zone ${zone}`, 'default', zone);
  }
  const { secret } = await server.services.registry.createDevice({ id: deviceId, zones: [zone], communeId: 'default' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `loaxa-node-${deviceId}-`));
  const playLog = path.join(dataDir, 'play.log');
  const agent = createAgent(
    {
      deviceId,
      secret,
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      dataDir,
      player: { type: 'null', log: playLog },
      // Acks at once, so the journeys do not wait up to a second for each (a test may set it).
      ackSpreadMs: 0,
      ...options.config,
    },
    {
      player: new NullPlayer(playLog, options.clock),
      ...(options.clock ? { clock: options.clock } : {}),
      link: { backoff: { baseMs: 100, maxMs: 1_000 }, planWaitMs: 500 },
    },
  );
  await agent.start();
  return {
    agent,
    dataDir,
    playLog,
    plays: () =>
      fs.existsSync(playLog)
        ? fs
            .readFileSync(playLog, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as PlayLogLine)
        : [],
  };
}
