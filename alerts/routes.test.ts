import { describe, expect, it } from 'vitest';
import { channelsFor, dueDigest, localTime, quietUntil, sendAt, type ChannelRoute } from './routes.ts';

const ALMATY_NIGHT: ChannelRoute = {
  id: 'pr', events: ['ticket.created', 'incident.opened'], quietHours: { timeZone: 'Asia/Almaty', from: '22:00', to: '08:00' }, groupWaitSeconds: 60,
};

describe('notification routes', () => {
  it('lets an alert through only to channels that hear its event and whose filters pass', () => {
    const routes: ChannelRoute[] = [
      { id: 'all', events: ['ticket.created'] },
      { id: 'kz', events: ['ticket.created'], filters: { brands: ['Kaspi'], priorities: ['high', 'urgent'] } },
      { id: 'maps', events: ['ticket.created'], filters: { sources: ['2gis'] } },
      { id: 'crisis', events: ['incident.opened'] },
    ];
    const ids = (facts: Parameters<typeof channelsFor>[1]) => channelsFor(routes, facts).map((r) => r.id);
    expect(ids({ event: 'ticket.created', brand: 'Kaspi', priority: 'high', source: '2gis' })).toEqual(['all', 'kz', 'maps']);
    expect(ids({ event: 'ticket.created', brand: 'Kaspi', priority: 'normal', source: 'vk' })).toEqual(['all']);
    expect(ids({ event: 'ticket.created', brand: 'Halyk', priority: 'urgent', source: '2gis' })).toEqual(['all', 'maps']);
    // An alert without the field (a failing helpdesk has no brand) passes that filter.
    expect(ids({ event: 'ticket.created' })).toEqual(['all', 'kz', 'maps']);
    expect(ids({ event: 'incident.opened', brand: 'Kaspi' })).toEqual(['crisis']);
  });

  it('holds a non-critical alert until the quiet hours end in the recipient\'s time zone; a critical one goes at once', () => {
    // 23:30 in Almaty (UTC+5).
    const night = new Date('2026-12-02T18:30:00Z');
    expect(localTime(night, 'Asia/Almaty')).toEqual({ date: '2026-12-02', minutes: 23 * 60 + 30 });
    expect(quietUntil(ALMATY_NIGHT.quietHours!, night)?.toISOString()).toBe('2026-12-03T03:00:00.000Z');
    expect(sendAt(ALMATY_NIGHT, { event: 'ticket.created' }, night).at.toISOString()).toBe('2026-12-03T03:00:00.000Z');
    expect(sendAt(ALMATY_NIGHT, { event: 'ticket.created' }, night).quietUntil?.toISOString()).toBe('2026-12-03T03:00:00.000Z');
    expect(sendAt(ALMATY_NIGHT, { event: 'incident.opened', critical: true }, night).at.toISOString()).toBe('2026-12-02T18:31:00.000Z');
    // Before midnight and after it, the same night.
    expect(quietUntil(ALMATY_NIGHT.quietHours!, new Date('2026-12-02T22:15:00Z'))?.toISOString()).toBe('2026-12-03T03:00:00.000Z');
    // Daytime: only the group wait.
    const noon = new Date('2026-12-03T07:00:00Z');
    expect(quietUntil(ALMATY_NIGHT.quietHours!, noon)).toBeNull();
    expect(sendAt(ALMATY_NIGHT, { event: 'ticket.created' }, noon)).toEqual({ at: new Date('2026-12-03T07:01:00.000Z'), quietUntil: null });
    expect(sendAt(ALMATY_NIGHT, { event: 'ticket.sla_warning' }, noon).at.toISOString()).toBe('2026-12-03T07:00:00.000Z');
    // The same hours the other way round (08:00-22:00 quiet) in Moscow.
    const day = { timeZone: 'Europe/Moscow', from: '08:00', to: '22:00' };
    expect(quietUntil(day, new Date('2026-12-03T07:00:00Z'))?.toISOString()).toBe('2026-12-03T19:00:00.000Z');
    expect(quietUntil(day, new Date('2026-12-03T20:00:00Z'))).toBeNull();
  });

  it('makes a digest due once the local digest time passed, named by the local date', () => {
    const route: ChannelRoute = { id: 'pr', events: ['digest'], digest: { at: '09:00', timeZone: 'Asia/Tashkent' } };
    expect(dueDigest(route, new Date('2026-12-03T03:59:00Z'))).toBeNull();
    const due = dueDigest(route, new Date('2026-12-03T04:00:30Z'));
    expect(due).toMatchObject({ date: '2026-12-03' });
    expect(due!.to.getTime() - due!.from.getTime()).toBe(24 * 3_600_000);
    expect(dueDigest({ ...route, digest: null }, new Date('2026-12-03T12:00:00Z'))).toBeNull();
  });
});
