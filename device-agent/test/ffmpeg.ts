import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** A real ffmpeg for tests, found like the server does: FFMPEG_PATH → @ffmpeg-installer → PATH. */
export function findFfmpeg(): string | undefined {
  const require = createRequire(import.meta.url);
  const candidates = [process.env.FFMPEG_PATH];
  try {
    candidates.push((require('@ffmpeg-installer/ffmpeg') as { path?: string }).path);
  } catch {
    // optional dependency absent
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'ffmpeg'));
  return candidates.find((path) => {
    if (!path) return false;
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
