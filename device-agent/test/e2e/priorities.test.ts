/**
 * Circular 39/2020/TT-BTTTT on one loudspeaker, through approved schedules
 * (real server, real agent code, null player):
 * - normal items play in order of their planned start, waiting while another plays;
 * - a priority item goes ahead of normal items that are waiting;
 * - an emergency interrupts what is playing at once; the interrupted item is
 *   acked "preempted" and is not resumed.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, sql, startTestServer, waitFor, type TestServer } from '../../../server/test/helpers';
import { startNode, type TestNode } from './in-process';

const VN = 'Asia/Ho_Chi_Minh';
let server: TestServer;
let node: TestNode | undefined;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await node?.agent.stop();
  await server?.close();
});

describe('priorities on a loudspeaker, from schedules', () => {
  it('orders normal and priority items, and an emergency preempts', async () => {
    node = await startNode(server, 'prio-1', { zone: 'thon-p' });
    await waitFor('node online', async () => (await server.services.registry.getDevice('prio-1'))?.online, 15_000);
    const post = async <T>(url: string, body?: object) => {
      const res = await server.api<T>('POST', url, body);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body;
    };
    /** A programme of `ms` of silence: exact durations make the timeline exact. */
    const programme = async (title: string, ms: number) => {
      const item = await post<{ id: string }>('/api/v1/content', { kind: 'silence', title, durationMs: ms });
      return (await post<{ id: string }>('/api/v1/programmes', { title, items: [{ contentId: item.id }] })).id;
    };
    // All starts fall within one local day.
    let t0 = DateTime.now().setZone(VN).plus({ seconds: 10 }).startOf('second');
    if (!t0.plus({ seconds: 12 }).hasSame(t0, 'day')) t0 = t0.plus({ seconds: 30 });
    const at = (s: number) => t0.plus({ seconds: s });
    const schedule = async (title: string, ms: number, start: number, priority: string) => {
      const s = await post<{ id: string }>('/api/v1/schedules', {
        title,
        programmeId: await programme(title, ms),
        rule: { kind: 'once', startDate: at(start).toISODate(), times: [at(start).toFormat('HH:mm:ss')] },
        zones: ['thon-p'],
        priority,
        onConflict: 'priority', // they overlap on purpose
      });
      await post(`/api/v1/schedules/${s.id}/submit`); // the admin publishes at once
      return s.id;
    };
    const n1 = await schedule('Bản tin 1', 4000, 0, 'normal');
    const n2 = await schedule('Bản tin 2', 1000, 1, 'normal');
    const p = await schedule('Ưu tiên', 1000, 2, 'priority');
    const n3 = await schedule('Bản tin 3', 4000, 7, 'normal');
    const e = await schedule('Khẩn cấp', 1000, 8, 'emergency');

    const stageOf = async (scheduleId: string) =>
      (
        await row<{ stage: string }>(
          server,
          sql`SELECT d.stage FROM deliveries d JOIN occurrences o ON o.id = d.occurrence_id
              WHERE o.schedule_id = ${scheduleId} AND d.device_id = 'prio-1'`,
        )
      )?.stage;
    const stagesOf = (scheduleIds: string[]) => Promise.all(scheduleIds.map(stageOf));
    await waitFor(
      'every item reached its final stage',
      async () => {
        const [s1, s2, sp, s3, se] = await stagesOf([n1, n2, p, n3, e]);
        return [s1, s2, sp, se].every((stage) => stage === 'finished') && s3 === 'preempted';
      },
      40_000,
    ).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await stagesOf([n1, n2, p, n3, e]))}`);
    });

    // The loudspeaker's own record, in the order things sounded.
    const occurrenceOf = async (scheduleId: string) =>
      (await row<{ id: string }>(server, sql`SELECT id FROM occurrences WHERE schedule_id = ${scheduleId}`))!.id;
    const occurrences = await Promise.all([n1, n2, p, n3, e].map(occurrenceOf));
    const names = new Map(occurrences.map((id, i) => [id, ['n1', 'n2', 'p', 'n3', 'e'][i]!]));
    const plays = node.plays().map((l) => ({ ...l, name: names.get(l.occurrenceId) }));
    expect(plays.map((l) => l.name)).toEqual(['n1', 'p', 'n2', 'n3', 'e']);
    const [l1, lp, l2, l3, le] = plays;
    const near = (actual: number, expected: DateTime, slackMs = 250) =>
      expect(Math.abs(actual - expected.toMillis())).toBeLessThan(slackMs);
    near(l1!.startedAt, at(0));
    near(lp!.startedAt, at(4)); // the priority item went ahead of n2, which was waiting since t+1
    near(l2!.startedAt, at(5));
    near(l3!.startedAt, at(7));
    expect(l3!.interrupted).toBe(true);
    near(l3!.endedAt, at(8)); // cut at once by the emergency …
    near(le!.startedAt, at(8));
    expect(plays.filter((l) => l.name === 'n3')).toHaveLength(1); // … and not resumed afterwards
  }, 60_000);
});
