/**
 * A stream relay through the whole chain: the officer puts a notice and the
 * national radio's stream (here a loopback stand-in) in one programme, it is
 * scheduled and approved; the loudspeaker downloads only the notice ahead,
 * plays it at the start time, then listens to the stream for its set
 * duration without sending the device's credentials to the radio.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, sql, startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { startTestRadio, type TestRadio } from '../radio';
import { startNode, type TestNode } from './in-process';

const VN = 'Asia/Ho_Chi_Minh';
let server: TestServer;
let radio: TestRadio;
let node: TestNode | undefined;

beforeAll(async () => {
  [server, radio] = await Promise.all([startTestServer(), startTestRadio()]);
});
afterAll(async () => {
  await node?.agent.stop();
  await Promise.all([server?.close(), radio?.close()]);
});

describe('stream relay in a scheduled programme', () => {
  it('plays the notice, then relays the stream for its duration', async () => {
    node = await startNode(server, 'relay-1', { zone: 'thon-r' });
    await waitFor('node online', async () => (await server.services.registry.getDevice('relay-1'))?.online, 15_000);
    const post = async <T>(url: string, body?: object) => {
      const res = await server.api<T>('POST', url, body);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body;
    };
    const notice = await post<{ id: string; sha256: string; durationMs: number }>('/api/v1/content', {
      kind: 'notice',
      title: 'Giới thiệu',
      text: 'Sau đây là chương trình thời sự của Đài Tiếng nói Việt Nam.',
    });
    const stream = await post<{ id: string }>('/api/v1/content', {
      kind: 'stream',
      title: 'VOV1 thời sự',
      url: `${radio.url}/live`,
      durationMs: 2000,
    });
    const programme = await post<{ id: string; durationMs: number }>('/api/v1/programmes', {
      title: 'Tiếp sóng thời sự',
      items: [{ contentId: notice.id }, { contentId: stream.id }],
    });
    expect(programme.durationMs).toBe(notice.durationMs + 2000);

    // Midnight in Vietnam would split "today" from the start time: the start stays within the day.
    const start = DateTime.now().setZone(VN).plus({ seconds: 6 }).startOf('second');
    const today = start.toISODate()!;
    const schedule = await post<{ id: string }>('/api/v1/schedules', {
      title: 'Tiếp sóng',
      programmeId: programme.id,
      rule: { kind: 'once', startDate: today, times: [start.toFormat('HH:mm:ss')] },
      zones: ['thon-r'],
    });
    await post(`/api/v1/schedules/${schedule.id}/submit`); // the admin publishes at once

    const plays = await waitFor(
      'notice and stream played',
      () => (node!.plays().length >= 2 ? node!.plays() : null),
      30_000,
    );
    const [spoken, relayed] = plays;
    expect(spoken).toMatchObject({ sha256: notice.sha256 });
    expect(Math.abs(spoken!.startedAt - start.toMillis())).toBeLessThan(200);
    expect(relayed).toMatchObject({ stream: `${radio.url}/live` });
    expect(relayed!.interrupted).toBeUndefined();
    expect(relayed!.startedAt - spoken!.endedAt).toBeLessThan(100); // back to back
    expect(relayed!.endedAt - relayed!.startedAt).toBeGreaterThanOrEqual(1950);
    expect(relayed!.endedAt - relayed!.startedAt).toBeLessThan(3000);
    expect(relayed!.bytes).toBeGreaterThan(20_000);

    // The radio saw one listener, for about the stream's duration, with no device credentials.
    expect(radio.listeners).toHaveLength(1);
    const listener = radio.listeners[0]!;
    expect(listener.headers.authorization).toBeUndefined();
    await waitFor('listener left', () => listener.closedAt);
    expect(listener.closedAt! - listener.openedAt).toBeLessThan(3000);

    const occurrenceId = spoken!.occurrenceId;
    await waitFor('delivery finished', () =>
      row(
        server,
        sql`SELECT 1 AS one FROM deliveries
            WHERE occurrence_id = ${occurrenceId} AND device_id = 'relay-1' AND stage = 'finished'`,
      ),
    );
  }, 60_000);
});
