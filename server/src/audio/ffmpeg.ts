/**
 * Finds the ffmpeg binary. Order (DESIGN.md): FFMPEG_PATH → ffmpeg-static →
 * @ffmpeg-installer/ffmpeg → `ffmpeg` on PATH. Both npm packages are optional
 * dependencies so `npm install` never fails offline; whichever is present wins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface FfmpegLocation {
  path: string;
  source: 'FFMPEG_PATH' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';
}

function executable(p: string | null | undefined): p is string {
  if (!p) return false;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function fromPackage(name: string, pick: (mod: unknown) => unknown): string | null {
  try {
    const value = pick(require(name));
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

function onPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'ffmpeg');
    if (dir && executable(candidate)) return candidate;
  }
  return null;
}

let cached: FfmpegLocation | null = null;

export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegLocation {
  if (cached && env === process.env) return cached;
  const tried: string[] = [];
  const candidates: [FfmpegLocation['source'], () => string | null][] = [
    ['FFMPEG_PATH', () => env.FFMPEG_PATH ?? null],
    ['ffmpeg-static', () => fromPackage('ffmpeg-static', (m) => m)],
    ['@ffmpeg-installer/ffmpeg', () => fromPackage('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: string }).path)],
    ['PATH', onPath],
  ];
  for (const [source, find] of candidates) {
    const found = find();
    if (executable(found)) {
      const location = { path: found, source };
      if (env === process.env) cached = location;
      return location;
    }
    tried.push(found ? `${source} (${found}: not executable)` : `${source} (absent)`);
  }
  throw new Error(`ffmpeg not found; tried ${tried.join(', ')}. Set FFMPEG_PATH or install ffmpeg.`);
}
