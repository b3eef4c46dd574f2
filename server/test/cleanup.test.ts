/**
 * The nightly retention clean-up (node-cron, 03:30 commune time) on the real
 * server's database and media store: history older than the retention period
 * goes, recent history stays; media nothing uses any more goes (row and file),
 * while audio a content item uses and the server's own generated silences and
 * test tone stay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, rows, run, sql, startTestServer, type TestServer } from './helpers';

const DAY = 24 * 3600_000;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ LOAXA_RETENTION_DAYS: '400' });
});
afterAll(async () => {
  await server?.close();
});

describe('retention clean-up', () => {
  it('drops old history and unused media, keeps what is used or generated', async () => {
    const { media, scheduling, registry } = server.services;
    const now = Date.now();
    await registry.createDevice({ communeId: 'default', id: 'loa-c' });

    const notice = await server.api<{ id: string; sha256: string }>('POST', '/api/v1/content', {
      kind: 'notice',
      title: 'Giữ lại',
      text: 'Thông báo vẫn còn trong thư viện.',
    });
    expect(notice.status).toBe(201);
    const silence = await scheduling.content.silenceAsset(700);
    const tone = await scheduling.content.toneAsset();
    const orphan = await scheduling.content.silenceAsset(1234);
    await run(server, sql`DELETE FROM renders WHERE sha256 = ${orphan.sha256}`); // nothing refers to it now
    await run(server, sql`UPDATE media SET created_at = ${now - 60 * DAY}`); // all past the 30-day grace

    const occurrence = async (id: string, startAt: number) => {
      await run(
        server,
        sql`INSERT INTO occurrences (id, title, priority, start_at, duration_ms, sha256, created_at)
            VALUES (${id}, 'x', 'normal', ${startAt}, 1000, ${notice.body.sha256}, ${startAt})`,
      );
      await run(
        server,
        sql`INSERT INTO deliveries (occurrence_id, device_id, stage) VALUES (${id}, 'loa-c', 'finished')`,
      );
      await run(
        server,
        sql`INSERT INTO acks (device_id, ref_id, stage, at, received_at) VALUES ('loa-c', ${id}, 'finished', ${startAt}, ${startAt})`,
      );
    };
    await occurrence('occ-old', now - 500 * DAY);
    await occurrence('occ-recent', now - 10 * DAY);

    const result = await scheduling.cleanup(now);
    expect(result).toMatchObject({ occurrences: 1, acks: 1, media: 1 });
    const ids = (await rows<{ id: string }>(server, sql`SELECT id FROM occurrences ORDER BY id`)).map((r) => r.id);
    expect(ids).toEqual(['occ-recent']);
    const left = await row<{ n: number | string }>(
      server,
      sql`SELECT COUNT(*) AS n FROM deliveries WHERE occurrence_id = 'occ-old'`,
    );
    expect(Number(left?.n)).toBe(0);
    expect(
      (await rows<{ ref_id: string }>(server, sql`SELECT ref_id FROM acks ORDER BY ref_id`)).map((r) => r.ref_id),
    ).toEqual(['occ-recent']);

    const stored = async (sha256: string) =>
      !!(await row(server, sql`SELECT 1 AS one FROM media WHERE sha256 = ${sha256}`));
    const file = (sha256: string) => fs.existsSync(path.join(media.root, media.relativePath(sha256, 'ogg')));
    expect([await stored(orphan.sha256), file(orphan.sha256)]).toEqual([false, false]);
    for (const kept of [notice.body.sha256, silence.sha256, tone.sha256]) {
      expect([await stored(kept), file(kept)]).toEqual([true, true]);
    }
    // Run again: nothing more to do.
    expect(await scheduling.cleanup(now)).toMatchObject({ occurrences: 0, acks: 0, media: 0 });
  });
});
