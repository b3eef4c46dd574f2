/**
 * `npm run bench:agent`: the footprint of the real device agent process (the
 * `loaxa-agent` bin with a null player) against the real server in-process:
 * - idle: RSS sampled every second and CPU (utime + stime) over `--idle-s` (30) seconds,
 *   after the agent is online and has settled for `--settle-s` (5) seconds;
 * - playing: a play-now notice of ≥ 20 s; RSS every second and CPU over `--play-s` (15)
 *   seconds from the "started" ack, and the peak RSS from the moment the broadcast was
 *   sent (command, download, verify, start);
 * - the agent's lifetime peak RSS (VmHWM).
 * Target (issue): RSS ≤ 80 MB idle and while playing. Writes reports/bench-agent-latest.{json,md}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, startServer } from '../server/src/index';
import { createLogger } from '../server/src/logger';
import { PROVINCE } from '../server/src/tenancy/scope';

const ROOT = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const IDLE_S = arg('idle-s', 30);
const PLAY_S = arg('play-s', 15);
const SETTLE_S = arg('settle-s', 5);
const RSS_TARGET_MB = 80;
/** Kernel clock ticks per second for /proc/<pid>/stat (CLK_TCK on Linux). */
const CLK_TCK = 100;
const PASSWORD = 'bench-password-123';
const DEVICE_ID = 'loa-bench';
/** About 30 s with the embedded espeak-ng voice: long enough to measure while it plays. */
const NOTICE =
  'Ủy ban nhân dân xã thông báo: Thực hiện kế hoạch phòng chống dịch bệnh trên đàn gia súc, gia cầm, ' +
  'từ ngày mười lăm đến ngày ba mươi tháng này, trạm thú y xã sẽ tổ chức tiêm phòng miễn phí tại nhà văn hóa các thôn. ' +
  'Đề nghị các hộ chăn nuôi chủ động đưa vật nuôi đến đúng địa điểm, đúng giờ, mang theo sổ theo dõi tiêm phòng. ' +
  'Các trưởng thôn có trách nhiệm thông báo rộng rãi đến từng hộ dân, lập danh sách và báo cáo kết quả về ủy ban ' +
  'nhân dân xã trước ngày cuối tháng. Mọi thắc mắc xin liên hệ cán bộ thú y xã trong giờ hành chính. Xin cảm ơn bà con.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => +(kb / 1024).toFixed(1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : +((s[mid - 1]! + s[mid]!) / 2).toFixed(1);
};

/** VmRSS and VmHWM of a process, in kB. */
function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat), in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

interface Window {
  rssMb: { median: number; max: number; samples: number[] };
  cpuPercent: number;
  seconds: number;
}

/** RSS once a second and CPU over `seconds`; the caller does nothing else meanwhile. */
async function measureWindow(pid: number, seconds: number): Promise<Window> {
  const t0 = performance.now();
  const ticks0 = cpuTicks(pid);
  const samples: number[] = [];
  for (let i = 1; i <= seconds; i++) {
    await sleep(Math.max(0, t0 + i * 1000 - performance.now()));
    samples.push(mb(memoryKb(pid).rss));
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const cpuPercent = +((((cpuTicks(pid) - ticks0) / CLK_TCK) * 100) / elapsedS).toFixed(2);
  return { rssMb: { median: median(samples), max: Math.max(...samples), samples }, cpuPercent, seconds };
}

function stopAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null || agent.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => agent.kill('SIGKILL'), 10_000);
    agent.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    agent.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-agent-'));
  const serverDir = path.join(tmp, 'server');
  const agentDir = path.join(tmp, 'agent');
  fs.mkdirSync(serverDir);
  fs.mkdirSync(agentDir);
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MQTT_PORT: '0',
    LOAXA_DATA: serverDir,
    LOAXA_DEMO: '0',
    // Plays at any hour of the run; quiet hours have tests of their own (rules.test.ts).
    LOAXA_QUIET_HOURS: 'off',
    LOAXA_ADMIN_PASSWORD: PASSWORD,
    LOG_LEVEL: 'silent',
  });
  const server = await startServer(config, { logger: createLogger('silent') });
  const { registry, broadcasts } = server.services;
  let agent: ChildProcess | null = null;
  let agentErr = '';
  try {
    const zone = await registry.createZone('Thôn Đo Đạc', 'default', 'thon-do-dac');
    const { secret } = await registry.createDevice({ id: DEVICE_ID, zones: [zone.id], communeId: 'default' });
    const playLog = path.join(agentDir, 'play.log');
    const configFile = path.join(agentDir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        deviceId: DEVICE_ID,
        serverUrl: server.url,
        mqttUrl: server.mqttUrl,
        secret,
        dataDir: agentDir,
        player: { type: 'null', log: playLog },
      }),
    );

    // As the systemd unit runs it (NODE_ENV=production), from the one-file bundle the bin makes.
    const spawnedAt = performance.now();
    agent = spawn(
      process.execPath,
      [path.join(ROOT, 'device-agent/bin/loaxa-agent.mjs'), '--config', configFile, '--log-level', 'warn'],
      { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agent.stderr!.on('data', (chunk: Buffer) => (agentErr += chunk.toString('utf8')));
    const pid = agent.pid!;
    const alive = () => {
      if (agent!.exitCode !== null || agent!.signalCode !== null)
        throw new Error(`the agent exited (${agent!.exitCode ?? agent!.signalCode})\n${agentErr}`);
      return true;
    };
    await until('the agent online', async () => alive() && (await registry.getDevice(DEVICE_ID))?.online, 60_000);
    const onlineMs = Math.round(performance.now() - spawnedAt);
    const runMode = agentErr.includes('running the sources through tsx') ? 'sources through tsx' : 'bundle';
    await sleep(SETTLE_S * 1000);

    // Idle: nothing else happens in this process or on the wire meanwhile.
    alive();
    const idle = await measureWindow(pid, IDLE_S);

    // Playing: a play-now notice; the peak since sending covers command, download, verify and start.
    alive();
    const lifetimeHwmBeforeKb = memoryKb(pid).hwm;
    const peakReset = resetPeak(pid);
    let sampledPeakKb = memoryKb(pid).rss;
    const peakSampler = setInterval(() => {
      try {
        sampledPeakKb = Math.max(sampledPeakKb, memoryKb(pid).rss);
      } catch {
        // the agent is gone: alive() reports it
      }
    }, 100);
    let playing: Window;
    let peakSinceSentKb: number;
    let occurrenceId: string;
    let sentToStartedMs: number;
    let durationMs: number;
    try {
      const login = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: PASSWORD }),
      });
      if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const sentAt = Date.now();
      const post = await fetch(`${server.url}/api/v1/broadcasts`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ text: NOTICE, zones: [zone.id] }),
      });
      if (post.status !== 201) throw new Error(`broadcast failed: ${post.status} ${await post.text()}`);
      occurrenceId = ((await post.json()) as { occurrenceId: string }).occurrenceId;
      const started = await until(
        'the "started" ack',
        async () => {
          alive();
          const delivery = (await broadcasts.getOccurrence(PROVINCE, occurrenceId))?.deliveries[0];
          if (delivery && !['pending', 'received', 'ready', 'started'].includes(delivery.stage))
            throw new Error(`the delivery ended as ${delivery.stage}: ${delivery.detail ?? ''}`);
          return delivery?.stage === 'started' && delivery;
        },
        60_000,
      );
      sentToStartedMs = Date.parse(started.at!) - sentAt;
      durationMs = (await broadcasts.getOccurrence(PROVINCE, occurrenceId))!.durationMs;
      if (durationMs < 20_000 || durationMs < PLAY_S * 1000 + 5_000)
        throw new Error(`the notice plays ${durationMs} ms: too short for a ${PLAY_S} s window`);
      playing = await measureWindow(pid, PLAY_S);
      const kernelPeakKb = peakReset ? memoryKb(pid).hwm : 0;
      peakSinceSentKb = Math.max(sampledPeakKb, kernelPeakKb);
    } finally {
      clearInterval(peakSampler);
    }

    // The null player logs one line per asset once it has played it.
    const line = await until(
      'the play log line',
      () => alive() && fs.existsSync(playLog) && fs.readFileSync(playLog, 'utf8').trim(),
      durationMs + 15_000,
    );
    const lines = line.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const played = lines[0]!;
    const playedMs = Number(played.endedAt) - Number(played.startedAt);
    if (lines.length !== 1 || played.occurrenceId !== occurrenceId || played.interrupted)
      throw new Error(`unexpected play log:\n${line}`);
    if (Math.abs(playedMs - durationMs) > 1_000)
      throw new Error(`played ${playedMs} ms of a ${durationMs} ms notice:\n${line}`);
    const lifetimePeakMb = mb(Math.max(lifetimeHwmBeforeKb, memoryKb(pid).hwm));
    const peakSinceSentMb = mb(peakSinceSentKb);

    const targets = [
      { name: `RSS while idle ≤ ${RSS_TARGET_MB} MB (max of the window)`, valueMb: idle.rssMb.max },
      { name: `RSS while playing ≤ ${RSS_TARGET_MB} MB (max of the window)`, valueMb: playing.rssMb.max },
      { name: `peak RSS from sending to playing ≤ ${RSS_TARGET_MB} MB`, valueMb: peakSinceSentMb },
      { name: `lifetime peak RSS (VmHWM) ≤ ${RSS_TARGET_MB} MB`, valueMb: lifetimePeakMb },
    ].map((t) => ({ ...t, met: t.valueMb <= RSS_TARGET_MB }));
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      parameters: { idleS: IDLE_S, playS: PLAY_S, settleS: SETTLE_S, player: 'null', nodeEnv: 'production', runMode },
      note: 'server in the benchmark process; the agent is a separate process on the same machine, read from /proc',
      onlineMs,
      idle,
      playing: {
        ...playing,
        occurrenceId,
        durationMs,
        sentToStartedMs,
        peakRssSinceSentMb: peakSinceSentMb,
        peakMeasuredBy: peakReset ? 'VmHWM reset at sending, and RSS every 100 ms' : 'RSS every 100 ms',
      },
      lifetimePeakRssMb: lifetimePeakMb,
      played,
      targets,
    };
    const verdict = (name: string) => (targets.find((t) => t.name === name)!.met ? 'met' : '**missed**');
    const md = [
      '# Agent footprint benchmark',
      '',
      `${report.at} · ${report.machine.cpus} × ${report.machine.model} · Node ${report.machine.node}`,
      '',
      `The real agent process (\`loaxa-agent\`, ${runMode}, NODE_ENV=production, null player) against the real server on loopback; online ${onlineMs} ms after spawning, then ${SETTLE_S} s to settle.`,
      '',
      '| measure | result | target | |',
      '|---|---|---|---|',
      `| RSS while idle (${IDLE_S} s, every second): median / max | ${idle.rssMb.median} / ${idle.rssMb.max} MB | ≤ ${RSS_TARGET_MB} MB | ${verdict(targets[0]!.name)} |`,
      `| CPU while idle (${IDLE_S} s) | ${idle.cpuPercent} % of one core | | |`,
      `| RSS while playing (${PLAY_S} s from "started", every second): median / max | ${playing.rssMb.median} / ${playing.rssMb.max} MB | ≤ ${RSS_TARGET_MB} MB | ${verdict(targets[1]!.name)} |`,
      `| CPU while playing (${PLAY_S} s) | ${playing.cpuPercent} % of one core | | |`,
      `| peak RSS from sending the broadcast (command, download, verify, start, playing) | ${peakSinceSentMb} MB | ≤ ${RSS_TARGET_MB} MB | ${verdict(targets[2]!.name)} |`,
      `| peak RSS of the agent's life (VmHWM) | ${lifetimePeakMb} MB | ≤ ${RSS_TARGET_MB} MB | ${verdict(targets[3]!.name)} |`,
      `| play-now: sent → started | ${sentToStartedMs} ms | | |`,
      `| played (null player log) | 1 line, ${(playedMs / 1000).toFixed(1)} s of a ${(durationMs / 1000).toFixed(1)} s notice, not interrupted | | |`,
      '',
    ].join('\n');
    fs.mkdirSync(path.join(ROOT, 'reports'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'reports/bench-agent-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(ROOT, 'reports/bench-agent-latest.md'), md);
    console.log(md);
  } finally {
    if (agent) await stopAgent(agent);
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
