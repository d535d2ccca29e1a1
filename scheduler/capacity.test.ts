import { describe, expect, it } from 'vitest';
import { crawlers } from '../crawlers/registry.ts';
import { busiestHourFires, describeScheduleLoad, estimateScheduleLoad } from './capacity.ts';

const feed = (id: string, host: string, schedule: string) => ({ id, source: 'rss', schedule, params: { url: `https://${host}/feed.xml` } });

describe('schedule load', () => {
  it('counts fires in the busiest hour of a schedule', () => {
    expect(busiestHourFires('*/20 * * * * *')).toBe(180);
    expect(busiestHourFires('*/5 9-18 * * *')).toBe(12);
    expect(busiestHourFires('15 */2 * * *')).toBe(1);
  });

  it('fits 40 feeds on 40 hosts every 20 s into 8 slots, and says nothing', () => {
    const targets = Array.from({ length: 40 }, (_, i) => feed(`f${i}`, `news${i}.example`, '*/20 * * * * *'));
    const load = estimateScheduleLoad({ targets, crawlers, history: new Map(), slots: 8 });
    expect(load).toMatchObject({ targets: 40, crawlsPerMinute: 120, busySlots: 2, slots: 8, overloaded: false });
    expect(describeScheduleLoad(load)).toBeNull();
  });

  it('warns when the crawls take longer than the slots allow, from their recent durations', () => {
    const targets = Array.from({ length: 10 }, (_, i) => feed(`f${i}`, `news${i}.example`, '* * * * *'));
    const history = new Map(targets.map((t) => [t.id, { durationMs: 30_000, pages: 1 }]));
    const load = estimateScheduleLoad({ targets, crawlers, history, slots: 2 });
    expect(load).toMatchObject({ busySlots: 5, overloaded: true });
    expect(describeScheduleLoad(load)).toMatch(/need about 5 crawls at once and the workers run 2/);
  });

  it('warns when one host is asked more than its polite rate', () => {
    const targets = Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, source: 'telegram', schedule: '* * * * *', params: { channel: `channel_${i}` } }));
    const load = estimateScheduleLoad({ targets, crawlers, history: new Map(), slots: 200 });
    expect(load.hosts).toEqual([expect.objectContaining({ host: 't.me', targets: 100, requestsPerSecond: 1.67, politeRate: 1, overloaded: true })]);
    expect(describeScheduleLoad(load)).toMatch(/100 telegram target\(s\) ask 1.67 requests\/s of t\.me, which is polite at 1\/s/);
    expect(describeScheduleLoad({ ...load, slots: 0 })).toMatch(/no worker is running yet/);
  });
});
