/**
 * The real agent process against the real server process: provisioned by the
 * CLI, given a plan, then the server is killed (-9) before the start time.
 * The agent plays from its own clock and cache anyway, and when the server
 * returns every ack arrives exactly once. Also prints the agent's RSS/CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stageRank, type AckStage } from '@loaxa/protocol';
import { sql, waitFor } from '../../../server/test/helpers';
import { readDb, serverProcess } from '../../../server/test/processes';
import { AckJournal } from '../../src/ack/ack-journal';
import { systemClock } from '../../src/clock/clock';
import { AppendLog } from '../../src/state/append-log';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PASSWORD = 'outage-test-password';
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}
function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('agent with the server down at start time', () => {
  it('plays on time from its cache and delivers every ack exactly once after the server returns', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-outage-'));
    const proc = await serverProcess(dataDir, { password: PASSWORD });
    const url = proc.url;
    const startServer = () => {
      const child = proc.start();
      children.push(child);
      return child;
    };
    let server = startServer();
    await waitFor('server health', async () => (await fetch(`${url}/api/v1/health`)).ok, 30_000);
    const api = await proc.adminApi();
    expect((await api('POST', '/api/v1/zones', { name: 'Thôn Mất Điện' })).status).toBe(201);
    const provisioned = await proc.addDevice('pole-out', 'thon-mat-dien');
    const agentDir = path.join(dataDir, 'agent');
    fs.mkdirSync(agentDir);
    const playLog = path.join(agentDir, 'play.log');
    const configFile = path.join(agentDir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ ...provisioned, dataDir: agentDir, player: { type: 'null', log: playLog } }),
    );
    const agent = spawn(
      process.execPath,
      [path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs'), '--config', configFile, '--log-level', 'warn'],
      {
        stdio: 'ignore',
      },
    );
    children.push(agent);
    await waitFor(
      'agent online',
      async () => ((await api('GET', '/api/v1/devices')).body as unknown as { online: boolean }[])[0]?.online,
      30_000,
    );
    await sleep(1000); // settle before the idle baseline of RSS and CPU
    const idle = { rssMb: rssMb(agent.pid!), ticks: cpuTicks(agent.pid!), at: Date.now() };

    const at = Date.now() + 5000;
    const post = await api('POST', '/api/v1/broadcasts', {
      text: 'Thông báo khi mất mạng.',
      zones: 'all',
      at: new Date(at).toISOString(),
    });
    expect(post.status).toBe(201);
    const occurrenceId = post.body.occurrenceId as string;
    await waitFor(
      'ready',
      async () =>
        ((await api('GET', `/api/v1/occurrences/${occurrenceId}`)).body.deliveries as { stage: string }[])[0]?.stage ===
        'ready',
      10_000,
    );
    const planCpuPercent = ((cpuTicks(agent.pid!) - idle.ticks) / 100 / ((Date.now() - idle.at) / 1000)) * 100;

    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    expect(Date.now()).toBeLessThan(at);

    const line = await waitFor(
      'a play while the server is down',
      () => fs.existsSync(playLog) && fs.readFileSync(playLog, 'utf8').trim(),
      15_000,
    );
    const playingRss = rssMb(agent.pid!);
    const played = JSON.parse(line.split('\n')[0]!) as { occurrenceId: string; startedAt: number };
    expect(played.occurrenceId).toBe(occurrenceId);
    // By the device clock: never early, and on time within a margin for a loaded machine.
    expect(played.startedAt).toBeGreaterThanOrEqual(at);
    expect(played.startedAt - at).toBeLessThan(250);
    // Finished while still offline: the ack waits in the agent's journal.
    const journal = new AppendLog(path.join(agentDir, 'state', 'acks.jsonl'));
    await waitFor('"finished" journalled while the server is down', async () =>
      (await AckJournal.peek(journal, systemClock)).pending.some(
        (e) => e.ack.occurrenceId === occurrenceId && e.ack.stage === 'finished',
      ),
    );

    server = startServer();
    await waitFor('server back', async () => (await fetch(`${url}/api/v1/health`)).ok, 30_000);
    await waitFor(
      'finished after the server returns',
      async () =>
        ((await api('GET', `/api/v1/occurrences/${occurrenceId}`)).body.deliveries as { stage: string }[])[0]?.stage ===
        'finished',
      60_000,
    );
    // A fence instead of a pause: acks go out in the order raised, so once the ack of a command
    // sent now is stored, any late re-send of the occurrence's acks has arrived too.
    const fence = await api<{ commandId: string }>('POST', '/api/v1/devices/pole-out/volume', { level: 90 });
    expect(fence.status).toBe(200);
    await waitFor(
      'the fence command acked',
      async () =>
        (
          await readDb(
            dataDir,
            sql`SELECT 1 AS one FROM acks WHERE ref_id = ${fence.body.commandId} AND stage = 'finished'`,
          )
        ).length > 0,
    );
    // In the device's time; stages stamped in the same millisecond in the order they come in.
    const stages = (
      await readDb(
        dataDir,
        sql<{ stage: AckStage; at: number }>`SELECT stage, at FROM acks WHERE ref_id = ${occurrenceId}`,
      )
    ).sort((a, b) => Number(a.at) - Number(b.at) || stageRank(a.stage) - stageRank(b.stage));
    expect(stages.map((s) => s.stage)).toEqual(['received', 'ready', 'started', 'finished']);
    expect(fs.readFileSync(playLog, 'utf8').trim().split('\n')).toHaveLength(1);
    console.info(
      `agent RSS idle ${idle.rssMb} MB, while playing ${playingRss} MB; CPU while taking in the plan and its audio ${planCpuPercent.toFixed(1)} % of one core (idle: npm run bench:agent); start offset ${played.startedAt - at} ms`,
    );
  }, 120_000);
});
