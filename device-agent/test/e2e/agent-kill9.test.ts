/**
 * Power loss on the pole, simulated: the real agent process (bin/loaxa-agent.mjs)
 * runs against the real server and is killed with SIGKILL again and again
 * while plans arrive, audio downloads, acks are written and items play, then
 * restarted. Kills land at random instants and, on purpose, while items play:
 * the moment one begins to be heard (before its "started" can be journalled)
 * and at random points between its start and its end.
 *
 * After every kill each state file still parses; at the end every occurrence
 * has exactly one final stage in the server's acks table (never lost), no two
 * different final stages were ever published for one occurrence (never acked
 * twice with conflicting answers), and nothing began to play twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, rows, sql, startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';

const BIN = path.resolve(import.meta.dirname, '../../bin/loaxa-agent.mjs');
const DEVICE = 'loa-kill9';
/** Items starting inside the kill phase, each one aimed at by a kill while it plays. */
const KILLED_ITEMS = 4;
/** Items starting after the kill phase: the agent that is left must play them all. */
const CALM_ITEMS = 2;
const FINAL = new Set(['finished', 'failed', 'skipped', 'preempted']);
const TEXT = 'Thử mất điện.';
/** Random kills hold off this long before an item's start, so that an agent is up to play it and be killed then. */
const QUIET_BEFORE_START_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Small seeded PRNG so a failing run can be replayed (the seed is printed; LOAXA_KILL9_SEED replays one). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function jsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

let server: TestServer;
let agent: ChildProcess | undefined;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  agent?.kill('SIGKILL');
  await server?.close();
});

describe('kill -9 of the agent while it writes state and plays', () => {
  it('keeps every state file whole, plays nothing twice, and loses or contradicts no ack', async () => {
    const seed = Number(process.env.LOAXA_KILL9_SEED || Date.now() % 100_000);
    console.info(`kill -9 seed ${seed}`);
    const random = prng(seed);
    await server.services.registry.createZone('Thôn Mất Điện', 'default', 'thon-mat-dien');
    const { secret } = await server.services.registry.createDevice({
      id: DEVICE,
      zones: ['thon-mat-dien'],
      communeId: 'default',
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-kill9-'));
    const stateDir = path.join(dataDir, 'state');
    const playLog = path.join(dataDir, 'play.log');
    const startLog = path.join(dataDir, 'starts.log');
    const configFile = path.join(dataDir, 'agent.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        deviceId: DEVICE,
        secret,
        serverUrl: server.url,
        mqttUrl: server.mqttUrl,
        dataDir,
        player: { type: 'null', log: playLog, startLog },
      }),
    );
    const agentLog = fs.openSync(path.join(dataDir, 'agent.log'), 'a');
    const start = () => {
      agent = spawn(process.execPath, [BIN, '--config', configFile, '--log-level', 'warn'], {
        stdio: ['ignore', agentLog, agentLog],
      });
      return agent;
    };
    // Every stage as published (a message carries its `earlier` stages too): re-sends after a
    // restart are expected and stored once; two different final stages for one item never are.
    const published = new Map<string, string[]>();
    server.services.bus.onDeviceMessage((topic, payload, deviceId) => {
      if (deviceId !== DEVICE || !topic.endsWith('/ack')) return;
      const ack = JSON.parse(payload.toString()) as {
        occurrenceId?: string;
        stage: string;
        earlier?: { stage: string }[];
      };
      if (!ack.occurrenceId) return;
      const list = published.get(ack.occurrenceId) ?? [];
      list.push(...(ack.earlier ?? []).map((e) => e.stage), ack.stage);
      published.set(ack.occurrenceId, list);
    });

    start();
    await waitFor('agent online', async () => (await server.services.registry.getDevice(DEVICE))?.online, 30_000);

    const phaseStart = Date.now();
    const audioMs = (await server.services.renderer.render({ text: TEXT })).durationMs;
    // Between two plays, a second of random kills.
    const gap = audioMs + QUIET_BEFORE_START_MS + 1_000;
    const killedAt = (i: number) => phaseStart + 7_000 + i * gap;
    const phaseEnd = killedAt(KILLED_ITEMS - 1) + audioMs;
    const startTimes = [
      ...Array.from({ length: KILLED_ITEMS }, (_, i) => killedAt(i)),
      ...Array.from({ length: CALM_ITEMS }, (_, i) => phaseEnd + 3_000 + i * gap),
    ];
    const occurrenceIds: string[] = [];
    // Broadcasts keep arriving during the kill phase: each one is a new plan, downloads and acks.
    const creating = (async () => {
      for (const at of startTimes) {
        const res = await server.api<{ occurrenceId: string }>('POST', '/api/v1/broadcasts', {
          text: TEXT,
          zones: ['thon-mat-dien'],
          at: new Date(at).toISOString(),
        });
        expect(res.status).toBe(201);
        occurrenceIds.push(res.body.occurrenceId);
        await sleep(800);
      }
    })();

    /** `aimed`: how long after an item began the kill was meant to land; null for a kill at a random instant. */
    type Kill = { at: number; aimed: number | null; playing: string | null };
    const kills: Kill[] = [];
    let tornTemps = 0;
    let tempsLeft = 0;
    let tornJournalLines = 0;
    let startsSeen = 0;
    let startLogSize = 0;
    /** Random kills (while plans arrive, audio downloads, acks are written), never just before a start. */
    const nextRandomKill = () => {
      let at = Date.now() + 300 + random() * 1_200;
      for (const start of startTimes)
        if (at > start - QUIET_BEFORE_START_MS && at < start + audioMs) at = start + audioMs;
      return at;
    };
    let killAt = nextRandomKill();
    let aimed: number | null = null;
    let runStartedAt = Date.now();
    /** The item this run of the agent is playing now: begun (start log), not ended (play log). */
    const playingNow = (now: number): string | null => {
      const ended = new Set(jsonLines<{ occurrenceId: string }>(playLog).map((l) => l.occurrenceId));
      const last = jsonLines<{ occurrenceId: string; startedAt: number }>(startLog).at(-1);
      if (!last || last.startedAt < runStartedAt || now >= last.startedAt + audioMs) return null;
      return ended.has(last.occurrenceId) ? null : last.occurrenceId;
    };
    while (Date.now() < phaseEnd) {
      await sleep(2);
      const size = fs.existsSync(startLog) ? fs.statSync(startLog).size : 0;
      if (size !== startLogSize) {
        startLogSize = size;
        const starts = jsonLines(startLog).length;
        if (starts > startsSeen) {
          startsSeen = starts;
          // Aimed at the play, in place of the next random kill: every other one as the audio begins
          // (where a restart used to find no trace of the start), the others at a random point
          // between its start and its end.
          aimed = startsSeen % 2 === 1 ? 0 : Math.round(random() * audioMs * 0.9);
          killAt = Date.now() + aimed;
        }
      }
      const now = Date.now();
      if (now < killAt) continue;
      const victim = agent!;
      const kill: Kill = { at: now, aimed, playing: playingNow(now) };
      victim.kill('SIGKILL');
      await new Promise((r) => victim.once('exit', r));
      kills.push(kill);
      aimed = null;
      killAt = nextRandomKill();
      for (const name of fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : []) {
        const text = fs.readFileSync(path.join(stateDir, name), 'utf8');
        if (name.endsWith('.json')) {
          expect(() => JSON.parse(text), `${name} after kill ${kills.length}`).not.toThrow();
        } else if (name.endsWith('.jsonl')) {
          // Appended and fsynced record by record: only the last line can have been cut.
          const lines = text.split('\n').filter(Boolean);
          lines.forEach((line, i) => {
            try {
              JSON.parse(line);
            } catch (err) {
              if (i < lines.length - 1) throw new Error(`${name} line ${i + 1} after kill ${kills.length}: ${err}`);
              tornJournalLines++;
            }
          });
        } else if (name.endsWith('.tmp')) {
          tempsLeft++; // killed between open and rename
          try {
            if (name.endsWith('.json.tmp')) JSON.parse(text);
            else
              text
                .split('\n')
                .filter(Boolean)
                .forEach((l) => JSON.parse(l));
          } catch {
            tornTemps++; // a write cut mid-way: the rename never happened, the file before it stands
          }
        }
      }
      runStartedAt = Date.now();
      start();
    }
    await creating;

    // The last run lives: every occurrence reaches a final stage.
    const stagesOf = async () => {
      const acked = await rows<{ ref_id: string; stage: string }>(
        server,
        // Two stages can share a millisecond of the device clock (e.g. an already cached file is
        // received and ready at once): ties go in protocol order (then by name, the same on both engines).
        sql`SELECT ref_id, stage FROM acks WHERE device_id = ${DEVICE} ORDER BY at,
              CASE stage WHEN 'received' THEN 0 WHEN 'ready' THEN 1 WHEN 'started' THEN 2 ELSE 3 END, stage`,
      );
      const byOccurrence = new Map<string, string[]>(occurrenceIds.map((id) => [id, []]));
      for (const r of acked) byOccurrence.get(r.ref_id)?.push(r.stage);
      return byOccurrence;
    };
    const final = await waitFor(
      'every occurrence settled',
      async () => {
        const all = await stagesOf();
        return [...all.values()].every((stages) => stages.some((s) => FINAL.has(s))) ? all : null;
      },
      startTimes.at(-1)! + audioMs + 30_000 - Date.now(),
      200,
    );
    // A fence instead of a pause: the agent publishes acks in the order it raised them, so once
    // the ack of a volume command sent now is stored, any late re-send of an older ack is too.
    const fence = await server.api<{ commandId: string }>('POST', `/api/v1/devices/${DEVICE}/volume`, { level: 90 });
    expect(fence.status).toBe(200);
    await waitFor('the fence command acked', () =>
      row(
        server,
        sql`SELECT 1 AS one FROM acks
            WHERE device_id = ${DEVICE} AND ref_id = ${fence.body.commandId} AND stage = 'finished'`,
      ),
    );

    const plays = jsonLines<{ occurrenceId: string; interrupted?: true }>(playLog);
    const starts = jsonLines<{ occurrenceId: string }>(startLog);
    const outcome: Record<string, number> = {};
    for (const [id, stages] of await stagesOf()) {
      expect(stages, `${id}: the same rows as when it settled`).toEqual(final.get(id));
      expect(new Set(stages).size, `${id}: each stage once`).toBe(stages.length);
      expect(stages[0], `${id}: received first (or skipped outright) in ${stages.join(',')}`).toMatch(
        /^(received|skipped)$/,
      );
      const finals = stages.filter((s) => FINAL.has(s));
      expect(finals, `${id}: exactly one final stage in ${stages.join(',')}`).toHaveLength(1);
      const answer = finals[0]!;
      outcome[answer] = (outcome[answer] ?? 0) + 1;
      const sentFinals = new Set((published.get(id) ?? []).filter((s) => FINAL.has(s)));
      expect([...sentFinals], `${id}: one answer in every message ever published`).toEqual([answer]);
      const begun = starts.filter((s) => s.occurrenceId === id).length;
      expect(begun, `${id}: began to play at most once (seed ${seed})`).toBeLessThanOrEqual(1);
      const played = plays.filter((p) => p.occurrenceId === id && !p.interrupted);
      if (answer === 'finished') {
        expect(stages).toEqual(['received', 'ready', 'started', 'finished']);
        expect(played, `${id}: played once, in full`).toHaveLength(1);
      } else {
        expect(played, `${id}: never played in full`).toHaveLength(0);
      }
      // An item that was heard is never reported as not heard.
      if (begun > 0) expect(answer, `${id}: heard, so not "skipped"`).not.toBe('skipped');
    }
    // Items starting after the kill phase all played.
    expect(outcome.finished ?? 0).toBeGreaterThanOrEqual(CALM_ITEMS);
    // The kills did land while items were being heard.
    const duringPlay = kills.filter((k) => k.playing !== null);
    expect(duringPlay.length, JSON.stringify(kills)).toBeGreaterThanOrEqual(KILLED_ITEMS / 2);
    expect(fs.readdirSync(stateDir).filter((n) => n.includes('.corrupt-'))).toEqual([]);
    const resent = [...published.values()].reduce((n, stages) => n + stages.length - new Set(stages).size, 0);
    console.info(
      `kill -9 ×${kills.length} (seed ${seed}, items of ${audioMs} ms): ${kills.filter((k) => k.aimed !== null).length} aimed at a play ` +
        `(${kills.filter((k) => k.aimed === 0).length} as it began), ` +
        `${duringPlay.length} while an item was heard; temp files left by a kill ${tempsLeft} (${tornTemps} torn), ` +
        `torn journal lines ${tornJournalLines}; outcomes ${JSON.stringify(outcome)}; ` +
        `stages re-sent after a restart ${resent} (stored once each)`,
    );
  }, 180_000);
});
