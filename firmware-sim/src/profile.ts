/**
 * CPU profile of this process over a window (the benchmark's emergency
 * broadcast, say), summarised as the functions that took the most time: what
 * the bench report shows where a target is missed.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export interface ProfileRow {
  /** Function name and where it lives, e.g. `record (server/src/devices/acks.ts:17)`. */
  fn: string;
  /** Time with this function on top of the stack. */
  selfMs: number;
  /** Share of the window's samples, idle included. */
  percent: number;
}

export interface ProfileSummary {
  windowMs: number;
  /** Share of the window the process was idle (waiting for I/O or timers). */
  idlePercent: number;
  top: ProfileRow[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const SAMPLING_US = 500;

/** Starts sampling; the returned function stops and summarises the `limit` heaviest functions. */
export async function startProfile(): Promise<(limit?: number) => Promise<ProfileSummary>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
  await session.post('Profiler.start');
  return async (limit = 12) => {
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    session.disconnect();
    // LOAXA_PROFILE_DIR keeps the whole profile too, to open in Chrome DevTools (Performance tab).
    const dir = process.env.LOAXA_PROFILE_DIR;
    if (dir) fs.writeFileSync(path.join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    return summarise(profile, limit);
  };
}

export function summarise(profile: CpuProfile, limit: number): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? SAMPLING_US;
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    totalUs += us;
    if (frame.functionName === '(idle)') idleUs += us;
    // Lines of TypeScript modules point into tsx's transpiled output, so only the file is named.
    const line = frame.url.endsWith('.ts') ? '' : `:${frame.lineNumber + 1}`;
    const key = frame.url
      ? `${frame.functionName || '(anonymous)'} (${shortUrl(frame.url)}${line})`
      : frame.functionName;
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  });
  const top = [...selfUs]
    .filter(([fn]) => fn !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 100) / 10, percent: pct(us, totalUs) }));
  return { windowMs: Math.round((profile.endTime - profile.startTime) / 1000), idlePercent: pct(idleUs, totalUs), top };
}

function pct(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

/** `file:///…/node_modules/aedes/lib/handlers/publish.js` → `aedes/lib/handlers/publish.js`. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const repo = /\/(server|device-agent|firmware-sim|protocol|scripts)\//.exec(path);
  return repo ? path.slice(repo.index + 1) : path;
}
