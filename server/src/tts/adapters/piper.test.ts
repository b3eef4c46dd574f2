import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PiperAdapter } from './piper';
import { testAudio, wavMs } from './test-support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-piper-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer, mode = 0o644): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content, { mode });
  return p;
}

const model = file('vi_VN-test.onnx', 'not really a model');
file('vi_VN-test.onnx.json', JSON.stringify({ language: { code: 'vi_VN' } }));

describe('PiperAdapter: loading and errors', () => {
  it('names a missing model file', async () => {
    const tts = new PiperAdapter({ modelPath: path.join(dir, 'missing.onnx'), binPath: '/bin/true' });
    await expect(tts.synthesize({ text: 'Xin chào' })).rejects.toThrow(
      `Piper: model file not found: ${path.join(dir, 'missing.onnx')}`,
    );
    expect((await tts.health()).ok).toBe(false);
  });

  it('names a missing model config', async () => {
    const lonely = file('lonely.onnx', 'x');
    await expect(
      new PiperAdapter({ modelPath: lonely, binPath: '/bin/true' }).synthesize({ text: 'a' }),
    ).rejects.toThrow(/model config not found: .*lonely\.onnx\.json/);
  });

  it('names a missing binary, by path and by PATH lookup', async () => {
    await expect(
      new PiperAdapter({ modelPath: model, binPath: path.join(dir, 'no-piper') }).synthesize({ text: 'a' }),
    ).rejects.toThrow(/piper binary not found: .*no-piper is not an executable file/);
    await expect(
      new PiperAdapter({ modelPath: model, binPath: 'piper-surely-not-installed' }).synthesize({ text: 'a' }),
    ).rejects.toThrow('piper binary not found: piper-surely-not-installed is not on PATH');
  });

  it('runs the CLI as documented (stdin text, --model, --output_file) and reports its failures', async () => {
    // A stand-in piper: records its arguments and stdin, then writes a real WAV to --output_file.
    const wav = file('tone.wav', testAudio().wav);
    const log = path.join(dir, 'args.log');
    const fakePiper = file(
      'fake-piper.sh',
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${log}\ncat >> ${log}\nwhile [ $# -gt 0 ]; do [ "$1" = --output_file ] && cp ${wav} "$2"; shift; done\n`,
      0o755,
    );
    const r = await new PiperAdapter({ modelPath: model, binPath: fakePiper }).synthesize({
      text: 'Xin chào bà con',
      speed: 2,
    });
    expect(wavMs(r.wav)).toBeGreaterThan(400);
    const logged = fs.readFileSync(log, 'utf8').split('\n');
    expect(logged.slice(0, 2)).toEqual(['--model', model]);
    expect(logged).toContain('--output_file');
    expect(logged[logged.indexOf('--length_scale') + 1]).toBe('0.500');
    expect(logged).toContain('Xin chào bà con');
    expect(await new PiperAdapter({ modelPath: model, binPath: fakePiper }).voices()).toEqual([
      { id: 'vi_VN-test', name: 'Piper vi_VN-test.onnx', language: 'vi_VN' },
    ]);

    const failing = file('failing-piper.sh', '#!/bin/sh\necho "Load model failed: bad onnx" >&2\nexit 3\n', 0o755);
    await expect(new PiperAdapter({ modelPath: model, binPath: failing }).synthesize({ text: 'a' })).rejects.toThrow(
      'Piper: exited with 3: Load model failed: bad onnx',
    );
  });
});

const PIPER_BIN = process.env.PIPER_BIN;
const PIPER_MODEL = process.env.PIPER_MODEL;
const realPiper = Boolean(PIPER_BIN && PIPER_MODEL && fs.existsSync(PIPER_BIN) && fs.existsSync(PIPER_MODEL));
if (!realPiper) {
  console.warn(
    '[piper.test] real Piper synthesis skipped: set PIPER_BIN and PIPER_MODEL to an existing binary and .onnx voice to run it',
  );
}

describe('PiperAdapter: real synthesis', () => {
  it.skipIf(!realPiper)('speaks Vietnamese with the operator’s model', async () => {
    const r = await new PiperAdapter({ modelPath: PIPER_MODEL!, binPath: PIPER_BIN! }).synthesize({
      text: 'Xin chào bà con.',
    });
    expect(wavMs(r.wav)).toBeGreaterThan(300);
  });
});
