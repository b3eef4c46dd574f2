/**
 * Notice text → speech → Opus/Ogg in the media store. Renders are cached by
 * (engine, voice, speed, text) so the same notice is rendered once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Db } from '../db/database';
import type { MediaAsset, MediaStore } from '../media/store';
import { encodeWavToOpus, wavDurationMs } from '../audio/encode';
import type { TtsAdapter } from './adapter';

export interface RenderRequest {
  text: string;
  voice?: string;
  speed?: number;
}

export interface RenderResult extends MediaAsset {
  engine: string;
  cached: boolean;
}

export class NoticeRenderer {
  constructor(
    private readonly db: Db,
    private readonly media: MediaStore,
    private readonly tts: TtsAdapter,
  ) {}

  async render(request: RenderRequest): Promise<RenderResult> {
    const key = crypto
      .createHash('sha256')
      .update(JSON.stringify([this.tts.id, request.voice ?? null, request.speed ?? 1, request.text]))
      .digest('hex');
    const hit = this.db.prepare('SELECT sha256, engine FROM renders WHERE cache_key = ?').get(key) as
      { sha256: string; engine: string } | undefined;
    const stored = hit ? this.media.get(hit.sha256) : null;
    if (hit && stored) return { ...stored, engine: hit.engine, cached: true };

    const speech = await this.tts.synthesize({ text: request.text, voice: request.voice, speed: request.speed });
    const durationMs = wavDurationMs(speech.wav);
    const temp = this.media.tempPath('ogg');
    try {
      await encodeWavToOpus(speech.wav, temp);
      const asset = await this.media.adopt(temp, 'ogg', durationMs);
      this.db
        .prepare(
          `INSERT INTO renders (cache_key, sha256, engine, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(cache_key) DO UPDATE SET sha256 = excluded.sha256, engine = excluded.engine`,
        )
        .run(key, asset.sha256, this.tts.id, Date.now());
      return { ...asset, engine: this.tts.id, cached: false };
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
}
