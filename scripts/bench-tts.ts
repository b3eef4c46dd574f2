/**
 * `npm run bench:tts`: render a ~1-minute Vietnamese notice with the embedded
 * engine through the full pipeline; report render time, real-time factor,
 * bytes per minute (Opus 24k vs MP3) and measured loudness.
 * Writes reports/bench-tts-latest.{json,md}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../server/src/db/database';
import { MediaStore } from '../server/src/media/store';
import { NoticeRenderer } from '../server/src/tts/render';
import { EspeakAdapter } from '../server/src/tts/espeak';

const ROOT = path.resolve(import.meta.dirname, '..');
const PARAGRAPH =
  'Ủy ban nhân dân xã thông báo: để phòng chống dịch bệnh cho đàn gia súc, gia cầm, từ ngày 15/3/2026 đến ngày 20/3/2026, ' +
  'trạm thú y xã sẽ tổ chức tiêm phòng tại các thôn. Bà con chăn nuôi chủ động đưa vật nuôi đến điểm tiêm từ 7h30 đến 11h. ' +
  'Mỗi liều vắc-xin được hỗ trợ 50% kinh phí, phần còn lại là 15.000đ. Mọi thắc mắc xin liên hệ số điện thoại 0912 345 678. ';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-bench-tts-'));
  const db = openDatabase(dir);
  const renderer = new NoticeRenderer(db, new MediaStore(dir, db), new EspeakAdapter());
  await renderer.render({ text: 'Khởi động.' }); // warm up wasm and ffmpeg caches

  // Grow the text until the speech is about a minute long.
  let text = PARAGRAPH;
  let probe = await renderer.render({ text, chime: false });
  while (probe.durationMs < 58_000) {
    text += PARAGRAPH;
    probe = await renderer.render({ text, chime: false });
  }
  const results: Record<string, unknown>[] = [];
  for (const format of ['ogg', 'mp3'] as const) {
    // A fresh text per format: measure a real render, not a cache hit.
    const variant = `${text} ${format === 'ogg' ? 'Xin cảm ơn bà con.' : 'Trân trọng thông báo.'}`;
    const started = performance.now();
    const r = await renderer.render({ text: variant, format, chime: false });
    const renderMs = Math.round(performance.now() - started);
    results.push({
      format,
      durationS: +(r.durationMs / 1000).toFixed(1),
      renderMs,
      realTimeFactor: +(renderMs / r.durationMs).toFixed(3),
      bytesPerMinute: Math.round((r.bytes / r.durationMs) * 60_000),
      integratedLufs: +r.loudness.integratedLufs.toFixed(2),
      truePeakDbtp: +r.loudness.truePeakDbtp.toFixed(2),
    });
  }
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const report = {
    engine: 'espeak (text2wav WASM), Vietnamese',
    pipeline:
      'normalise → sentences (3 in parallel) → join → two-pass loudnorm -16 LUFS / -1.5 dBTP → encode → measure',
    textChars: text.length,
    results,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
    at: new Date().toISOString(),
  };
  const out = path.join(ROOT, 'reports');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'bench-tts-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const rows = results.map(
    (r) =>
      `| ${String(r.format)} | ${String(r.durationS)} s | ${String(r.renderMs)} ms | ${String(r.realTimeFactor)} | ${String(r.bytesPerMinute)} B | ${String(r.integratedLufs)} LUFS | ${String(r.truePeakDbtp)} dBTP |`,
  );
  fs.writeFileSync(
    path.join(out, 'bench-tts-latest.md'),
    [
      `# TTS benchmark — ${report.at}`,
      '',
      `${report.machine}. ${report.engine}; ${report.pipeline}. ${report.textChars} characters.`,
      '',
      '| format | audio | render | RTF | per minute | loudness | true peak |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
  console.log(fs.readFileSync(path.join(out, 'bench-tts-latest.md'), 'utf8'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
