/**
 * One officer's live session, from "Bắt đầu phát" to its end: the microphone
 * opens first (so a permission prompt never keeps the loudspeakers waiting),
 * then POST /api/v1/live, then the audio WebSocket; each 20 ms Opus packet
 * goes out as one binary message. While on air the server is asked every
 * 2 s whether the session still is (silence, longest duration, an emergency
 * cutting in, a leader ending it); a socket that closes under us ends it too.
 * Whatever the end, the microphone is released.
 */
import { api, ApiError, liveAudioUrl, type LiveRequest, type LiveSession } from '../../lib/api';
import type { Message } from '../../lib/errors';
import {
  endMessage,
  liveRefusal,
  meterLevel,
  meterStep,
  microphoneMessage,
  QUIET_LEVEL,
  SESSION_POLL_MS,
} from '../live';
import { ruleBreaksOfRefusal, type RuleBreak } from '../rules';
import { startCapture, type Capture } from './capture';

export type LivePhase = 'idle' | 'preparing' | 'starting' | 'on-air' | 'stopping';

/** The audio socket must open quickly: the server ends a session whose audio does not come within 2 s. */
const SOCKET_OPEN_MS = 5_000;
/** After an end we did not ask for, how long to wait for the server to record why. */
const END_WAIT_MS = 8_000;
const TICK_MS = 250;
/** No sound this long while on air: the page asks the officer to check the microphone. */
const QUIET_WARN_MS = 3_000;

export class LiveBroadcast {
  phase = $state<LivePhase>('idle');
  /** The session on air (or being ended). */
  session = $state<LiveSession | null>(null);
  /** The last session that ended here, and why. */
  ended = $state<{ session: LiveSession; message: Message } | null>(null);
  /** Opus packets sent on the socket. */
  frames = $state(0);
  /** The level meter's fill (0–1). */
  level = $state(0);
  /** Local time the session went on air, and a clock for its elapsed time. */
  since = $state(0);
  now = $state(0);
  /** Nothing above a murmur for a few seconds. */
  quiet = $state(false);
  /** The connection dropped: shown while the server records the end. */
  lost = $state(false);
  error = $state<Message | null>(null);
  /** The commune's broadcast rules the last start broke (409, field "rules"). */
  ruleBreaks = $state<RuleBreak[] | null>(null);
  rulesForbidden = $state(false);

  #capture: Capture | null = null;
  #socket: WebSocket | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #lastLoudAt = 0;
  #disposed = false;

  /** `me`: the signed-in officer's username, to tell their own end from a leader's. */
  constructor(private readonly me: () => string) {}

  get busy(): boolean {
    return this.phase !== 'idle';
  }

  async start(request: LiveRequest): Promise<void> {
    if (this.phase !== 'idle' || this.#disposed) return;
    this.error = null;
    this.ruleBreaks = null;
    this.rulesForbidden = false;
    this.ended = null;
    this.frames = 0;
    this.level = 0;
    this.lost = false;
    this.quiet = false;
    this.phase = 'preparing';
    try {
      this.#capture = await startCapture({
        onPacket: (packet) => this.#send(packet),
        onLevel: (rms) => this.#hear(rms),
        onError: (cause) => void this.#fail(microphoneMessage(cause)),
      });
    } catch (cause) {
      this.error = microphoneMessage(cause);
      this.phase = 'idle';
      return;
    }
    if (this.#disposed) return this.#release();

    this.phase = 'starting';
    let session: LiveSession;
    try {
      session = await api.goLive(request);
    } catch (cause) {
      this.#release();
      const broke = ruleBreaksOfRefusal(cause);
      if (broke) {
        this.ruleBreaks = broke.breaks;
        this.rulesForbidden = broke.forbidden;
      } else this.error = liveRefusal(cause);
      this.phase = 'idle';
      return;
    }
    this.session = session;
    if (this.#disposed) return this.#leave();

    try {
      this.#socket = await openSocket(liveAudioUrl(session.id));
    } catch {
      this.#release();
      this.error = { key: 'live.errors.socket' };
      // The server would end it as dropped in 2 s; say so now.
      void api.stopLive(session).catch(() => {});
      this.session = null;
      this.phase = 'idle';
      return;
    }
    if (this.#disposed) return this.#leave();
    this.#socket.onclose = () => void this.#socketClosed();
    this.since = Date.now();
    this.now = this.since;
    this.#lastLoudAt = this.since;
    this.phase = 'on-air';
    this.#timers.push(
      setInterval(() => {
        this.now = Date.now();
        this.quiet = this.now - this.#lastLoudAt > QUIET_WARN_MS;
      }, TICK_MS),
      setInterval(() => void this.#check(), SESSION_POLL_MS),
    );
  }

  /** "Kết thúc": the server ends exactly what we saw (compare-and-set), then the socket closes. */
  async stop(): Promise<void> {
    const session = this.session;
    if (this.phase !== 'on-air' || !session) return;
    this.phase = 'stopping';
    this.#release({ keepSocket: true });
    let ended: LiveSession | null = null;
    try {
      ended = await stopSeen(session);
    } catch {
      // Closing the socket ends it too (as dropped, within 2 s): the server's word is awaited below.
      this.error = { key: 'live.errors.stopFailed' };
    }
    this.#closeSocket();
    this.#finish(ended ?? (await this.#awaitEnd(session.id)) ?? session);
  }

  /** The page is left: end the session as "stopped" rather than dropped, and release the microphone. */
  dispose(): void {
    this.#disposed = true;
    this.#leave();
  }

  #leave(): void {
    const session = this.session;
    if (session && (this.phase === 'on-air' || this.phase === 'starting')) void stopSeen(session).catch(() => {});
    this.#release();
  }

  #send(packet: Uint8Array): void {
    const socket = this.#socket;
    if (this.phase !== 'on-air' || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(packet);
    this.frames++;
  }

  #hear(rms: number): void {
    const level = meterLevel(rms);
    this.level = meterStep(this.level, level);
    if (level >= QUIET_LEVEL) this.#lastLoudAt = Date.now();
  }

  /** The server's view while on air: an end it decided (silence, longest duration, an emergency, a leader). */
  async #check(): Promise<void> {
    const session = this.session;
    if (this.phase !== 'on-air' || !session) return;
    try {
      const now = await api.liveSession(session.id);
      if (this.phase !== 'on-air' || this.session?.id !== now.id) return;
      this.session = now;
      if (!stillOnAir(now)) {
        this.#release();
        this.#finish(now);
      }
    } catch {
      // A missed poll is not an end: the socket says when the server is gone.
    }
  }

  async #socketClosed(): Promise<void> {
    const session = this.session;
    if (this.phase !== 'on-air' || !session) return;
    this.phase = 'stopping';
    this.lost = true;
    this.#release();
    this.#finish((await this.#awaitEnd(session.id)) ?? { ...session, endReason: 'dropped' });
  }

  /** The microphone or the encoder failed while on air: end the session, saying why. */
  async #fail(message: Message): Promise<void> {
    if (this.phase !== 'on-air') return;
    await this.stop();
    this.error = message;
  }

  /** The session as the server ended it, asked until it has (null when it has not said in time). */
  async #awaitEnd(id: string): Promise<LiveSession | null> {
    const until = Date.now() + END_WAIT_MS;
    while (Date.now() < until && !this.#disposed) {
      try {
        const session = await api.liveSession(id);
        if (!stillOnAir(session)) return session;
      } catch {
        // Asked again below.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return null;
  }

  #finish(session: LiveSession): void {
    this.#release();
    // Live to several communes, the voice ended with the last of its sessions: that one says why.
    const last = [session, ...session.group].reduce((a, b) => ((b.endedAt ?? '') > (a.endedAt ?? '') ? b : a));
    const how = { ...session, endReason: last.endReason, endedBy: last.endedBy };
    this.ended = { session: how, message: endMessage(how, this.me()) };
    this.session = null;
    this.level = 0;
    this.quiet = false;
    this.phase = 'idle';
  }

  /** Stops the timers and the capture (the microphone's light goes out), and closes the socket. */
  #release(options: { keepSocket?: boolean } = {}): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#capture?.stop();
    this.#capture = null;
    if (!options.keepSocket) this.#closeSocket();
  }

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.onclose = null;
    socket.close(1000);
  }
}

/** On air still: the session, or another commune's of its group (an emergency may have cut this one off). */
export function stillOnAir(session: Pick<LiveSession, 'endedAt' | 'group'>): boolean {
  return session.endedAt === null || session.group.some((member) => member.endedAt === null);
}

/**
 * Stops the session (with its whole group) at the revision seen; once more at the server's when
 * only the revision had moved.
 */
async function stopSeen(session: LiveSession): Promise<LiveSession> {
  const options = { group: session.groupId !== null };
  try {
    return await api.stopLive(session, options);
  } catch (cause) {
    const current = cause instanceof ApiError && cause.status === 409 ? (cause.detail.current as LiveSession) : null;
    if (!current) throw cause;
    return stillOnAir(current) ? api.stopLive(current, options) : current;
  }
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('the audio connection did not open in time'));
    }, SOCKET_OPEN_MS);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error('the audio connection was refused'));
    };
  });
}
