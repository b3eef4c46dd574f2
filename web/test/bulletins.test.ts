import { describe, expect, it } from 'vitest';
import type { Bulletin, BulletinCommune } from '../src/lib/api';
import {
  bulletinBody,
  bulletinPublicByDefault,
  handlingCounts,
  isLive,
  mayHandle,
  ownRow,
  playTotals,
  suggestedPlaceTime,
  upsert,
} from '../src/pages/bulletins';

const row = (
  communeId: string,
  status: BulletinCommune['status'],
  extra: Partial<BulletinCommune> = {},
): BulletinCommune => ({
  communeId,
  name: communeId,
  status,
  declineReason: null,
  detail: null,
  handledBy: null,
  handledAt: null,
  revision: 1,
  occurrences: [],
  devices: 0,
  played: 0,
  failed: 0,
  ...extra,
});

const bulletin = (id: string, communes: BulletinCommune[], extra: Partial<Bulletin> = {}): Bulletin => ({
  id,
  title: id,
  text: 'x',
  priority: 'normal',
  status: 'sent',
  allCommunes: false,
  sha256: 'x',
  durationMs: 1000,
  expiresAt: null,
  public: true,
  reviewReason: null,
  reviewedBy: null,
  sentAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'tinh',
  createdAt: '2026-01-01T00:00:00.000Z',
  revision: 2,
  communes,
  ...extra,
});

describe('bulletins', () => {
  it('counts the communes at each stage and the loudspeakers played', () => {
    const b = bulletin('b', [
      row('a', 'scheduled', { devices: 3, played: 2, failed: 1 }),
      row('b', 'declined'),
      row('c', 'received'),
      row('d', 'received', { devices: 2, played: 2 }),
    ]);
    expect(handlingCounts(b)).toEqual({ received: 2, scheduled: 1, aired: 0, declined: 1 });
    expect(playTotals(b)).toEqual({ devices: 5, played: 4, failed: 1 });
  });

  it('lets a commune place or decline only a sent bulletin still waiting in its inbox', () => {
    const waiting = row('a', 'received');
    expect(mayHandle(bulletin('b', [waiting]), waiting)).toBe(true);
    expect(mayHandle(bulletin('b', [waiting], { priority: 'priority' }), waiting)).toBe(true);
    expect(mayHandle(bulletin('b', [waiting], { priority: 'emergency' }), waiting)).toBe(false);
    expect(mayHandle(bulletin('b', [waiting], { status: 'submitted' }), waiting)).toBe(false);
    expect(mayHandle(bulletin('b', [row('a', 'declined')]), row('a', 'declined'))).toBe(false);
    expect(mayHandle(bulletin('b', [row('a', 'scheduled')]), row('a', 'scheduled'))).toBe(false);
  });

  it('finds the commune’s own row', () => {
    const b = bulletin('b', [row('a', 'received'), row('b', 'declined')]);
    expect(ownRow(b, 'b')?.status).toBe('declined');
    expect(ownRow(b, null)).toBeUndefined();
  });

  it('offers the next quarter hour at least ten minutes ahead', () => {
    const now = Date.parse('2026-01-01T03:02:00Z');
    expect(new Date(suggestedPlaceTime(now)).toISOString()).toBe('2026-01-01T03:15:00.000Z');
    const late = Date.parse('2026-01-01T03:07:00Z');
    expect(new Date(suggestedPlaceTime(late)).toISOString()).toBe('2026-01-01T03:30:00.000Z');
  });

  it('keeps the list newest first when one is added or changed', () => {
    const older = bulletin('old', [], { createdAt: '2026-01-01T00:00:00.000Z' });
    const newer = bulletin('new', [], { createdAt: '2026-01-02T00:00:00.000Z' });
    expect(upsert([older], newer).map((b) => b.id)).toEqual(['new', 'old']);
    const changed = { ...older, title: 'changed' };
    expect(upsert([newer, older], changed).map((b) => b.title)).toEqual(['new', 'changed']);
  });

  it('sends whether it is public, text starting public and a recording not', () => {
    expect(bulletinPublicByDefault('text')).toBe(true);
    expect(bulletinPublicByDefault('audio')).toBe(false);
    const draft = {
      title: '',
      text: 'Lịch tiêm chủng',
      priority: 'normal' as const,
      communes: ['xa-a'],
      expiresAt: '2026-01-01T05:00:00.000Z',
      public: true,
    };
    expect(bulletinBody(draft)).toEqual({
      text: 'Lịch tiêm chủng',
      priority: 'normal',
      communes: ['xa-a'],
      public: true,
    });
    expect(bulletinBody({ ...draft, public: false }).public).toBe(false);
    expect(bulletinBody({ ...draft, title: 'Tiêm chủng', priority: 'emergency', communes: 'all' })).toEqual({
      title: 'Tiêm chủng',
      text: 'Lịch tiêm chủng',
      priority: 'emergency',
      communes: 'all',
      expiresAt: '2026-01-01T05:00:00.000Z',
      public: true,
    });
  });

  it('is live while a commune has yet to answer or loudspeakers to play', () => {
    const now = Date.parse('2026-01-01T05:00:00Z');
    expect(isLive(bulletin('b', [row('a', 'received')]), now)).toBe(true);
    expect(isLive(bulletin('b', [row('a', 'declined')]), now)).toBe(false);
    expect(isLive(bulletin('b', [row('a', 'scheduled', { devices: 2, played: 1 })]), now)).toBe(true);
    expect(isLive(bulletin('b', [], { status: 'rejected' }), now)).toBe(false);
  });
});
