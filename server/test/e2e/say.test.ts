/** `loaxa say` renders offline with the real pipeline; bad engines are named. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const LOAXA = path.resolve(import.meta.dirname, '../../bin/loaxa.mjs');

describe('loaxa say', () => {
  it('writes Opus at the loudness target and MP3 on request', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-say-test-'));
    const ogg = path.join(dir, 'notice.ogg');
    const { stdout } = await run(process.execPath, [
      LOAXA,
      'say',
      'UBND xã thông báo: 7h30 sáng mai tiêm phòng.',
      '-o',
      ogg,
    ]);
    expect(fs.readFileSync(ogg).subarray(0, 4).toString('ascii')).toBe('OggS');
    const lufs = Number(/(-?\d+\.\d) LUFS/.exec(stdout)?.[1]);
    expect(Math.abs(lufs - -16)).toBeLessThanOrEqual(1);
    const mp3 = path.join(dir, 'notice.mp3');
    await run(process.execPath, [LOAXA, 'say', 'Xin chào bà con', '-o', mp3, '--no-chime']);
    const head = fs.readFileSync(mp3).subarray(0, 3);
    expect(head.toString('ascii') === 'ID3' || (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0)).toBe(true);
    await expect(run(process.execPath, [LOAXA, 'say', 'x', '-o', ogg, '--engine', 'klingon'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/engines\[0\]\.id: must be one of/),
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
