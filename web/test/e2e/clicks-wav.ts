import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { resolveFfmpeg } from '../../../server/src/audio/ffmpeg';

/** chromium's arguments for a fake microphone that plays `clicksWav` (written into `dir`), granted without asking. */
export function fakeMicrophone(dir: string): string[] {
  return [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${clicksWav(dir)}`,
  ];
}

/** Ten seconds (chromium loops it) of a 20 ms 1 kHz click every 500 ms: the live tests' fake microphone. */
export function clicksWav(dir: string): string {
  const file = path.join(dir, 'clicks.wav');
  execFileSync(resolveFfmpeg().path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    "aevalsrc='if(lt(mod(t,0.5),0.02),0.7*sin(2*PI*1000*t),0)':s=48000:d=10",
    '-ac',
    '1',
    '-ar',
    '48000',
    '-c:a',
    'pcm_s16le',
    '-y',
    file,
  ]);
  return file;
}
