/**
 * One listener process of the live bench (scripts/bench-live.ts forks several):
 * its own 4G link emulator in front of the broker, and behind it
 * - measured loudspeakers: the firmware simulator's devices (the real agent
 *   core, virtual sound cards), whose cards the ears tap;
 * - plain listeners: MQTT connections with a device's credentials that
 *   subscribe to the zone's live topic and ping the server's clock as an agent
 *   does during a session, and only count the frames they get. They give the
 *   server and the broker the fan-out and ping load of a full loudspeaker at a
 *   fraction of the simulator's CPU: on a 2-core machine 500 full simulated
 *   loudspeakers (each decoding Opus 50 times a second on a 10 ms timer) need
 *   ~2.5 cores, and a starved event loop would measure the simulator, not the
 *   system. A real loudspeaker has its own CPU, so the measured ones stand for it.
 * Driven over IPC (messages below); all times sent back are wall ms
 * (performance.timeOrigin + performance.now(), the same clock in every process).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { decodeLiveFrame, topics, type AckPayload } from '@loaxa/protocol';
import { startSimFleet } from '@loaxa/firmware-sim';
import { LinkEmulator, type LinkProfile } from '../../firmware-sim/src/link-emulator';
import { listen, type HeardCard } from './ears';

export interface ListenerDevice {
  deviceId: string;
  secret: string;
  clockSkewMs: number;
  measured: boolean;
}

export type ToListeners =
  | { type: 'start'; serverUrl: string; mqttUrl: string; zone: string; devices: ListenerDevice[]; profile: LinkProfile }
  | { type: 'phase'; name: string; profile: LinkProfile }
  | { type: 'blackout'; at: number; ms: number }
  | { type: 'collect'; phase: string }
  | { type: 'stop' };

/** Per phase, what the plain listeners got: distinct frames, and the highest frame number seen. */
export interface PlainCounts {
  listeners: number;
  frames: number;
  maxSeqPlusOne: number;
}

export type FromListeners =
  | { type: 'ready'; measured: number; plain: number }
  | { type: 'started'; occurrenceId: string; deviceId: string }
  | { type: 'stats'; line: Record<string, unknown> & { sessionId: string } }
  | { type: 'warning'; msg: string }
  | { type: 'phase-set' }
  | { type: 'blackout'; from: number; until: number }
  | {
      type: 'collected';
      cards: HeardCard[];
      loopLagMs: { p50: number; p99: number };
      plain: PlainCounts;
      linkStats: LinkEmulator['stats'];
    }
  | { type: 'error'; message: string };

/** A plain listener pings this often (an agent does every 500 ms while a session plays). */
const PLAIN_PING_MS = 500;
const wall = () => performance.timeOrigin + performance.now();
const round1 = (n: number) => Math.round(n * 10) / 10;
const send = (m: FromListeners) => process.send!(m);

async function main(): Promise<void> {
  let link: LinkEmulator | undefined;
  let stopFleet: (() => Promise<void>) | undefined;
  const plainClients: mqtt.MqttClient[] = [];
  let ears: ReturnType<typeof listen> | undefined;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let phase = 'none';
  /**
   * Per phase: distinct frames the plain listeners got (a bit per device and seq: a Set of
   * strings for 450 × 1,000 frames kept the collector busy enough to lag the event loop), and
   * the highest seq.
   */
  const plain = new Map<string, { seen: Map<string, Uint8Array>; frames: number; maxSeq: number }>();

  const onMessage = async (m: ToListeners) => {
    switch (m.type) {
      case 'start': {
        link = await LinkEmulator.start(m.mqttUrl, { profile: m.profile });
        const logger = pino(
          { level: 'info' },
          {
            write(line: string) {
              if (line.includes('"live session played"')) send({ type: 'stats', line: JSON.parse(line) });
              else if (/"level":(40|50|60)/.test(line))
                send({ type: 'warning', msg: /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120) });
            },
          },
        );
        const measured = m.devices.filter((d) => d.measured);
        const fleet = await startSimFleet({
          serverUrl: m.serverUrl,
          mqttUrl: link.url,
          devices: measured,
          liveAudioKeepMs: 1_000,
          batchSize: 50,
          logger,
        });
        stopFleet = () => fleet.stop();
        ears = listen(fleet);
        fleet.events.on('ack', (deviceId: string, ack: AckPayload) => {
          const stages = [ack.stage, ...(ack.earlier ?? []).map((e) => e.stage)];
          if (ack.occurrenceId && stages.includes('started'))
            send({ type: 'started', occurrenceId: ack.occurrenceId, deviceId });
        });
        const liveTopic = topics.zoneLive(m.zone);
        for (const d of m.devices.filter((x) => !x.measured)) {
          const client = mqtt.connect(link.url, {
            clientId: d.deviceId,
            username: d.deviceId,
            password: d.secret,
            clean: true,
            reconnectPeriod: 1_000,
            keepalive: 60,
          });
          client.on('connect', () => {
            client.subscribe([liveTopic], { qos: 0 });
          });
          client.on('message', (topic, payload) => {
            if (topic !== liveTopic) return;
            const frame = decodeLiveFrame(payload);
            if (!frame || frame.end) return;
            const counts = plain.get(phase) ?? { seen: new Map<string, Uint8Array>(), frames: 0, maxSeq: -1 };
            plain.set(phase, counts);
            let bits = counts.seen.get(d.deviceId) ?? new Uint8Array(1_024);
            if (frame.seq >> 3 >= bits.length) {
              const grown = new Uint8Array(Math.max(bits.length * 2, (frame.seq >> 3) + 1));
              grown.set(bits);
              bits = grown;
            }
            counts.seen.set(d.deviceId, bits);
            const mask = 1 << (frame.seq & 7);
            if ((bits[frame.seq >> 3]! & mask) === 0) {
              bits[frame.seq >> 3]! |= mask;
              counts.frames++;
            }
            counts.maxSeq = Math.max(counts.maxSeq, frame.seq);
          });
          const ping = setInterval(() => {
            if (client.connected)
              client.publish(topics.devicePing(d.deviceId), JSON.stringify({ v: 1, t0: Date.now() + d.clockSkewMs }), {
                qos: 0,
              });
          }, PLAIN_PING_MS);
          ping.unref();
          client.on('end', () => clearInterval(ping));
          plainClients.push(client);
        }
        lag.enable();
        send({ type: 'ready', measured: measured.length, plain: plainClients.length });
        return;
      }
      case 'phase':
        phase = m.name;
        link?.setProfile(m.profile);
        ears?.setPhase(m.name);
        lag.reset();
        send({ type: 'phase-set' });
        return;
      case 'blackout': {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, m.at - wall())));
        const span = link!.blackOut(m.ms);
        send({
          type: 'blackout',
          from: performance.timeOrigin + span.from,
          until: performance.timeOrigin + span.until,
        });
        return;
      }
      case 'collect': {
        const counts = plain.get(m.phase);
        send({
          type: 'collected',
          cards: ears?.cards(m.phase) ?? [],
          loopLagMs: { p50: round1(lag.percentile(50) / 1e6), p99: round1(lag.percentile(99) / 1e6) },
          plain: {
            listeners: plainClients.length,
            frames: counts?.frames ?? 0,
            maxSeqPlusOne: (counts?.maxSeq ?? -1) + 1,
          },
          linkStats: link!.stats,
        });
        return;
      }
      case 'stop':
        for (const c of plainClients) c.end(true);
        await stopFleet?.().catch(() => {});
        await link?.close().catch(() => {});
        process.exit(0);
    }
  };
  process.on('message', (m: ToListeners) => {
    onMessage(m).catch((err: unknown) => send({ type: 'error', message: String((err as Error)?.stack ?? err) }));
  });
  // The bench went away: so do we.
  process.on('disconnect', () => process.exit(0));
}

void main();
