/** Runs one fluent-ffmpeg command to completion and hands back ffmpeg's full stderr. */
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { resolveFfmpeg } from './ffmpeg';

export type FfmpegCommand = ffmpeg.FfmpegCommand;

/** A command reading `input` (a file path, or bytes fed through stdin) with our ffmpeg binary. */
export function ffmpegFrom(input: string | Uint8Array, inputFormat?: string): FfmpegCommand {
  const source = typeof input === 'string' ? input : Readable.from([Buffer.from(input)]);
  // stdoutLines 0: keep all of stderr, loudnorm prints its JSON last.
  const command = ffmpeg({ source, stdoutLines: 0 }).setFfmpegPath(resolveFfmpeg().path);
  if (inputFormat) command.inputFormat(inputFormat);
  return command.inputOptions(['-nostdin']);
}

/** Starts `command` writing to `output` ('-' with format null for analysis only); resolves with stderr. */
export function runFfmpeg(command: FfmpegCommand, output: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    command
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) =>
        reject(new Error(`ffmpeg failed to ${what}: ${err.message}${stderr ? `\n${stderr.slice(-800)}` : ''}`)),
      )
      .on('end', (_stdout: string | null, stderr: string | null) => resolve(stderr ?? ''))
      .save(output);
  });
}
