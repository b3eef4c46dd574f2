/** `loaxa say`: the broadcast render pipeline, offline, into a file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../db/database';
import { sqliteSql } from '../db/sql';
import { MediaStore } from '../media/store';
import { NoticeRenderer, type RenderResult } from '../tts/render';
import { createTtsRegistry, loadTtsConfig } from '../tts/registry';
import { CliError } from './server-client';

export async function renderToFile(
  text: string,
  opts: { out: string; voice?: string; engine?: string; chime?: boolean; repeat?: number },
): Promise<RenderResult & { renderMs: number }> {
  const format = opts.out.toLowerCase().endsWith('.mp3') ? 'mp3' : 'ogg';
  const env = { ...process.env };
  if (opts.engine) {
    const rest = (env.LOAXA_TTS_ENGINES ?? 'espeak').split(',').filter((e) => e.trim() !== opts.engine);
    env.LOAXA_TTS_ENGINES = [opts.engine, ...rest].join(',');
  }
  let tts;
  try {
    tts = createTtsRegistry(loadTtsConfig(env));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'loaxa-say-'));
  const db = openDatabase(scratch);
  try {
    const sqlDb = sqliteSql(db);
    const media = new MediaStore(scratch, sqlDb);
    const renderer = new NoticeRenderer(sqlDb, media, tts.asAdapter());
    const started = performance.now();
    const result = await renderer.render({
      text,
      format,
      ...(opts.voice ? { voice: opts.voice } : {}),
      ...(opts.chime === false ? { chime: false } : {}),
      ...(opts.repeat !== undefined ? { repeat: opts.repeat } : {}),
    });
    const renderMs = Math.round(performance.now() - started);
    fs.copyFileSync(path.join(media.root, media.relativePath(result.sha256, result.format)), opts.out);
    return { ...result, renderMs };
  } catch (err) {
    throw new CliError((err as Error).message);
  } finally {
    db.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
